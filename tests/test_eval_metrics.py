"""Known-answer tests of the evaluation metrics and the leak guard."""

from __future__ import annotations

import math

import pytest

from agent.reply import LLMCall
from catalog.models import Item
from evaluation.leak_guard import REDACTED, LeakGuard, normalize, title_variants
from evaluation.metrics import (
    hit_at_k,
    interview_metrics,
    invalid_json_rate,
    invalid_tool_call_rate,
    latency_summary,
    ndcg_at_k,
    percentile,
    ranking_at_turn,
    recall_at_k,
    success_at,
    token_summary,
    turn_of_success,
)


def test_recall_and_hit() -> None:
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, {"b", "d"}, 2) == 0.5
    assert recall_at_k(ranked, {"b", "d"}, 4) == 1.0
    assert recall_at_k(ranked, {"x"}, 4) == 0.0
    assert recall_at_k(ranked, set(), 4) == 0.0
    assert hit_at_k(ranked, {"c"}, 3) and not hit_at_k(ranked, {"c"}, 2)


def test_ndcg_hand_computed() -> None:
    ranked = ["a", "b", "c", "d"]
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # hits at ranks 2 and 4
    idcg = 1 + 1 / math.log2(3)  # two relevant items at ranks 1 and 2
    assert ndcg_at_k(ranked, {"b", "d"}, 4) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(ranked, {"b", "d"}, 4) == pytest.approx(0.650921, abs=1e-6)
    assert ndcg_at_k(ranked, {"a"}, 1) == 1.0
    assert ndcg_at_k(ranked, {"c"}, 10) == pytest.approx(0.5)  # 1/log2(4)
    assert ndcg_at_k(["a", "a", "b"], {"a", "b"}, 3) == pytest.approx(
        1 / (1 + 1 / math.log2(3)) * (1 + 1 / math.log2(4)))  # a repeat scores once


def test_turn_of_success_and_success_at() -> None:
    rankings = [["x", "y"], ["y", "t"], ["t", "x"]]
    assert turn_of_success(rankings, "t", turns=3, k=2) == 2
    assert turn_of_success(rankings, "t", turns=3, k=1) == 3
    assert turn_of_success(rankings, "t", turns=1, k=2) == 2  # T + 1 on failure
    assert success_at(rankings, "t", 2, 2) and not success_at(rankings, "t", 2, 1)
    assert turn_of_success([], "t", 5, 10) == 6


def test_ranking_at_turn_uses_last_recorded_when_dialogue_ended() -> None:
    assert ranking_at_turn([["a"], ["b"]], 5) == ["b"]
    assert ranking_at_turn([["a"], ["b"]], 1) == ["a"]
    assert ranking_at_turn([], 3) == []


def test_perfect_recommender_scores_one() -> None:
    convs = [([[t, "z"]] * 5, t) for t in ("a", "b", "c")]
    m = interview_metrics(convs, turns=[3, 5], ks=[1, 10])
    for cell in m.values():
        assert cell["success"] == cell["recall"] == cell["ndcg"] == 1.0
        assert cell["avg_turn"] == 1.0


def test_interview_metrics_hand_computed() -> None:
    convs = [([["a", "b"], ["t1", "a"]], "t1"),  # success at turn 2, rank 1
             ([["x", "y"], ["y", "x"]], "t2")]  # never
    m = interview_metrics(convs, turns=[1, 2], ks=[2])
    assert m["T=1,K=2"] == {"success": 0.0, "avg_turn": 2.0, "recall": 0.0, "ndcg": 0.0,
                            "n": 2.0}
    assert m["T=2,K=2"]["success"] == 0.5
    assert m["T=2,K=2"]["avg_turn"] == 2.5  # (2 + 3) / 2
    assert m["T=2,K=2"]["recall"] == 0.5 and m["T=2,K=2"]["ndcg"] == 0.5


def test_reliability_rates() -> None:
    calls = [LLMCall(stage="understanding", valid_json=True),
             LLMCall(stage="understanding", valid_json=False),
             LLMCall(stage="justification", valid_json=None),
             LLMCall(stage="understanding", valid_json=True)]
    assert invalid_json_rate(calls) == pytest.approx(1 / 3)
    assert invalid_json_rate([LLMCall(stage="q")]) is None
    assert invalid_tool_call_rate(8, 2) == 0.25
    assert invalid_tool_call_rate(0, 0) is None


def test_latency_and_tokens() -> None:
    turns = [{"understanding": float(i), "total": 2.0 * i} for i in range(1, 101)]
    lat = latency_summary(turns)
    assert lat["understanding"]["p50"] == pytest.approx(50.5)
    assert lat["understanding"]["p95"] == pytest.approx(95.05)
    assert lat["turn"]["p50"] == pytest.approx(101.0)
    assert "total" not in lat
    assert latency_summary([{"a": 1.0, "b": 2.0}])["turn"]["p50"] == 3.0  # summed if no total
    assert math.isnan(percentile([], 50))
    tok = token_summary([[LLMCall(stage="u", prompt_tokens=100, completion_tokens=20)],
                         [], [LLMCall(stage="u", prompt_tokens=50, completion_tokens=10),
                              LLMCall(stage="j", prompt_tokens=30, completion_tokens=6)]])
    assert tok["prompt_tokens"] == 180 and tok["completion_tokens"] == 36
    assert tok["prompt_tokens_per_turn"] == 60 and tok["llm_calls_per_turn"] == 1.0


# ---------------------------------------------------------------- leak guard

def _item(title: str, year: int | None = 1999, original: str = "", **attrs: str) -> Item:
    attributes = {"original_title": original} if original else {}
    return Item(id="1", title=title, year=year, attributes={**attributes, **attrs})


@pytest.mark.parametrize("text", [
    "I loved The Matrix", "the matrix (1999) was great", "Matrix, The", "MATRIX please",
    "something like the Matrx", "Have you seen matrix?",
])
def test_leak_guard_finds_title_spellings(text: str) -> None:
    guard = LeakGuard(_item("The Matrix", original="Matrix, The (1999)",
                            redial_name="The Matrix (1999)"))
    assert guard.leaks(text)
    redacted = guard.redact(text)
    assert "matri" not in redacted.lower()
    assert not guard.leaks(redacted)


@pytest.mark.parametrize("text", [
    "Something from the 1990s.", "I like movies with Keanu Reeves.", "no mathematics please",
    "matrices and vectors", "I'm in the mood for a sci-fi movie.",
])
def test_leak_guard_passes_clean_text(text: str) -> None:
    guard = LeakGuard(_item("The Matrix", original="Matrix, The (1999)"))
    assert not guard.leaks(text)
    assert guard.redact(text) == text


def test_leak_guard_redacts_only_the_title() -> None:
    guard = LeakGuard(_item("The Usual Suspects", 1995, "Usual Suspects, The (1995)"))
    out = guard.redact("Something like The Usual Suspects (1995), with a twist ending.")
    assert out == f"Something like {REDACTED} (1995), with a twist ending."
    assert guard.redactions == 1


def test_leak_guard_short_titles_need_their_capitals() -> None:
    guard = LeakGuard(_item("Up", 2009))
    assert guard.leaks("I liked Up") and guard.leaks("UP!")
    assert not guard.leaks("something to cheer me up")


def test_leak_guard_accents_alt_titles_and_prefixes() -> None:
    amelie = LeakGuard(_item("Amélie (Fabuleux destin d'Amélie Poulain, Le)", 2001))
    assert amelie.leaks("I adore amelie") and amelie.leaks("le fabuleux destin d amelie poulain")
    alien = LeakGuard(_item("Alien: Resurrection", 1997))
    assert alien.leaks("alien resurrection") and alien.leaks("an Alien movie")
    assert "alien" in title_variants(_item("Alien: Resurrection", 1997))
    assert normalize("  Hello,  WORLD & co!") == "hello world and co"
