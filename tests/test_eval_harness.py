"""CI smoke of the evaluation harness on a tiny hand-made catalog with known answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from catalog.models import Catalog, Interactions, Item
from evaluation.baselines import TurnInfo
from evaluation.cli import add_eval_commands
from evaluation.interview import run_interviews, write_json
from evaluation.report import interview_table, write_interview_report
from evaluation.simulator import SimulatedUser
from evaluation.split import Split, TestCase, split_users, without_users

# Training popularity (ratings by u1..u5): item 1: 5, 2: 4, 3: 3, 4: 2, 5: 1, 6: 0.
TRAIN = {"1": 5, "2": 4, "3": 3, "4": 2, "5": 1}
# Test users rate item 3 too: if their ratings leaked into popularity, item 3 (3 + 3 = 6)
# would outrank item 1 (5) and change every number below.
TEST_RATINGS = [("t1", "1", 5.0), ("t1", "3", 4.0), ("t2", "3", 5.0), ("t3", "3", 5.0),
                ("t3", "1", 4.5)]
ITEMS = [
    ("1", "Starfall Odyssey", 1994, ["sci-fi", "adventure"], "Ada Lane", ["space"]),
    ("2", "Laughing Harbor", 1988, ["comedy"], "Bo Reyes", ["seaside"]),
    ("3", "Midnight Orchard", 2003, ["drama", "mystery"], "Cy Moreau", ["orchard"]),
    ("4", "Iron Canyon", 1971, ["western"], "Di Vega", ["desert"]),
    ("5", "Velvet Sonata", 2012, ["romance", "drama"], "Ed Nakamura", ["music"]),
    ("6", "Paper Lanterns", 1999, ["animation", "children"], "Flo Grant", ["festival"]),
]


def tiny_catalog() -> Catalog:
    items = {i: Item(id=i, title=t, year=y, genres=g, people={"director": [d]}, tags=tags,
                     text=f"A story about {tags[0]} and friendship.",
                     attributes={"redial_name": f"{t} ({y})"})
             for i, t, y, g, d, tags in ITEMS}
    rows = [(f"u{u}", item, 4.0) for item, n in TRAIN.items() for u in range(1, n + 1)]
    rows += TEST_RATINGS
    inter = Interactions(np.array([r[0] for r in rows], dtype=object),
                         np.array([r[1] for r in rows], dtype=object),
                         np.array([r[2] for r in rows], dtype=np.float32))
    return Catalog(name="tiny", items=items, interactions=inter)


def hand_split(catalog: Catalog) -> Split:
    test = ["t1", "t2", "t3"]
    return Split(test_users=test, train_catalog=without_users(catalog, set(test)),
                 cases=[TestCase("t1", "1"), TestCase("t2", "3"), TestCase("t3", "3", ("1",))])


@dataclass
class _Scripted:
    """Shows `cards` every turn; its ranking is `ranked` (the user only sees the cards)."""

    cards: list[str]
    ranking: list[str]

    def send(self, utterance: str, user: SimulatedUser) -> TurnInfo:
        return TurnInfo(kind="recommendations", recommended=self.cards, ranked=self.ranking)

    def ranked(self, k: int) -> list[str]:
        return self.ranking[:k]


@dataclass
class PerfectMethod:
    """Shows the target first."""

    name: str = "perfect"

    def start(self, user: SimulatedUser) -> _Scripted:
        return _Scripted([user.case.target_id, "6"], [user.case.target_id, "6", "5"])


@dataclass
class HiddenMethod:
    """Ranks the target 6th: inside Recall@20, never on a card the user sees."""

    name: str = "hidden"

    def start(self, user: SimulatedUser) -> _Scripted:
        others = [i for i in ("1", "2", "3", "4", "5", "6") if i != user.case.target_id]
        return _Scripted(others[:5], others[:5] + [user.case.target_id])


@pytest.fixture
def catalog() -> Catalog:
    return tiny_catalog()


def _value(m: dict, t: int, key: str = "success") -> float:
    return m["success"][f"T={t}"][key]["value"]


def test_success_counts_only_shown_cards_and_popularity_is_hand_computed(
        catalog: Catalog) -> None:
    split = hand_split(catalog)
    split.cases[1] = TestCase("t2", "6")  # the least popular item: not on the first 5 cards
    res = run_interviews(catalog=catalog, split=split, n_users=3, turns=[1, 3], k=5,
                         ks=[1, 5, 20], methods=["popularity"], show_progress=False,
                         extra_methods=[PerfectMethod(), HiddenMethod()], users_from="all")
    assert res["config"]["users_from"] == "all"
    perfect, hidden = res["methods"]["perfect"], res["methods"]["hidden"]
    assert _value(perfect, 1) == 1.0 and _value(perfect, 3, "avg_turn") == 1.0
    # the target is ranked 6th every turn: ranking Recall@20 is 1, but no card showed it
    assert _value(hidden, 3) == 0.0 and _value(hidden, 3, "avg_turn") == 4.0
    assert hidden["metrics"]["T=3,K=20"]["recall"] == 1.0
    assert hidden["metrics"]["T=3,K=5"]["recall"] == 0.0
    pop = res["methods"]["popularity"]
    # popularity 1, 2, 3, 4, 5 | 6: turn 1 shows 1-5 (t1 and t3 accept), turn 2 shows only
    # item 6 (shown cards are not repeated): t2 accepts at turn 2
    assert _value(pop, 1) == pytest.approx(2 / 3) and _value(pop, 3) == 1.0
    assert _value(pop, 3, "avg_turn") == pytest.approx((1 + 2 + 1) / 3)
    turns = res["conversations"]["popularity"][1]["turns"]
    assert [t["recommended"] for t in turns] == [["1", "2", "3", "4", "5"], ["6"]]
    assert turns[1]["user"].split(".")[0] in ("Seen it already", "I've seen that one",
                                             "Not my thing", "Nah, not my thing")
    assert res["conversations"]["popularity"][1]["accepted"]
    assert res["paired"] == {}  # no agent in this run
    est = pop["success"]["T=1"]["success"]
    assert est["lo"] <= est["value"] <= est["hi"] and est["n"] == 3


def test_split_users_on_tiny_catalog_is_seeded_and_hides_test_users(catalog: Catalog) -> None:
    a, b = split_users(catalog, seed=3, test_fraction=0.4), split_users(catalog, seed=3,
                                                                          test_fraction=0.4)
    assert a.test_users == b.test_users and a.cases == b.cases
    held = set(a.test_users)
    assert not held & set(a.train_catalog.interactions.user_ids.astype(str).tolist())
    assert len(a.cases) + len(a.skipped_users) == len(held)


def test_tool_baselines_fused_report_and_json(catalog: Catalog, tmp_path: Path) -> None:
    from agent.settings import Settings

    settings = Settings(cache_dir=tmp_path / "cache", backend="scripted")
    res = run_interviews(catalog=catalog, split=hand_split(catalog), n_users=3, turns=[4, 6],
                         k=2, ks=[1, 2], settings=settings, show_progress=False,
                         methods=["random", "cf", "kg", "retrieval", "fused"], users_from="all")
    for name in ("random", "cf", "kg", "retrieval", "fused"):
        m = res["methods"][name]
        assert 0.0 <= _value(m, 6) <= 1.0
        assert len(m["success_curve"]) == 6
        assert m["invalid_tool_call_rate"] in (0.0, None)
    # CF needs a named title; liked_title is asked 5th, so no user message before turn 6
    # names one: CF shows nothing and cannot succeed by turn 4
    assert _value(res["methods"]["cf"], 4) == 0.0
    assert res["methods"]["cf"]["tool_calls"] <= 1
    path = write_json(res, tmp_path / "out" / "res.json")
    assert json.loads(path.read_text())["config"]["n_users"] == 3
    report = write_interview_report(res, tmp_path / "report")
    text = report.read_text()
    assert "success@T=6" in text and "| kg |" in text and "all** users" in text
    for png in ("success_vs_turns.png", "recall_at_k.png", "latency.png"):
        assert (tmp_path / "report" / png).stat().st_size > 1000
    assert "kg" in interview_table(res)


def test_agent_smoke_three_users_three_turns(catalog: Catalog, tmp_path: Path) -> None:
    """The real agent on the scripted keyword backend, and the oracle, through the harness."""
    from agent.settings import Settings
    from agent.testing import keyword_backend

    settings = Settings(cache_dir=tmp_path / "cache", backend="scripted",
                        justify_with_llm=False)
    res = run_interviews(catalog=catalog, split=hand_split(catalog), n_users=3, turns=[3],
                         k=2, ks=[1, 2], settings=settings, backend=keyword_backend(catalog),
                         methods=["agent", "oracle"], show_progress=False, users_from="all")
    assert not res["skipped_methods"]
    assert set(res["paired"]) == {"agent - oracle"} and res["paired"]["agent - oracle"][
        "users"] == 3
    for name in ("agent", "oracle"):
        m = res["methods"][name]
        convs = res["conversations"][name]
        assert len(convs) == 3 and all(1 <= len(c["turns"]) <= 3 for c in convs)
        assert all(t["kind"] in ("question", "recommendations", "message")
                   for c in convs for t in c["turns"])
        assert 0.0 <= _value(m, 3) <= 1.0
        for c in convs:  # success is measured on the cards shown: accepted iff shown
            shown = [i for t in c["turns"] for i in t["recommended"][:5]]
            assert c["accepted"] == (c["target_id"] in shown)
        for c in convs:  # the simulated user never named the target
            title = catalog.items[c["target_id"]].title.lower()
            assert all(title not in t["user"].lower() for t in c["turns"])
    agent = res["methods"]["agent"]
    assert agent["invalid_json_rate"] in (0.0, None)  # the keyword responder answers JSON
    assert {"understanding", "turn"} <= set(agent["latency"])
    oracle = res["methods"]["oracle"]  # the truth replaces understanding: no LLM reads anything
    assert "understanding" not in oracle["latency"]
    assert not any(call["stage"] == "understanding" for c in res["conversations"]["oracle"]
                   for t in c["turns"] for call in t["llm_calls"])


def test_oracle_turn_installs_the_true_profile(catalog: Catalog, tmp_path: Path) -> None:
    """An oracle turn leaves the session holding exactly the simulator's ground-truth profile."""
    from agent.core import Agent
    from agent.settings import Settings
    from agent.testing import keyword_backend
    from evaluation.simulator import SimulatedUser

    settings = Settings(cache_dir=tmp_path / "cache", backend="scripted", justify_with_llm=False,
                        sessions_db=tmp_path / "s.sqlite3")
    agent = Agent.from_settings(settings, backend=keyword_backend(catalog), catalog=catalog)
    user = SimulatedUser(catalog, hand_split(catalog).cases[0])
    session = agent.session()
    text = user.opening()
    for _ in range(3):
        reply = session.send(text, oracle=lambda p: (user.oracle_profile(p), user.intent))
        truth = user.oracle_profile(session.profile)
        assert session.profile.liked_entities == truth.liked_entities
        assert [i.item_id for i in session.profile.liked_items] == [
            i.item_id for i in truth.liked_items]
        text = user.respond(reply.kind, reply.question_slot,
                            [r.item_id for r in reply.recommendations])


def test_cli_parses_interview_flags() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_eval_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", "interview", "--turns", "3,5", "--methods", "kg,cf",
                              "--users", "7", "--users-from", "dev", "--records", "r.jsonl"])
    assert args.turns == [3, 5] and args.methods == ["kg", "cf"] and args.users == 7
    assert args.users_from == "dev" and str(args.records) == "r.jsonl"


def test_dev_and_test_users_never_overlap_and_stay_put(catalog: Catalog) -> None:
    from evaluation.split import partition_cases

    cases = [TestCase(f"u{i}", "1") for i in range(400)]
    sides = partition_cases(cases, seed=0)
    dev, test = {c.user_id for c in sides["dev"]}, {c.user_id for c in sides["test"]}
    assert not dev & test and len(dev) + len(test) == 400
    assert 60 <= len(dev) <= 140  # about a quarter
    again = partition_cases(cases[:100], seed=0)  # membership depends on the user alone
    assert {c.user_id for c in again["dev"]} == dev & {f"u{i}" for i in range(100)}


def test_user_slice_and_shard_split_a_run(catalog: Catalog) -> None:
    res = run_interviews(catalog=catalog, split=hand_split(catalog), n_users=3, turns=[2],
                         k=2, ks=[2], methods=["popularity"], show_progress=False,
                         users_from="all", user_slice=(1, 3), shard=(1, 2))
    assert [c["user_id"] for c in res["conversations"]["popularity"]] == ["t3"]
