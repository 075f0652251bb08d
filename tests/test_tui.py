"""The Textual chat UI driven with Pilot on the keyword-matching fake LLM backend."""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent import Agent, Settings, load_settings
from agent.testing import keyword_backend
from catalog import Catalog
from catalog.models import Interactions
from tui import ConvrecApp
from tui.screens import SessionsScreen, SettingsScreen, StartupScreen
from tui.widgets import ProfilePane
from tui.widgets.profile import REMEMBERED

# The UI tests run on the 300 most-rated ml-100k movies (and their ratings and KG edges):
# building the tools for them takes ~30 s instead of minutes, and the dialogue below only
# needs well-known titles (Alien, Star Wars, ...).
SUBSET_SIZE = 300
FIRST_TURN = "I loved Alien and Star Wars, nothing with horror"


def top_items(catalog: Catalog, n: int = SUBSET_SIZE) -> Catalog:
    """The n most-rated items of a catalog with their interactions and KG triples."""
    pop = catalog.popularity()
    keep = set(sorted(pop, key=lambda i: (-pop[i], i))[:n])
    mask = np.isin(catalog.interactions.item_ids.astype(str), list(keep))
    inter = Interactions(catalog.interactions.user_ids[mask], catalog.interactions.item_ids[mask],
                         catalog.interactions.ratings[mask])

    def kept(node: str) -> bool:
        return not node.startswith("item:") or node[5:] in keep

    triples = [t for t in catalog.triples if kept(t.head) and kept(t.tail)]
    return Catalog(name=f"{catalog.name}-top{n}", items={i: catalog.items[i] for i in keep},
                   interactions=inter, triples=triples, entity_names=catalog.entity_names)


_AGENTS: dict[Path, Agent] = {}


def build_agent(cache_dir: Path, catalog: Catalog) -> Agent:
    """One agent per cache dir, so test_tui_snapshots reuses the one built here."""
    if cache_dir not in _AGENTS:
        settings = Settings(backend="scripted", cache_dir=cache_dir, catalog="ml-100k")
        _AGENTS[cache_dir] = Agent.from_settings(settings, backend=keyword_backend(catalog),
                                                 catalog=catalog)
    return _AGENTS[cache_dir]


@pytest.fixture(scope="session")
def tui_catalog(ml100k: Catalog) -> Catalog:
    """The ml-100k subset the UI tests use."""
    return top_items(ml100k)


def without_memories(agent: Agent) -> Agent:
    """The shared agent after forgetting what earlier tests taught it about every user, so a
    test's first turn is never greeted with "Welcome back"."""
    users = {"local"} | {s["user_id"] for s in agent.store.list_sessions()}
    for user in users:
        agent.store.forget(user)
    return agent


@pytest.fixture
def tui_agent(tmp_path_factory: pytest.TempPathFactory, tui_catalog: Catalog) -> Agent:
    """The shared agent (tools built once per test run), with no user memory yet."""
    return without_memories(build_agent(tmp_path_factory.getbasetemp() / "tui-agent",
                                        tui_catalog))


def variant(agent: Agent, *, backend: object | None = None,
            cache_dir: Path | None = None) -> Agent:
    """The shared agent with another backend or cache dir (the tools are reused)."""
    settings = agent.settings.model_copy(update={"cache_dir": cache_dir}) if cache_dir \
        else agent.settings
    return Agent(settings, agent.catalog, backend or agent.backend,  # type: ignore[arg-type]
                 agent.tools, agent.store)


async def send(app: ConvrecApp, pilot: object, text: str) -> None:
    """Type a message, press enter and wait until the turn has finished."""
    app.chat.input.focus()
    app.chat.input.value = text
    await pilot.press("enter")  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


def record_notifications(app: ConvrecApp) -> list[tuple[str, str]]:
    """Capture (severity, message) of every notification the app shows."""
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        seen.append((kwargs.get("severity", "information"), message))
        original(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return seen


# --- a whole conversation -----------------------------------------------------------------------

async def test_conversation_feedback_beliefs_and_sessions(tui_agent: Agent) -> None:
    app = ConvrecApp(agent=tui_agent)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.status_bar.plain.startswith("model scripted │ catalog ml-100k-top300 │ CPU")
        await send(app, pilot, FIRST_TURN)
        session = app.session
        assert session is not None
        transcript = app.chat.transcript()
        assert transcript[-2] == ("user", FIRST_TURN)
        assert transcript[-1][1].startswith("Here are some picks for you:")
        cards = app.cards.cards
        assert len(cards) == tui_agent.settings.n_recommendations
        assert "Alien" not in [c.recommendation.title for c in cards]
        assert "Aliens (1986)" in transcript[-1][1]
        assert "last turn" in app.status_bar.plain and "—" not in app.status_bar.plain
        assert "Star Wars (1977)" in app.profile_pane.lines()
        assert "horror (genre)" in app.profile_pane.lines()

        # select the first card (tab from the input), like it; down, dislike; down, seen
        await pilot.press("tab")
        assert app.focused is cards[0]
        await pilot.press("l")
        await pilot.press("down", "d", "down", "s")
        await pilot.pause()
        first, second, third = cards[0], cards[1], cards[2]
        assert "♥ liked" in first.plain and first.has_class("-liked")
        assert "✗ not for me" in second.plain
        assert "◉ seen it" in third.plain
        assert session.profile.feedback == {first.recommendation.item_id: "liked",
                                            second.recommendation.item_id: "disliked",
                                            third.recommendation.item_id: "seen"}
        lines = app.profile_pane.lines()
        liked_at, not_for_me_at = lines.index("── Liked movies"), lines.index("── Not for me")
        assert first.display_title in lines[liked_at:not_for_me_at]
        assert second.display_title in lines[not_for_me_at:]
        assert "── Seen" in lines and third.display_title in lines

        # evidence: one line per Evidence, with its tool name
        await pilot.press("e")
        assert "▾ evidence" in third.plain
        for ev in third.recommendation.evidence:
            assert f"{ev.tool} · " in third.plain and ev.text in third.plain
        await pilot.press("e")
        assert "▸ evidence" in third.plain

        # remove a belief: the disliked genre (select it in the profile pane, press x)
        app.profile_pane.focus()
        target = next(i for i, o in enumerate(app.profile_pane.options)
                      if o.id == "disliked_entity|genre:horror")
        app.profile_pane.highlighted = target
        await pilot.press("x")
        await pilot.pause()
        assert "genre:horror" not in session.profile.disliked_entities
        assert "horror (genre)" not in app.profile_pane.lines()
        # and a liked item with delete: the card loses its badge
        app.profile_pane.highlighted = next(
            i for i, o in enumerate(app.profile_pane.options)
            if o.id == f"liked_item|{first.recommendation.item_id}")
        await pilot.press("delete")
        await pilot.pause()
        assert first.recommendation.item_id not in session.profile.liked_ids()
        assert "♥ liked" not in first.plain
        assert ("liked_item", first.recommendation.item_id, first.display_title) \
            not in app.profile_pane.beliefs()

        # a second turn with a constraint: new cards, all from the 1980s
        await send(app, pilot, "Something from the 1980s")
        assert {"from 1980", "until 1989"} <= set(app.profile_pane.lines())
        last_cards = [c.recommendation for c in app.cards.cards]
        assert len(last_cards) == 5 and all(1980 <= (r.year or 0) <= 1989 for r in last_cards)
        assert not {r.item_id for r in last_cards} & {c.recommendation.item_id for c in cards}
        old_id, old_transcript = session.id, app.chat.transcript()

        # new session: empty chat (welcome only), no cards; the profile holds only what the
        # user's memory brought from the first session, each belief marked remembered
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.session is not None and app.session.id != old_id
        assert [role for role, _ in app.chat.transcript()] == ["agent"]
        assert app.cards.cards == []
        assert all(label.endswith(REMEMBERED) for _, _, label in app.profile_pane.beliefs())
        assert first.recommendation.item_id not in app.session.profile.liked_ids()  # forgotten

        # resume the old one from the sessions screen: history back in the chat
        await pilot.press("ctrl+o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        assert old_id in screen.session_ids
        listing = screen.query_one("#sessions-list")
        listing.highlighted = screen.session_ids.index(old_id)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, SessionsScreen)
        assert app.session.id == old_id
        resumed = app.chat.transcript()
        assert ("user", FIRST_TURN) in resumed and ("user", "Something from the 1980s") in resumed
        assert [t for t in resumed if t[0] == "agent"] == \
            [t for t in old_transcript if t[0] == "agent"][1:]  # the welcome is not replayed
        assert resumed[-1] == ("notice", "Resumed a session with 2 turns.")
        assert [c.recommendation for c in app.cards.cards] == last_cards
        lines = app.profile_pane.lines()
        assert second.display_title in lines[lines.index("── Not for me"):]
        assert "from 1980" in lines and "horror (genre)" not in lines
        assert app.session.profile == session.profile


async def test_more_like_runs_a_turn_and_marks_the_item_liked(tui_agent: Agent) -> None:
    app = ConvrecApp(agent=tui_agent)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(app, pilot, FIRST_TURN)
        card = app.cards.cards[0]
        item_id = card.recommendation.item_id
        card.focus()
        await pilot.press("m")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.session is not None
        assert item_id in app.session.profile.liked_ids()
        assert card.display_title in app.profile_pane.lines()
        assert ("user", f"More like {card.display_title}, please.") in app.chat.transcript()
        assert item_id not in [c.recommendation.item_id for c in app.cards.cards]
        assert len(app.session.history()) == 2


async def test_delete_session_from_sessions_screen(tui_agent: Agent) -> None:
    app = ConvrecApp(agent=tui_agent)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(app, pilot, "I loved Fargo")
        old_id = app.session.id  # type: ignore[union-attr]
        await pilot.press("ctrl+n", "ctrl+o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        screen.query_one("#sessions-list").highlighted = \
            screen.session_ids.index(old_id)  # type: ignore[attr-defined]
        await pilot.press("x")
        await pilot.pause()
        assert old_id not in screen.session_ids
        assert old_id not in [s["id"] for s in tui_agent.sessions()]
        await pilot.press("escape")
        assert not isinstance(app.screen, SessionsScreen)


class FailingBackend:
    """A backend whose model crashes (not a BackendError, so the turn raises)."""

    name = "failing"

    def chat(self, messages: object, **kwargs: object) -> object:
        raise RuntimeError("llama_decode failed: out of memory")


async def test_a_failing_turn_is_a_notice_not_a_crash(tui_agent: Agent) -> None:
    app = ConvrecApp(agent=variant(tui_agent, backend=FailingBackend()))
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(app, pilot, FIRST_TURN)
        assert app.is_running and not app.busy
        assert ("error", "llama_decode failed: out of memory") in notes
        assert app.chat.transcript()[-1] == (
            "agent", "Sorry, that turn failed: llama_decode failed: out of memory")
        await send(app, pilot, "still there?")  # the app keeps working
        assert app.chat.transcript()[-2] == ("user", "still there?")


# --- start-up ---------------------------------------------------------------------------------

async def test_startup_screen_shows_real_progress(tui_agent: Agent) -> None:
    release = threading.Event()

    def factory(progress: Callable[[str, float], None]) -> Agent:
        progress("catalog", 0.0)
        progress("tools", 0.2)
        release.wait(10)
        progress("model", 0.6)
        return tui_agent

    app = ConvrecApp(agent_factory=factory)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(50):
            await pilot.pause(0.05)
            if isinstance(app.screen, StartupScreen) and app.screen.fraction > 0.1:
                break
        screen = app.screen
        assert isinstance(screen, StartupScreen)
        assert screen.fraction == pytest.approx(0.2)
        assert screen.stage_text.startswith("Opening the recommendation tools")
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, StartupScreen)
        assert app.agent is tui_agent and app.session is not None
        assert "catalog ml-100k-top300" in app.status_bar.plain


async def test_startup_failure_is_shown_not_raised() -> None:
    def factory(progress: Callable[[str, float], None]) -> Agent:
        progress("catalog", 0.0)
        raise RuntimeError("ml-100k is not installed -- fix: run `convrec setup`")

    app = ConvrecApp(agent_factory=factory)
    notes = record_notifications(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, StartupScreen)
        error = str(app.screen.query_one("#startup-error").content)  # type: ignore[attr-defined]
        assert "convrec setup" in error
        assert [severity for severity, _ in notes] == ["error"]
        await pilot.press("q")
    assert not app.is_running


async def test_resume_session_given_at_start(tui_agent: Agent) -> None:
    session = tui_agent.session("local")
    session.send(FIRST_TURN)
    app = ConvrecApp(agent=tui_agent, session_id=session.id)
    async with app.run_test(size=(120, 40)):
        assert app.session is not None and app.session.id == session.id
        assert ("user", FIRST_TURN) in app.chat.transcript()
        assert len(app.cards.cards) == 5


def test_exactly_one_of_agent_and_factory(tui_agent: Agent) -> None:
    with pytest.raises(ValueError):
        ConvrecApp()
    with pytest.raises(ValueError):
        ConvrecApp(agent=tui_agent, agent_factory=lambda progress: tui_agent)


# --- settings ---------------------------------------------------------------------------------

async def test_settings_screen_saves_config_for_next_start(tui_agent: Agent,
                                                           tmp_path: Path) -> None:
    agent = variant(tui_agent, cache_dir=tmp_path / "cache")
    app = ConvrecApp(agent=agent)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        texts = " ".join(str(w.content) for w in screen.query("Static"))  # type: ignore[attr-defined]
        assert "next time you start" in texts and "n_gpu_layers 0 (CPU)" in texts
        screen.query_one("#set-gpu").value = "-1"  # type: ignore[attr-defined]
        screen.query_one("#set-model").value = "other.gguf"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
    path = tmp_path / "cache" / "config.toml"
    assert tomllib.loads(path.read_text()) == {"model": "other.gguf", "catalog": "ml-100k",
                                               "n_gpu_layers": -1}
    assert agent.settings.n_gpu_layers == 0  # the running agent is untouched


async def test_saved_settings_are_what_load_settings_reads(tui_agent: Agent, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Save in the TUI with --cache-dir set, then load_settings(cache_dir=...) reads them back."""
    monkeypatch.delenv("CONVREC_CONFIG", raising=False)
    monkeypatch.setenv("CONVREC_HOME", str(tmp_path / "home"))  # a home config must not be used
    cache = tmp_path / "cache"
    started = load_settings(cache_dir=cache, backend="scripted", catalog="ml-100k")
    assert started.config_file() == cache / "config.toml" and started.n_gpu_layers == 0
    app = ConvrecApp(agent=Agent(started, tui_agent.catalog, tui_agent.backend,
                                 tui_agent.tools, tui_agent.store))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SettingsScreen) and screen.config_path == cache / "config.toml"
        screen.query_one("#set-gpu").value = "7"  # type: ignore[attr-defined]
        screen.query_one("#set-model").value = "other.gguf"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
    loaded = load_settings(cache_dir=cache)
    assert (loaded.n_gpu_layers, loaded.model, loaded.catalog) == (7, "other.gguf", "ml-100k")
    assert load_settings(cache_dir=tmp_path / "elsewhere").n_gpu_layers == 0


def test_status_says_gpu_only_when_the_build_can_offload(monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    from tui.widgets.status import device_label

    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: False)
    assert (device_label(0), device_label(-1)) == ("CPU", "CPU")
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    assert (device_label(0), device_label(-1)) == ("CPU", "GPU")


async def test_settings_screen_rejects_a_bad_value(tui_agent: Agent, tmp_path: Path) -> None:
    app = ConvrecApp(agent=variant(tui_agent, cache_dir=tmp_path / "cache"))
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        app.screen.query_one("#set-model").value = ""  # type: ignore[attr-defined]
        app.screen.query_one("#set-gpu").value = "lots"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert notes and notes[-1][0] == "error" and "whole number" in notes[-1][1]
    assert not (tmp_path / "cache" / "config.toml").exists()


async def test_ui_stays_responsive_during_a_slow_turn(tui_agent: Agent) -> None:
    """A turn blocked in the backend does not block key handling (it runs in a worker)."""
    gate = threading.Event()
    inner = tui_agent.backend

    class SlowBackend:
        name = "slow"

        def chat(self, messages: object, **kwargs: object) -> object:
            gate.wait(10)
            return inner.chat(messages, **kwargs)  # type: ignore[arg-type]

    app = ConvrecApp(agent=variant(tui_agent, backend=SlowBackend()))
    async with app.run_test(size=(120, 40)) as pilot:
        app.chat.input.value = FIRST_TURN
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.busy and "thinking" in app.status_bar.plain
        started = time.perf_counter()
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert time.perf_counter() - started < 2
        await pilot.press("escape")
        app.chat.input.value = "another message"
        await pilot.press("enter")  # refused politely while busy
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.busy and len(app.cards.cards) == 5
        assert ("user", "another message") not in app.chat.transcript()


def test_profile_pane_lists_every_belief_kind() -> None:
    from agent import LinkedItem, UserProfile

    profile = UserProfile(liked_items=[LinkedItem(item_id="1", title="Toy Story (1995)")],
                          disliked_entities=["genre:horror"], liked_entities=["person:Ridley Scott"],
                          keywords=["space"], feedback={"2": "seen", "3": "disliked"})
    profile.constraints = profile.constraints.model_copy(update={"year_min": 1980})
    pane = ProfilePane()
    pane.show_profile(profile, lambda i: f"Title {i}")
    assert pane.beliefs() == [
        ("liked_item", "1", "Toy Story (1995)"),
        ("disliked_item", "3", "Title 3"),
        ("liked_entity", "person:Ridley Scott", "Ridley Scott (person)"),
        ("disliked_entity", "genre:horror", "horror (genre)"),
        ("keyword", "space", "space"),
        ("constraint", "year_min", "from 1980"),
    ]
    assert "Title 2" in pane.lines()  # seen: shown, not removable
