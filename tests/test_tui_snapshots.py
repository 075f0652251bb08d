"""Reviewed SVG snapshots of the TUI: a recommendation turn, start-up progress, an error notice.

Regenerate with `pytest tests/test_tui_snapshots.py --snapshot-update` and review the SVGs in
tests/__snapshots__/test_tui_snapshots/ before keeping them. The status bar's latency is
fixed (`StatusBar.fixed_latency`) and no session id or time is on screen, so they are stable.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from test_tui import FIRST_TURN, FailingBackend, build_agent, top_items, variant, without_memories
from textual.pilot import Pilot

from agent import Agent
from catalog import Catalog
from tui import ConvrecApp

SIZE = (120, 36)
SnapCompare = Callable[..., bool]


@pytest.fixture
def tui_agent(tmp_path_factory: pytest.TempPathFactory, ml100k: Catalog) -> Agent:
    """The agent test_tui builds (same cache dir, so built once per run), no user memory yet."""
    return without_memories(build_agent(tmp_path_factory.getbasetemp() / "tui-agent",
                                        top_items(ml100k)))


async def send_first_turn(pilot: Pilot[None]) -> None:
    """Fix the latency shown, send the first message, wait for the turn to end."""
    app = pilot.app
    assert isinstance(app, ConvrecApp)
    app.status_bar.fixed_latency = 0.42
    app.chat.input.value = FIRST_TURN
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


def test_main_screen_after_a_recommendation_turn(snap_compare: SnapCompare,
                                                 tui_agent: Agent) -> None:
    """Chat with the streamed reply, five cards (the first selected, evidence open), the
    profile (liked movies, disliked genre) and the status bar with a fixed latency."""
    assert snap_compare(ConvrecApp(agent=tui_agent), run_before=send_first_turn,
                        press=["tab", "e"], terminal_size=SIZE)


def test_startup_screen_shows_progress(snap_compare: SnapCompare, tui_agent: Agent) -> None:
    """The start-up screen while the factory is stuck in the 'tools' stage at 20 %."""
    app: ConvrecApp

    def factory(progress: Callable[[str, float], None]) -> Agent:
        progress("catalog", 0.0)
        progress("tools", 0.2)
        deadline = time.monotonic() + 30
        while app.is_running and time.monotonic() < deadline:  # hold until the shot is taken
            time.sleep(0.02)
        raise RuntimeError("stopped by the test")

    app = ConvrecApp(agent_factory=factory)

    async def wait_for_progress(pilot: Pilot[None]) -> None:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.startup_screen.fraction > 0.1:
                return

    assert snap_compare(app, run_before=wait_for_progress, terminal_size=SIZE)


def test_error_notice_after_a_failed_turn(snap_compare: SnapCompare, tui_agent: Agent) -> None:
    """A backend crash during a turn: a readable error toast and a failed reply in the chat."""
    app = ConvrecApp(agent=variant(tui_agent, backend=FailingBackend()))
    assert snap_compare(app, run_before=send_first_turn, terminal_size=SIZE)
