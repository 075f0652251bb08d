"""The sessions screen: list saved sessions, resume one (enter) or delete one (delete/x)."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from agent import Agent


def describe(agent: Agent, info: dict[str, Any]) -> str:
    """One line per session: when, who, how many turns, how it started."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info["updated"]))
    try:
        turns = agent.session(session_id=info["id"]).history()
    except KeyError:
        turns = []
    first = " ".join(turns[0]["user"].split())[:48] if turns else "(no messages)"
    return f"{when}  {info['id']}  {info['user_id']}  {len(turns)} turns  “{first}”"


class SessionsScreen(ModalScreen[str | None]):
    """Pick a saved session; dismisses with its id (resume) or None."""

    DEFAULT_CSS = """
    SessionsScreen { align: center middle; }
    SessionsScreen #sessions-box {
        width: 90%; max-width: 110; height: 80%; border: round $accent; padding: 0 1;
        background: $surface;
    }
    SessionsScreen #sessions-help { color: $text-muted; margin-bottom: 1; }
    SessionsScreen OptionList { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "dismiss_none", "Close"),
        Binding("delete", "delete", "Delete"),
        Binding("x", "delete", "Delete", show=False),
    ]

    def __init__(self, agent: Agent, current_id: str | None = None) -> None:
        super().__init__()
        self.agent = agent
        self.current_id = current_id

    def compose(self) -> ComposeResult:
        with Vertical(id="sessions-box") as box:
            box.border_title = "Saved sessions"
            yield Static("enter: resume   delete/x: delete   escape: back", id="sessions-help")
            yield OptionList(id="sessions-list", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Fill the list."""
        self.refresh_list()
        self.query_one(OptionList).focus()

    @property
    def session_ids(self) -> list[str]:
        """The ids listed, newest first."""
        return [o.id for o in self.query_one(OptionList).options if o.id and not o.disabled]

    def refresh_list(self) -> None:
        """Re-read the saved sessions."""
        listing = self.query_one(OptionList)
        rows = [Option(("▶ " if s["id"] == self.current_id else "  ") + describe(self.agent, s),
                       id=s["id"]) for s in self.agent.sessions()]
        listing.set_options(rows or [Option("No saved sessions yet.", disabled=True)])
        if rows:
            listing.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Resume the chosen session."""
        if event.option.id:
            self.dismiss(event.option.id)

    def action_delete(self) -> None:
        """Delete the highlighted session (not the one in use)."""
        option = self.query_one(OptionList).highlighted_option
        if option is None or not option.id:
            return
        if option.id == self.current_id:
            self.notify("That is the session in use: start a new one (ctrl+n) first.",
                        severity="warning", markup=False)
            return
        try:
            deleted = self.agent.delete_session(option.id)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
            self.notify(str(exc) or type(exc).__name__, title="Could not delete",
                        severity="error", markup=False)
            return
        self.notify(f"Deleted session {option.id}." if deleted else "Already gone.",
                    markup=False)
        self.refresh_list()

    def action_dismiss_none(self) -> None:
        """Close without resuming."""
        self.dismiss(None)
