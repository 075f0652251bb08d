"""The start-up screen: real progress of building the agent (catalog, tools, model)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle, Vertical
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static

STAGES: dict[str, str] = {
    "catalog": "Loading the catalog",
    "tools": "Opening the recommendation tools (the first run indexes the catalog)",
    "model": "Loading the language model",
    "ready": "Ready",
}


class StartupScreen(Screen[None]):
    """Shows the stage and fraction reported by the agent factory, or why it failed."""

    DEFAULT_CSS = """
    StartupScreen { align: center middle; }
    StartupScreen #startup-box {
        width: 72; height: auto; padding: 1 2; border: round $primary;
    }
    StartupScreen #startup-title { text-style: bold; color: $accent; margin-bottom: 1; }
    StartupScreen #startup-stage { margin-bottom: 1; }
    StartupScreen #startup-error { color: $error; margin-top: 1; display: none; }
    StartupScreen ProgressBar Bar { width: 1fr; }
    StartupScreen ProgressBar { width: 100%; }
    """
    BINDINGS = [("q", "app.quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self._stage = "Starting"
        self._fraction = 0.0
        self._error: str | None = None

    def compose(self) -> ComposeResult:
        with Middle(), Center(), Vertical(id="startup-box"):
            yield Static("convrec: getting ready", id="startup-title")
            yield Static("Starting…", id="startup-stage", markup=False)
            yield ProgressBar(total=100, show_eta=False, id="startup-progress")
            yield Static("", id="startup-error", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Show what was reported before the screen was mounted."""
        self._show()

    @property
    def stage_text(self) -> str:
        """The stage line shown."""
        return str(self.query_one("#startup-stage", Static).content)

    @property
    def fraction(self) -> float:
        """Progress shown, 0..1."""
        return float(self.query_one(ProgressBar).progress) / 100

    def set_progress(self, stage: str, fraction: float) -> None:
        """Show a progress report from the agent factory."""
        self._stage = STAGES.get(stage, stage)
        self._fraction = max(0.0, min(1.0, fraction))
        self._show()

    def show_error(self, message: str) -> None:
        """Show why the agent could not be built."""
        self._error = message
        self._show()

    def _show(self) -> None:
        if not self.is_mounted:
            return
        stage = self.query_one("#startup-stage", Static)
        stage.update("Could not start." if self._error else self._stage + "…")
        self.query_one(ProgressBar).update(progress=self._fraction * 100)
        error = self.query_one("#startup-error", Static)
        error.update(f"{self._error}\n\nPress q to quit." if self._error else "")
        error.display = self._error is not None
