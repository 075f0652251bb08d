"""The convrec terminal app: chat, recommendation cards, profile, sessions, settings."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer

from agent import Agent, Recommendation, Reply, Session, Settings
from tui.screens import SessionsScreen, SettingsScreen, StartupScreen
from tui.widgets import ChatPane, ProfilePane, RecommendationCard, RecommendationsPane, StatusBar
from tui.widgets.status import device_label

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
AgentFactory = Callable[[Progress], Agent]
USER_ID = "local"
WELCOME = ("Hi! Tell me about movies you loved or disliked, or what you are in the mood for, "
           "and I'll suggest something.")
NUMBERED = re.compile(r"^\d+\. ")


def reply_text(reply: Reply) -> str:
    """The reply as shown in the chat: numbered picks carry their titles."""
    if reply.kind != "recommendations" or not reply.recommendations:
        return reply.text
    lines = [line for line in reply.text.splitlines() if not NUMBERED.match(line)]
    for i, rec in enumerate(reply.recommendations, 1):
        lines.append(f"{i}. {rec.line()}")
    return "\n".join(lines)


def model_label(agent: Agent) -> str:
    """The model name for the status bar (the backend's name for the scripted fake)."""
    if agent.settings.backend == "scripted":
        return str(getattr(agent.backend, "name", "scripted"))
    return agent.settings.model


def error_text(exc: BaseException) -> str:
    """A readable one-line description of an exception."""
    return str(exc) or type(exc).__name__


class ConvrecApp(App[None]):
    """The chat UI; it is given an agent (or a factory run in a worker), never builds one."""

    TITLE = "convrec"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("ctrl+n", "new_session", "New session"),
        Binding("ctrl+o", "sessions", "Sessions"),
        Binding("f2", "settings", "Settings"),
        Binding("escape", "focus_input", "Chat", show=False),
    ]

    def __init__(self, agent: Agent | None = None,
                 agent_factory: AgentFactory | None = None,
                 session_id: str | None = None) -> None:
        if (agent is None) == (agent_factory is None):
            raise ValueError("give exactly one of `agent` and `agent_factory`")
        super().__init__()
        self.agent: Agent | None = agent
        self.agent_factory = agent_factory
        self.initial_session_id = session_id
        self.session: Session | None = None
        self.busy = False
        self.chat = ChatPane(id="chat")
        self.cards = RecommendationsPane(id="cards")
        self.profile_pane = ProfilePane(id="profile")
        self.status_bar = StatusBar(id="status")
        self.startup_screen = StartupScreen()

    # ---- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield self.chat
            with Vertical(id="side"):
                yield self.cards
                yield self.profile_pane
        yield self.status_bar
        yield Footer()

    def on_mount(self) -> None:
        """Start with the given agent, or build one in a worker behind the start-up screen."""
        if self.agent is not None:
            self._agent_ready(self.agent)
        else:
            self.push_screen(self.startup_screen)
            self.call_after_refresh(self._build_agent)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the session and settings keys until the agent is ready."""
        if action in ("new_session", "sessions", "settings", "focus_input"):
            return self.agent is not None
        return True

    # ---- start-up -------------------------------------------------------------------------
    def _ui(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run `callback` on the UI thread from a worker; a no-op once the app has exited."""
        if not self.is_running:
            return
        try:
            self.call_from_thread(lambda: callback(*args) if self.is_running else None)
        except RuntimeError as exc:  # the app stopped between the check and the call
            log.debug("dropped UI update after exit: %s", exc)

    @work(thread=True, exclusive=True, group="startup", exit_on_error=False)
    def _build_agent(self) -> None:
        assert self.agent_factory is not None
        try:
            agent = self.agent_factory(lambda stage, frac: self._ui(self._progress, stage, frac))
        except Exception as exc:  # noqa: BLE001 - shown on the start-up screen, never a crash
            log.exception("could not build the agent")
            self._ui(self._startup_failed, exc)
            return
        self._ui(self._agent_ready, agent)

    def _progress(self, stage: str, fraction: float) -> None:
        self.startup_screen.set_progress(stage, fraction)

    def _startup_failed(self, exc: BaseException) -> None:
        self.startup_screen.show_error(error_text(exc))
        self.notify(error_text(exc), title="Could not start", severity="error", markup=False)

    def _agent_ready(self, agent: Agent) -> None:
        self.agent = agent
        if self.screen is self.startup_screen:
            self.pop_screen()
        self.refresh_bindings()
        s = agent.settings
        self.status_bar.configure(model_label(agent), agent.catalog.name,
                                  device_label(s.n_gpu_layers))
        if self.initial_session_id is not None:
            self._resume(self.initial_session_id)
        if self.session is None:
            self._new_session()
        self.chat.input.focus()

    # ---- sessions -------------------------------------------------------------------------
    def _title_of(self, item_id: str) -> str:
        assert self.agent is not None
        item = self.agent.catalog.items.get(item_id)
        return item.shown_title if item is not None else item_id

    def _show_profile(self) -> None:
        if self.session is not None:
            self.profile_pane.show_profile(self.session.profile, self._title_of,
                                           self.session.state.remembered)
            self.cards.sync_feedback(dict(self.session.profile.feedback))

    def _new_session(self) -> None:
        assert self.agent is not None
        self.session = self.agent.session(USER_ID)
        self.chat.clear()
        self.chat.add_message("agent", WELCOME)
        self.cards.clear()
        self.status_bar.latency = None
        self._show_profile()

    def _resume(self, session_id: str) -> None:
        """Load a saved session and replay its history into the chat."""
        assert self.agent is not None
        try:
            session = self.agent.session(session_id=session_id)
            history = session.history()
        except Exception as exc:  # noqa: BLE001 - unknown id or unreadable store
            self.notify(error_text(exc), title="Could not resume", severity="error",
                        markup=False)
            return
        self.session = session
        self.chat.clear()
        last_recs: list[Recommendation] = []
        latency: float | None = None
        for turn in history:
            self.chat.add_message("user", turn["user"])
            try:
                reply = Reply.model_validate(turn["reply"])
            except ValueError:
                self.chat.add_message("agent", str(turn["reply"].get("text", "")))
                continue
            self.chat.add_message("agent", reply_text(reply))
            latency = reply.timings.get("total", latency)
            if reply.kind == "recommendations":
                last_recs = reply.recommendations
        if not history:
            self.chat.add_message("agent", WELCOME)
        self.chat.add_message("notice", f"Resumed a session with {len(history)} turns.")
        self.cards.show(last_recs, dict(session.profile.feedback))
        self.status_bar.latency = latency
        self._show_profile()

    def _refuse_if_busy(self) -> bool:
        if self.busy:
            self.notify("Still working on your last message; try again in a moment.",
                        severity="warning")
        return self.busy or self.session is None

    def action_new_session(self) -> None:
        """Start a fresh session."""
        if self.agent is not None and not self._refuse_if_busy():
            self._new_session()
            self.chat.input.focus()

    def action_sessions(self) -> None:
        """Open the saved-sessions screen."""
        if self.agent is None or self._refuse_if_busy():
            return
        current = self.session.id if self.session else None

        def resume(session_id: str | None) -> None:
            if session_id is not None and session_id != current:
                self._resume(session_id)
            self.chat.input.focus()

        self.push_screen(SessionsScreen(self.agent, current), resume)

    def action_settings(self) -> None:
        """Open the settings screen."""
        if self.agent is not None:
            self.push_screen(SettingsScreen(self.agent.settings))

    def action_focus_input(self) -> None:
        """Put the cursor back in the chat input."""
        if self.agent is not None:
            self.chat.input.focus()

    # ---- turns ----------------------------------------------------------------------------
    def on_chat_pane_submitted(self, event: ChatPane.Submitted) -> None:
        """Send the user's message in a worker."""
        if self._refuse_if_busy():
            return
        self.chat.add_message("user", event.text)
        self._start_turn(event.text, None)

    def on_recommendation_card_more_like(self, event: RecommendationCard.MoreLike) -> None:
        """Ask for more like a card's item (session.more_like, in a worker)."""
        if self._refuse_if_busy():
            return
        self.chat.add_message("user", f"More like {event.card.display_title}, please.")
        event.card.feedback = "liked"
        self._start_turn("", event.item_id)

    def _start_turn(self, text: str, more_like: str | None) -> None:
        self.busy = True
        self.status_bar.busy = True
        self.chat.start_reply()
        self._run_turn(text, more_like)

    @work(thread=True, group="turn", exit_on_error=False)
    def _run_turn(self, text: str, more_like: str | None) -> None:
        session = self.session
        assert session is not None
        new_cards: list[Recommendation] = []

        def on_card(rec: Recommendation) -> None:
            # The first card comes again as its draft streams and once more when checked.
            if new_cards and new_cards[-1].item_id == rec.item_id:
                new_cards[-1] = rec
                self._ui(self._card_updated, rec)
                return
            new_cards.append(rec)
            self._ui(self._card_arrived, rec, len(new_cards) == 1)

        def on_text(piece: str) -> None:
            self._ui(self.chat.stream, piece)

        try:
            if more_like is not None:
                reply = session.more_like(more_like, on_text=on_text, on_card=on_card)
            else:
                reply = session.send(text, on_text=on_text, on_card=on_card)
        except Exception as exc:  # noqa: BLE001 - a failed turn is a notice, never a crash
            log.exception("turn failed")
            self._ui(self._turn_failed, exc)
            return
        self._ui(self._turn_done, reply)

    def _card_updated(self, rec: Recommendation) -> None:
        """A card's streamed draft grew, or the check passed, repaired or replaced it."""
        card = self.cards.card_for(rec.item_id)
        if card is None:
            self.cards.add_card(rec)
        else:
            card.update_recommendation(rec)

    def _card_arrived(self, rec: Recommendation, first: bool) -> None:
        if first:
            self.cards.clear()
        self.cards.add_card(rec)

    def _end_turn(self) -> None:
        self.busy = False
        self.status_bar.busy = False

    def _turn_done(self, reply: Reply) -> None:
        self._end_turn()
        self.chat.finish_reply(reply_text(reply))
        shown = reply_text(reply)
        for notice in reply.notices:
            if notice not in shown:
                self.chat.add_message("notice", notice)
        if reply.kind == "recommendations":
            ids = [c.recommendation.item_id for c in self.cards.cards]
            if ids != [r.item_id for r in reply.recommendations]:
                self.cards.show(reply.recommendations, dict(reply.profile.feedback))
        self.status_bar.latency = reply.timings.get("total")
        self._show_profile()

    def _turn_failed(self, exc: BaseException) -> None:
        self._end_turn()
        self.chat.finish_reply(f"Sorry, that turn failed: {error_text(exc)}", failed=True)
        self.notify(error_text(exc), title=f"Turn failed ({type(exc).__name__})",
                    severity="error", markup=False)
        self._show_profile()

    # ---- feedback and beliefs -------------------------------------------------------------
    def on_recommendation_card_feedback(self, event: RecommendationCard.Feedback) -> None:
        """Record liked / not for me / seen for a card's item."""
        if self._refuse_if_busy():
            return
        assert self.session is not None
        try:
            self.session.feedback(event.item_id, event.kind)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
            self.notify(error_text(exc), title="Feedback not saved", severity="error",
                        markup=False)
            return
        self._show_profile()

    def on_profile_pane_remove_requested(self, event: ProfilePane.RemoveRequested) -> None:
        """Remove a belief the user says is wrong."""
        if self._refuse_if_busy():
            return
        assert self.session is not None
        try:
            changed = self.session.remove_belief(event.kind, event.value)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
            self.notify(error_text(exc), title="Not removed", severity="error", markup=False)
            return
        self._show_profile()
        self.notify(f"Forgot: {event.label}" if changed else f"Nothing to forget: {event.label}",
                    severity="information" if changed else "warning", markup=False)


@contextmanager
def _logs_to_file(path: Path) -> Iterator[None]:
    """Send log records to a file while the TUI owns the terminal (console handlers paused)."""
    root = logging.getLogger()
    console = [h for h in root.handlers if isinstance(h, logging.StreamHandler)
               and not isinstance(h, logging.FileHandler)
               and getattr(h, "stream", None) in (sys.stderr, sys.stdout)]
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for h in console:
        root.removeHandler(h)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for h in console:
            root.addHandler(h)


def run_tui(settings: Settings, session_id: str | None = None) -> None:
    """Run the chat UI; the agent is built in a worker while the start-up screen shows progress.

    Log records go to `<cache>/tui.log` while the UI runs, so they never draw over it.
    """

    def factory(progress: Progress) -> Agent:
        return Agent.from_settings(settings, progress=progress)

    with _logs_to_file(settings.resolved_cache_dir() / "tui.log"):
        ConvrecApp(agent_factory=factory, session_id=session_id).run()
