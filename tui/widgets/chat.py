"""The chat pane: the conversation so far, the reply being streamed, and the message input."""

from __future__ import annotations

from typing import Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

Role = Literal["user", "agent", "notice"]
THINKING = "…"


class ChatMessage(Static):
    """One message of the conversation (plain text, never markup)."""

    DEFAULT_CSS = """
    ChatMessage {
        height: auto;
        margin: 0 0 1 0;
        padding: 0 1;
    }
    ChatMessage.-user { border-left: wide $accent; background: $boost; }
    ChatMessage.-agent { border-left: wide $success; }
    ChatMessage.-notice { color: $text-muted; text-style: italic; margin: 0 0 1 2; }
    ChatMessage.-failed { border-left: wide $error; color: $text-muted; }
    """

    def __init__(self, role: Role, text: str = "") -> None:
        super().__init__(markup=False, classes=f"-{role}")
        self.role: Role = role
        self.text = text
        self.update(text or THINKING)

    def set_text(self, text: str) -> None:
        """Replace the whole message."""
        self.text = text
        self.update(text or THINKING)

    def append(self, piece: str) -> None:
        """Add a streamed piece of text."""
        self.set_text(self.text + piece)


class ChatPane(Vertical):
    """The conversation log with the input at the bottom; posts `ChatPane.Submitted`."""

    DEFAULT_CSS = """
    ChatPane { height: 1fr; }
    ChatPane > #chat-log { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    ChatPane > #chat-input { dock: bottom; }
    """
    BINDINGS = [
        Binding("pageup", "scroll_log(-1)", "Scroll up", show=False),
        Binding("pagedown", "scroll_log(1)", "Scroll down", show=False),
    ]

    class Submitted(Message):
        """The user sent a (non-empty) message."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._streaming: ChatMessage | None = None

    def compose(self) -> ComposeResult:
        log = VerticalScroll(id="chat-log")
        log.can_focus = False
        yield log
        yield Input(placeholder="Tell me about movies you like, then press enter",
                    id="chat-input")

    @property
    def input(self) -> Input:
        """The message input."""
        return self.query_one("#chat-input", Input)

    @property
    def log_view(self) -> VerticalScroll:
        """The scrolling message log."""
        return self.query_one("#chat-log", VerticalScroll)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Turn the input's text into a `Submitted` message and clear the input."""
        event.stop()
        text = event.value.strip()
        if text:
            event.input.value = ""
            self.post_message(self.Submitted(text))

    def add_message(self, role: Role, text: str) -> ChatMessage:
        """Append a finished message to the log."""
        message = ChatMessage(role, text)
        self.log_view.mount(message)
        self.log_view.scroll_end(animate=False)
        return message

    def start_reply(self) -> ChatMessage:
        """Append an empty agent message that streamed text will fill."""
        self._streaming = self.add_message("agent", "")
        return self._streaming

    def stream(self, piece: str) -> None:
        """Append a streamed piece to the reply in progress."""
        if self._streaming is None:
            self.start_reply()
        assert self._streaming is not None
        self._streaming.append(piece)
        self.log_view.scroll_end(animate=False)

    def finish_reply(self, text: str, failed: bool = False) -> None:
        """Replace the streamed reply with the final text."""
        message = self._streaming or self.add_message("agent", "")
        message.set_text(text)
        message.set_class(failed, "-failed")
        self._streaming = None
        self.log_view.scroll_end(animate=False)

    def clear(self) -> None:
        """Remove every message."""
        self._streaming = None
        self.log_view.remove_children()

    def transcript(self) -> list[tuple[Role, str]]:
        """The messages shown, as (role, text) pairs."""
        return [(m.role, m.text) for m in self.log_view.query(ChatMessage)]

    def action_scroll_log(self, direction: int) -> None:
        """Scroll the log by a page."""
        if direction < 0:
            self.log_view.scroll_page_up()
        else:
            self.log_view.scroll_page_down()
