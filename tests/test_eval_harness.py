"""CI smoke of the evaluation harness on a tiny hand-made catalog with known answers."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from catalog.models import Catalog, Interactions, Item
from evaluation.baselines import TurnInfo
from evaluation.cli import add_eval_commands, main
from evaluation.interview import run_interviews, write_json
from evaluation.redial import TitleMapper, load_samples, run_redial, score_sample
from evaluation.report import interview_table, write_interview_report, write_redial_report
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
class _Perfect:
    """Always ranks the target first."""

    target: str

    def send(self, utterance: str, user: SimulatedUser) -> TurnInfo:
        return TurnInfo(kind="question", question_slot="genre", ranked=self.ranked(20))

    def ranked(self, k: int) -> list[str]:
        return [self.target, "6", "5"][:k]


@dataclass
class PerfectMethod:
    name: str = "perfect"

    def start(self, user: SimulatedUser) -> _Perfect:
        return _Perfect(user.case.target_id)


@pytest.fixture
def catalog() -> Catalog:
    return tiny_catalog()


def test_perfect_scores_one_and_popularity_matches_hand_computation(catalog: Catalog) -> None:
    res = run_interviews(catalog=catalog, split=hand_split(catalog), n_users=3, turns=[1, 6],
                         k=2, ks=[1, 2], methods=["popularity"], show_progress=False,
                         extra_methods=[PerfectMethod()])
    perfect = res["methods"]["perfect"]["metrics"]
    for cell in perfect.values():
        assert (cell["success"], cell["recall"], cell["ndcg"], cell["avg_turn"]) == (1, 1, 1, 1)
    pop = res["methods"]["popularity"]["metrics"]
    # Baselines ask genre, era, keywords, person, liked_title; the user's turn 6 answers the
    # fifth question, so t3 names item 1 at turn 6. K=2: t1 sees [1, 2] (hit at turn 1,
    # rank 1); t2 sees [1, 2] (never); t3 sees [1, 2] until turn 6, then [2, 3] (hit, rank 2).
    cell = pop["T=6,K=2"]
    assert cell["success"] == pytest.approx(2 / 3) and cell["recall"] == pytest.approx(2 / 3)
    assert cell["ndcg"] == pytest.approx((1 + 1 / math.log2(3)) / 3)
    assert cell["avg_turn"] == pytest.approx((1 + 7 + 6) / 3)
    assert pop["T=6,K=1"]["success"] == pytest.approx(1 / 3)  # only t1: [1]
    assert pop["T=1,K=2"]["success"] == pytest.approx(1 / 3)
    assert pop["T=1,K=2"]["avg_turn"] == pytest.approx((1 + 2 + 2) / 3)
    turns = res["conversations"]["popularity"][2]["turns"]
    assert [t["turn"] for t in turns] == [1, 2, 3, 4, 5, 6]
    assert [t["slot"] for t in turns[:5]] == ["genre", "era", "keywords", "person",
                                              "liked_title"]
    assert turns[0]["ranked"] == ["1", "2"] and turns[5]["ranked"] == ["2", "3"]  # depth max K
    assert res["methods"]["popularity"]["latency"]["turn"]["n"] == 18


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
                         methods=["random", "cf", "kg", "retrieval", "fused"])
    for name in ("random", "cf", "kg", "retrieval", "fused"):
        m = res["methods"][name]
        assert 0.0 <= m["metrics"]["T=6,K=2"]["success"] <= 1.0
        assert len(m["success_curve"]["2"]) == 6
        assert m["invalid_tool_call_rate"] in (0.0, None)
    # KG alone with the revealed genre + decade finds every target by turn 4
    assert res["methods"]["kg"]["metrics"]["T=4,K=2"]["success"] == 1.0
    # CF needs a named title: only t3 names one (turn 6), so CF ran exactly once
    assert res["methods"]["cf"]["tool_calls"] == 1
    assert res["methods"]["cf"]["invalid_tool_call_rate"] == 0.0
    path = write_json(res, tmp_path / "out" / "res.json")
    assert json.loads(path.read_text())["config"]["n_users"] == 3
    report = write_interview_report(res, tmp_path / "report")
    text = report.read_text()
    assert "success@T=6" in text and "| kg |" in text
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
                         methods=["agent", "oracle"], show_progress=False)
    assert not res["skipped_methods"]
    for name in ("agent", "oracle"):
        m = res["methods"][name]
        convs = res["conversations"][name]
        assert len(convs) == 3 and all(1 <= len(c["turns"]) <= 3 for c in convs)
        assert all(t["kind"] in ("question", "recommendations", "message")
                   for c in convs for t in c["turns"])
        assert 0.0 <= m["metrics"]["T=3,K=2"]["success"] <= 1.0
        for c in convs:  # what the agent showed is in the ranking success is measured on
            for t in c["turns"]:  # (the ranking keeps the top max(ks) = 2)
                if t["recommended"]:
                    assert set(t["ranked"]) <= set(t["recommended"])
        for c in convs:  # the simulated user never named the target
            title = catalog.items[c["target_id"]].title.lower()
            assert all(title not in t["user"].lower() for t in c["turns"])
    agent = res["methods"]["agent"]
    assert agent["invalid_json_rate"] == 0.0  # the keyword responder always answers JSON
    assert {"understanding", "turn"} <= set(agent["latency"])
    assert agent["tokens"]["llm_calls_per_turn"] >= 1.0
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


# ---------------------------------------------------------------- ReDial protocol

def _write_dialogues(path: Path) -> Path:
    rows = [
        {"dialog_id": "d1", "turn_id": 2,
         "context": ["", "Hi, what do you like?", "I loved Starfall Odyssey (1994), any sci-fi?"],
         "entity": ["sci-fi", "Starfall Odyssey (1994)"],
         "rec": ["Laughing Harbor (1988)", "Unknown Film (2001)"]},
        {"dialog_id": "d2", "turn_id": 2, "context": ["", "Hello", "Something like Iron Canyon"],
         "entity": ["Iron Canyon (1971)"], "rec": ["Iron Canyon (1971)"]},
        {"dialog_id": "d3", "turn_id": 2, "context": ["", "Hi", "anything"],
         "entity": [], "rec": ["Nowhere Movie (1950)"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_title_mapping_and_unmappable_counted(catalog: Catalog, tmp_path: Path) -> None:
    mapper = TitleMapper(catalog)
    assert mapper.map("Starfall Odyssey (1994)") == "1"
    assert mapper.map("starfall odyssey (1994)") == "1"  # normalised title + year
    assert mapper.map("Starfall Odyssey (1995)") is None  # wrong year
    assert mapper.map("Paper Lanterns") == "6"  # unique title without year
    samples, counts = load_samples(_write_dialogues(tmp_path / "d.jsonl"), catalog)
    assert counts == {"samples_read": 3, "samples_without_target": 1, "targets": 4,
                      "targets_unmapped": 2}
    assert [s.targets for s in samples] == [["2"], ["4"]]
    assert samples[0].mentioned == ["1"] and samples[0].user_turns() == [
        "I loved Starfall Odyssey (1994), any sci-fi?"]


def test_redial_scores_with_and_without_mentioned(catalog: Catalog, tmp_path: Path) -> None:
    samples, _ = load_samples(_write_dialogues(tmp_path / "d.jsonl"), catalog)
    assert score_sample(["4", "1"], samples[1], [1, 2]) == {"all": {1: 1.0, 2: 1.0},
                                                            "new": None}
    res = run_redial(tmp_path / "d.jsonl", catalog=catalog, ks=[1, 2, 5],
                     methods=["popularity"], show_progress=False)
    pop = res["methods"]["popularity"]
    # popularity (all ratings, as ReDial users are not MovieLens users): 1, 3, 2, 4, 5, 6
    assert pop["recall"] == {"1": 0.0, "2": 0.0, "5": 1.0}
    assert pop["n"] == 2 and pop["n_mentioned_removed"] == 1
    # d1 without its mentioned item 1: ranking 3, 2, ... -> target 2 at rank 2
    assert pop["recall_mentioned_removed"] == {"1": 0.0, "2": 1.0, "5": 1.0}
    assert res["mapping"]["targets_unmapped"] == 2
    md = write_redial_report(res, tmp_path / "rep").read_text()
    assert "2 of 4" in md and (tmp_path / "rep" / "redial_recall.png").is_file()


def test_cli_parses_and_runs_redial(catalog: Catalog, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_eval_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", "interview", "--turns", "3,5", "--methods", "kg,cf",
                              "--users", "7"])
    assert args.turns == [3, 5] and args.methods == ["kg", "cf"] and args.users == 7
    monkeypatch.setattr("catalog.loading.load_catalog", lambda *a, **k: catalog)
    out = tmp_path / "r.json"
    assert main(["redial", "--dialogues", str(_write_dialogues(tmp_path / "d.jsonl")),
                 "--methods", "popularity,random", "--k", "1,5", "--json", str(out),
                 "--cache-dir", str(tmp_path / "c"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "popularity" in printed and "unmappable targets 2/4" in printed
    assert json.loads(out.read_text())["mapping"]["samples_scored"] == 2


def test_redial_agent_continues_a_dialogue_exactly_like_a_fresh_replay(catalog: Catalog,
                                                                        tmp_path: Path) -> None:
    """Samples of one dialogue reuse its session; the rankings equal fresh replays."""
    from agent.core import Agent
    from agent.settings import Settings
    from agent.testing import keyword_backend
    from evaluation.redial import agent_ranker

    base = ["", "Hi, what do you like?", "I loved Starfall Odyssey (1994), any sci-fi?",
            "Try Laughing Harbor (1988)", "Something like Iron Canyon too"]
    rows = [{"dialog_id": "d1", "turn_id": n, "context": base[:n + 1], "entity": [],
             "rec": ["Paper Lanterns"]} for n in (2, 4)]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    samples, _ = load_samples(path, catalog)
    settings = Settings(cache_dir=tmp_path / "cache", backend="scripted",
                        sessions_db=tmp_path / "s.sqlite3", justify_with_llm=False)
    backend = keyword_backend(catalog)
    agent = Agent.from_settings(settings, backend=backend, catalog=catalog)
    reused = agent_ranker(agent)
    continued = [reused(s, 5) for s in samples]
    sent_continued = len(backend.requests)
    fresh = [agent_ranker(agent)(s, 5) for s in samples]
    assert continued == fresh and continued[0]
    assert sent_continued == 2 and len(backend.requests) == 2 + 1 + 2  # fresh replays all
