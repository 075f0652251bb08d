"""Long-term interest memory: facts, decay, corrections, and two-session dialogues."""

from __future__ import annotations

import threading

import pytest

from agent.memory import (
    DAY,
    Fact,
    UserMemory,
    forget_belief,
    forget_in_store,
    merge_facts,
    seed_profile,
)
from agent.profile import UserProfile
from agent.testing import keyword_backend

ALIEN, BLADE_RUNNER, STAR_WARS, FARGO = "183", "89", "50", "100"
SESSION_1 = ["I loved Alien and Blade Runner", "I hate horror", "recommend something",
             "seen it", "not my thing"]


def fact(key: str, polarity: str, at: float, source: str = "said", kind: str = "item",
         strength: float = 1.0) -> Fact:
    return Fact(key=key, kind=kind, polarity=polarity, source=source, at=at,  # type: ignore[arg-type]
                label=key, strength=strength)


# ---- the model ----------------------------------------------------------------------------
def test_weight_halves_every_half_life_and_zero_means_no_decay() -> None:
    f = fact("1", "liked", at=0.0)
    assert f.weight(30 * DAY, 30) == pytest.approx(0.5)
    assert f.weight(90 * DAY, 30) == pytest.approx(0.125)
    assert f.weight(900 * DAY, 0) == 1.0


def test_newer_fact_wins_and_inferred_never_overrides_explicit() -> None:
    m = UserMemory()
    m.add(fact("1", "liked", at=10.0))
    assert not m.add(fact("1", "disliked", at=5.0))  # older: ignored
    assert m.add(fact("1", "disliked", at=20.0))  # a correction
    assert m.facts["1"].polarity == "disliked"
    assert not m.add(fact("1", "liked", at=30.0, source="inferred"))
    assert m.facts["1"].polarity == "disliked"
    assert m.add(fact("1", "liked", at=40.0, source="button"))
    assert m.facts["1"].polarity == "liked"


def test_seeding_excludes_seen_and_disliked_and_keeps_the_heaviest_likes() -> None:
    now = 100 * DAY
    m = UserMemory()
    for i in range(15):  # likes 0..14, newer = larger i
        m.add(fact(f"L{i}", "liked", at=now - (15 - i) * 10 * DAY))
    m.add(fact("S", "seen", at=0.0))
    m.add(fact("D", "disliked", at=0.0))
    m.add(fact("genre:horror", "disliked", at=now - DAY, kind="entity"))
    p = UserProfile()
    seeded = seed_profile(p, m, now, half_life_days=30, max_likes=5, min_weight=0.25)
    assert {"S", "D"} <= p.excluded_ids()  # seen and disliked items, however old
    assert [i.item_id for i in p.liked_items] == ["L14", "L13", "L12", "L11", "L10"]
    assert "horror" in p.to_inputs().constraints.genres_excluded
    assert seeded["genre:horror"] == "disliked"
    p2 = UserProfile()
    seed_profile(p2, m, now, half_life_days=30, max_likes=20, min_weight=0.25)
    assert len(p2.liked_items) == 6  # older likes faded under min_weight (age <= 60 d kept)


def test_damaged_memory_reads_as_empty() -> None:
    assert UserMemory.from_stored({"facts": {"x": {"key": 3}}}).facts == {}
    assert merge_facts(None, [fact("1", "seen", 1.0)])["facts"]["1"]["polarity"] == "seen"


# ---- two-session dialogues on the fake backend ----------------------------------------------
@pytest.fixture(scope="module")
def fake_agent(ml100k, ml100k_agent_factory):  # type: ignore[no-untyped-def]
    return ml100k_agent_factory(keyword_backend(ml100k))


@pytest.fixture(scope="module")
def no_memory_agent(ml100k, ml100k_agent_factory):  # type: ignore[no-untyped-def]
    return ml100k_agent_factory(keyword_backend(ml100k), memory=False)


def _first_session(agent, user: str):  # type: ignore[no-untyped-def]
    s = agent.session(user)
    replies = [s.send(text) for text in SESSION_1]
    return s, replies


def _ids(reply) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.item_id for r in reply.recommendations]


def test_second_session_excludes_seen_and_disliked_and_leans_to_likes(fake_agent, ml100k) -> None:  # type: ignore[no-untyped-def]
    s1, replies = _first_session(fake_agent, "ann")
    seen = replies[2].recommendations[0].item_id  # "seen it": the top card of turn 3
    disliked = replies[3].recommendations[0].item_id  # "not my thing": the top card of turn 4
    assert s1.profile.feedback[seen] == "seen" and s1.profile.feedback[disliked] == "disliked"
    stored = UserMemory.from_stored(fake_agent.store.load_memory("ann"))
    assert stored.facts[seen].polarity == "seen" and stored.facts[seen].source == "said"
    assert stored.facts[ALIEN].polarity == "liked"
    assert stored.facts["genre:horror"].polarity == "disliked"

    s2 = fake_agent.session("ann")
    assert s2.id != s1.id
    reply = s2.send("any ideas?")
    assert reply.kind == "recommendations", reply.text
    assert reply.text.startswith("Welcome back - last time: ")
    assert "Alien" in reply.text.splitlines()[0] and "no horror" in reply.text.splitlines()[0]
    ids = _ids(reply)
    assert seen not in ids and disliked not in ids
    assert not {ALIEN, BLADE_RUNNER} & set(ids)  # liked before: seen, not re-recommended
    assert all("horror" not in ml100k.items[i].genres for i in ids)
    assert {ALIEN, BLADE_RUNNER} <= set(reply.profile.liked_ids())
    cited = " ".join(e.text for r in reply.recommendations for e in r.evidence)
    assert "Alien" in cited or "Blade Runner" in cited  # the ranking leans to the old likes
    assert "Welcome back" not in s2.send("recommend something").text  # only the first reply


def test_returning_user_is_still_interviewed_when_the_session_says_something(fake_agent) -> None:  # type: ignore[no-untyped-def]
    _first_session(fake_agent, "bea")
    reply = fake_agent.session("bea").send("I want a comedy")
    assert reply.kind == "question"  # this session's own signal is weak: ask, don't assume
    assert reply.text.startswith("Welcome back")


def test_a_correction_in_session_two_wins(fake_agent, ml100k) -> None:  # type: ignore[no-untyped-def]
    _first_session(fake_agent, "cal")
    s2 = fake_agent.session("cal")
    s2.send("Actually I hated Alien")
    s2.send("I love horror")
    assert ALIEN in s2.profile.disliked_ids()
    s3 = fake_agent.session("cal")
    assert ALIEN in s3.profile.disliked_ids() and ALIEN not in s3.profile.liked_ids()
    assert "genre:horror" in s3.profile.liked_entities
    assert "horror" not in s3.profile.to_inputs().constraints.genres_excluded


def test_forgetting_removes_the_influence(fake_agent, no_memory_agent) -> None:  # type: ignore[no-untyped-def]
    _first_session(fake_agent, "dan")
    s2 = fake_agent.session("dan")
    assert forget_belief(s2, ALIEN)  # the TUI's forget, in a live session
    assert ALIEN not in s2.profile.liked_ids()
    assert ALIEN not in UserMemory.from_stored(fake_agent.store.load_memory("dan")).facts
    assert forget_in_store(fake_agent.store, "dan", "Blade Runner") == 1  # the CLI's forget
    assert forget_in_store(fake_agent.store, "dan", "genre:horror") == 1
    s3 = fake_agent.session("dan")
    assert not {ALIEN, BLADE_RUNNER} & set(s3.profile.liked_ids())
    assert s3.profile.to_inputs().constraints.genres_excluded == []
    reply = s3.send("I loved Star Wars")
    cited = " ".join(e.text for r in reply.recommendations for e in r.evidence)
    assert "Alien" not in cited and "Blade Runner" not in cited
    fresh = no_memory_agent.session("dan-fresh")  # only what is still remembered, by hand
    fresh.profile.feedback.update({k: v for k, v in s3.state.remembered.items()
                                   if v in ("seen", "disliked") and k.isdigit()})
    assert _ids(fresh.send("I loved Star Wars")) == _ids(reply)


def test_memory_off_restores_todays_behaviour(no_memory_agent) -> None:  # type: ignore[no-untyped-def]
    _first_session(no_memory_agent, "eve")
    assert no_memory_agent.store.load_memory("eve") is None
    s2 = no_memory_agent.session("eve")
    assert s2.profile.is_empty() and not s2.state.remembered
    first = s2.send("any ideas?")
    assert first.kind == "question" and "Welcome back" not in first.text
    fresh = no_memory_agent.session("someone-else").send("any ideas?")
    assert first.text == fresh.text


def test_buttons_observe_and_removed_beliefs_reach_memory(fake_agent) -> None:  # type: ignore[no-untyped-def]
    s = fake_agent.session("fay")
    s.feedback(FARGO, "liked")
    m = UserMemory.from_stored(fake_agent.store.load_memory("fay"))
    assert m.facts[FARGO].source == "button" and m.facts[FARGO].session_id == s.id
    s.observe("assistant", "How about Star Wars (1977)? It's great.")
    s.observe("user", "loved it")
    m = UserMemory.from_stored(fake_agent.store.load_memory("fay"))
    assert m.facts[STAR_WARS].polarity == "liked"
    assert s.remove_belief("liked_item", FARGO)
    assert FARGO not in UserMemory.from_stored(fake_agent.store.load_memory("fay")).facts


def test_export_and_delete_include_memory(fake_agent) -> None:  # type: ignore[no-untyped-def]
    _first_session(fake_agent, "gus")
    exported = fake_agent.export_user("gus")
    assert ALIEN in exported["memory"]["facts"]
    fake_agent.delete_user("gus")
    assert fake_agent.store.load_memory("gus") is None
    assert fake_agent.session("gus").profile.is_empty()


def test_concurrent_sessions_of_one_user_keep_both_facts(fake_agent) -> None:  # type: ignore[no-untyped-def]
    texts = {0: "I loved Star Wars", 1: "I loved Fargo"}
    sessions = {n: fake_agent.session("hal") for n in texts}
    threads = [threading.Thread(target=sessions[n].send, args=(texts[n],)) for n in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    facts = UserMemory.from_stored(fake_agent.store.load_memory("hal")).facts
    assert facts[STAR_WARS].polarity == "liked" and facts[FARGO].polarity == "liked"


def test_cli_show_and_forget(fake_agent, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from convrec.cli import main

    _first_session(fake_agent, "ivy")
    monkeypatch.setenv("CONVREC_SESSIONS_DB", fake_agent.store.location)
    assert main(["memory", "show", "ivy"]) == 0
    out = capsys.readouterr().out
    assert "Alien (1979)" in out and "genre:horror" in out
    assert main(["memory", "forget", "ivy", "alien"]) == 0
    assert main(["memory", "forget", "ivy", "no such film"]) == 2
    assert "not remembered" in capsys.readouterr().err
    assert ALIEN not in UserMemory.from_stored(fake_agent.store.load_memory("ivy")).facts
    assert main(["memory", "forget", "ivy"]) == 0
    assert fake_agent.store.load_memory("ivy") is None


# ---- the real model ---------------------------------------------------------------------------
@pytest.mark.real_model
def test_real_model_two_sessions(real_agent, ml100k) -> None:  # type: ignore[no-untyped-def]
    s1 = real_agent.session("real-memory")
    s1.send("I loved Alien and Blade Runner, but I can't stand horror")
    r1 = s1.send("recommend something")
    seen = r1.recommendations[0].item_id
    s1.send("seen it")
    s2 = real_agent.session("real-memory")
    reply = s2.send("any ideas for tonight?")
    assert reply.text.startswith("Welcome back")
    assert reply.kind == "recommendations", reply.text
    ids = _ids(reply)
    assert seen not in ids and not {ALIEN, BLADE_RUNNER} & set(ids)
    assert {ALIEN, BLADE_RUNNER} & set(reply.profile.liked_ids())


def test_profile_pane_marks_remembered_beliefs_and_lets_them_be_forgotten() -> None:
    from agent import LinkedItem
    from tui.widgets.profile import REMEMBERED, ProfilePane

    profile = UserProfile(liked_items=[LinkedItem(item_id="1", title="Toy Story (1995)"),
                                       LinkedItem(item_id="2", title="Alien (1979)")],
                          disliked_entities=["genre:horror"], feedback={"3": "seen", "4": "seen"})
    pane = ProfilePane()
    pane.show_profile(profile, lambda i: f"Title {i}", {"2": "liked", "genre:horror": "disliked",
                                                        "3": "seen"})
    beliefs = pane.beliefs()
    assert ("liked_item", "1", "Toy Story (1995)") in beliefs  # this session's
    assert ("liked_item", "2", "Alien (1979)" + REMEMBERED) in beliefs
    assert ("disliked_entity", "genre:horror", "horror (genre)" + REMEMBERED) in beliefs
    assert ("liked_item", "3", "Title 3" + REMEMBERED) in beliefs  # a remembered seen: forgettable
    assert "Title 4" in pane.lines() and all(v != "4" for _, v, _ in beliefs)
