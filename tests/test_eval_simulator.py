"""The simulated user: a person's knowledge of the target, vague at times, reacts to cards."""

from __future__ import annotations

import random
import re

import pytest

from agent.backends.scripted import ScriptedBackend
from catalog.models import Catalog
from evaluation.leak_guard import LeakGuard
from evaluation.simulator import (
    ACCEPT,
    FAMOUS_MIN,
    MOODS,
    NOT_MINE,
    SEEN,
    SLOTS,
    VAGUE,
    Fame,
    ParaphrasingUser,
    SimulatedUser,
)
from evaluation.split import TestCase, has_enough_attributes, split_users


@pytest.fixture(scope="module")
def fame(redial_catalog: Catalog) -> Fame:
    return Fame(redial_catalog)


@pytest.fixture(scope="module")
def cases(redial_catalog: Catalog) -> list[TestCase]:
    """300 seeded targets drawn like the split draws them, with nameable liked titles."""
    split = split_users(redial_catalog, seed=7, test_fraction=0.5)
    assert len(split.cases) >= 250
    return split.cases[:300]


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _title_core(title: str) -> str:
    core = _plain(title.split(" (")[0])
    for art in ("the ", "a ", "an "):
        core = core.removeprefix(art)
    return core


def test_answers_only_the_asked_slot_one_attribute_each(redial_catalog: Catalog,
                                                        cases: list[TestCase],
                                                        fame: Fame) -> None:
    rng = random.Random(0)
    for case in cases[:150]:
        user = SimulatedUser(redial_catalog, case, seed=1, fame=fame)
        user.opening()
        assert user.revealed == []  # the opening reveals nothing
        for _ in range(8):
            slot = rng.choice(SLOTS)
            before = len(user.revealed)
            text = user.respond("question", slot)
            assert len(user.revealed) - before <= 1
            if len(user.revealed) > before:
                fact = user.revealed[-1]
                assert fact.slot == slot
                assert fact.text == text
                if slot == "liked_title":
                    assert fact.value in case.liked_ids and fact.value != case.target_id
            else:
                assert text in VAGUE or text in ("I don't really mind.", "No preference there.")


def test_facts_are_true_attributes_of_the_target(redial_catalog: Catalog,
                                                 cases: list[TestCase],
                                                 fame: Fame) -> None:
    for case in cases[:100]:
        item = redial_catalog.items[case.target_id]
        user = SimulatedUser(redial_catalog, case, seed=2, fame=fame)
        for slot in SLOTS * 3:
            user.answer(slot)
        for fact in user.revealed:
            if fact.slot == "genre":
                assert fact.value in item.genres
            elif fact.slot == "person":  # one famous name: a user knows who is in it
                assert fact.value in item.people.get(fact.kind, [])
                assert fame.films[fact.value] >= FAMOUS_MIN
                assert sum(f.slot == "person" for f in user.revealed) == 1
            elif fact.slot == "era":
                lo, hi = map(int, fact.value.split("-"))
                assert item.year is not None and lo <= item.year <= hi
            elif fact.slot == "keywords":  # mood words of its genres, never tags or plot words
                assert fact.kind == "mood"
                assert any(fact.value in MOODS.get(g, ()) for g in item.genres)


def test_never_names_the_target_over_many_targets(redial_catalog: Catalog,
                                                  cases: list[TestCase],
                                                  fame: Fame) -> None:
    """Property: whatever is asked or recommended, no message contains the target's title."""
    rng = random.Random(1)
    checked = 0
    for case in cases:
        item = redial_catalog.items[case.target_id]
        core = _title_core(item.title)
        guard = LeakGuard(item)
        user = SimulatedUser(redial_catalog, case, seed=3, fame=fame)
        messages = [user.opening()]
        for _ in range(10):
            kind = rng.choice(["question", "question", "recommendations", "message"])
            recs = rng.sample(sorted(set(redial_catalog.items) - {case.target_id}), 3)
            messages.append(user.respond(kind, rng.choice(SLOTS + (None,)), recs))
        for text in messages:
            assert not guard.leaks(text), (item.title, text)
            if len(core) >= 5:  # independent check: the plain title is not a substring
                assert core not in _plain(text), (item.title, text)
            checked += 1
    assert checked >= 3000


def test_reacts_to_the_shown_cards_only(redial_catalog: Catalog, cases: list[TestCase],
                                         fame: Fame) -> None:
    case = next(c for c in cases if len(c.seen_ids) >= 3)
    seen = sorted(case.seen_ids)[:1]
    unseen = [i for i in sorted(redial_catalog.items)
              if i not in case.seen_ids and i != case.target_id][:5]
    user = SimulatedUser(redial_catalog, case, seed=4, fame=fame, vague_rate=0.0)
    text = user.respond("recommendations", None, seen + unseen[:4])
    assert text.startswith(SEEN) and len(user.revealed) == 1 and user.revealed[0].text in text
    text = user.respond("recommendations", None, unseen)
    assert text.startswith(NOT_MINE) and not user.accepted
    # the target on card 6 is never looked at; on card 5 it is accepted
    assert user.respond("recommendations", None, unseen + [case.target_id]) != ACCEPT
    assert not user.accepted
    assert user.respond("recommendations", None, unseen[:4] + [case.target_id]) == ACCEPT
    assert user.accepted


def test_vague_answers_reveal_nothing_at_about_the_set_rate(redial_catalog: Catalog,
                                                            cases: list[TestCase],
                                                            fame: Fame) -> None:
    vague = answers = 0
    for case in cases[:100]:
        user = SimulatedUser(redial_catalog, case, seed=8, fame=fame)
        for slot in ("genre", "era", "genre"):
            before = len(user.revealed)
            text = user.answer(slot)
            answers += 1
            if text in VAGUE:
                vague += 1
                assert len(user.revealed) == before
        assert user.vague_answers <= 3
    assert 0.1 <= vague / answers <= 0.3
    never = SimulatedUser(redial_catalog, cases[0], seed=8, fame=fame, vague_rate=0.0)
    assert all(never.answer("genre") not in VAGUE for _ in range(5))


def test_no_preference_when_the_slot_is_exhausted(redial_catalog: Catalog,
                                                  cases: list[TestCase],
                                                  fame: Fame) -> None:
    user = SimulatedUser(redial_catalog, cases[0], seed=5, fame=fame, vague_rate=0.0)
    answers = [user.answer("era") for _ in range(4)]
    assert len(user.revealed) == 2  # a decade, then a narrower year range
    assert answers[-1] in ("I don't really mind.", "No preference there.")


def test_deterministic(redial_catalog: Catalog, cases: list[TestCase],
                       fame: Fame) -> None:
    def run() -> list[str]:
        user = SimulatedUser(redial_catalog, cases[3], seed=9, fame=fame)
        return [user.opening()] + [user.answer(s) for s in SLOTS]
    assert run() == run()


def test_oracle_profile_implies_what_was_revealed(redial_catalog: Catalog,
                                                  cases: list[TestCase],
                                                  fame: Fame) -> None:
    case = next(c for c in cases if c.liked_ids
                and fame.famous(redial_catalog.items[c.target_id]))
    user = SimulatedUser(redial_catalog, case, seed=6, fame=fame, vague_rate=0.0)
    for slot in ("genre", "era", "era", "person", "liked_title"):
        user.answer(slot)
    target = redial_catalog.items[case.target_id]
    profile = user.oracle_profile()
    genre = next(f.value for f in user.revealed if f.slot == "genre")
    person = next(f.value for f in user.revealed if f.slot == "person")
    assert f"genre:{genre}" in profile.liked_entities
    assert f"person:{person}" in profile.liked_entities
    assert profile.constraints.year_min <= target.year <= profile.constraints.year_max
    assert profile.constraints.year_max - profile.constraints.year_min <= 3  # narrowed
    assert [i.item_id for i in profile.liked_items][0] in case.liked_ids
    assert case.target_id not in profile.excluded_ids()
    assert profile.constraints.allows(target)


def test_paraphrasing_user_falls_back_when_the_paraphrase_leaks(
        redial_catalog: Catalog, cases: list[TestCase], fame: Fame) -> None:
    case = next(c for c in cases if len(_title_core(redial_catalog.items[c.target_id].title)) > 5)
    title = redial_catalog.items[case.target_id].title
    backend = ScriptedBackend(replies=[f"Honestly I just want {title}!", "Any comedy would do"])
    user = ParaphrasingUser(redial_catalog, case, seed=0, fame=fame,
                            backend=backend)
    first = user.opening()
    assert not user.guard.leaks(first) and user.paraphrase_leaks == 1
    assert user.answer("genre") != ""  # answer() itself is never paraphrased
    assert user.respond("question", "era") == "Any comedy would do"
    assert backend.requests[0]["max_tokens"] == 64


def test_split_hides_test_users_and_draws_liked_targets(redial_catalog: Catalog) -> None:
    split = split_users(redial_catalog, seed=0)
    assert split_users(redial_catalog, seed=0).cases == split.cases  # seeded
    test_users = set(split.test_users)
    train_users = set(split.train_catalog.interactions.user_ids.astype(str).tolist())
    assert not test_users & train_users
    all_users = set(redial_catalog.interactions.user_ids.astype(str).tolist())
    assert len(test_users) == round(0.2 * len(all_users))
    ratings = {(str(u), str(i)): float(r) for u, i, r in zip(
        redial_catalog.interactions.user_ids, redial_catalog.interactions.item_ids,
        redial_catalog.interactions.ratings, strict=True)}
    for case in split.cases:
        assert case.user_id in test_users
        assert ratings[(case.user_id, case.target_id)] >= 4.0
        assert has_enough_attributes(redial_catalog.items[case.target_id])
        assert case.target_id not in case.liked_ids and len(case.liked_ids) <= 3
        assert all(ratings[(case.user_id, i)] >= 4.0 for i in case.liked_ids)
        assert case.target_id not in case.seen_ids
        assert all((case.user_id, i) in ratings for i in case.seen_ids)
