"""Reciprocal-rank and weighted fusion of tool results."""

from __future__ import annotations

import pytest

from tools.base import Candidate, Evidence, ToolResult
from tools.engines.fusion import fuse


def result(tool: str, *scored: tuple[str, float], error: str | None = None) -> ToolResult:
    """A ToolResult whose candidates each carry one evidence line naming tool and item."""
    return ToolResult(tool=tool, error=error, candidates=[
        Candidate(item_id=item_id, score=score,
                  evidence=[Evidence(tool=tool, kind="test", text=f"{tool} likes {item_id}")])
        for item_id, score in scored])


A = result("a", ("x", 0.9), ("y", 0.5), ("z", 0.1))
B = result("b", ("y", 30.0), ("w", 20.0))


def test_rrf_scores_and_order() -> None:
    fused = fuse([A, B], k=60)
    scores = {c.item_id: c.score for c in fused}
    assert scores["y"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["x"] == pytest.approx(1 / 61)
    assert scores["w"] == pytest.approx(1 / 62)
    assert scores["z"] == pytest.approx(1 / 63)
    assert [c.item_id for c in fused] == ["y", "x", "w", "z"]


def test_rrf_weights_and_k() -> None:
    fused = fuse([A, B], weights={"a": 3.0}, k=0)
    scores = {c.item_id: c.score for c in fused}
    assert scores["x"] == pytest.approx(3.0)
    assert scores["y"] == pytest.approx(3.0 / 2 + 1.0)
    assert [c.item_id for c in fused][:2] == ["x", "y"]


def test_weighted_min_max() -> None:
    fused = fuse([A, B], method="weighted", weights={"a": 1.0, "b": 2.0})
    scores = {c.item_id: c.score for c in fused}
    assert scores["x"] == pytest.approx(1.0)
    assert scores["y"] == pytest.approx(0.5 + 2.0)
    assert scores["w"] == pytest.approx(0.0)
    assert scores["z"] == pytest.approx(0.0)
    # w and z tie at 0; w's best rank (2nd in b) beats z's (3rd in a).
    assert [c.item_id for c in fused] == ["y", "x", "w", "z"]


def test_weighted_with_equal_scores_counts_fully() -> None:
    fused = fuse([result("a", ("x", 0.3), ("y", 0.3))], method="weighted")
    assert [c.score for c in fused] == [1.0, 1.0]
    assert [c.item_id for c in fused] == ["x", "y"]  # tie broken by best rank


def test_evidence_of_every_contributing_tool_is_kept() -> None:
    fused = {c.item_id: c for c in fuse([A, B])}
    assert [e.tool for e in fused["y"].evidence] == ["a", "b"]
    assert [e.text for e in fused["y"].evidence] == ["a likes y", "b likes y"]
    assert [e.tool for e in fused["x"].evidence] == ["a"]


def test_errored_and_zero_weight_results_are_skipped() -> None:
    broken = result("c", ("q", 1.0), error="ValueError: boom")
    fused = fuse([A, broken, B], weights={"b": 0.0})
    assert [c.item_id for c in fused] == ["x", "y", "z"]
    assert all(e.tool == "a" for c in fused for e in c.evidence)


def test_ties_are_deterministic() -> None:
    one = result("a", ("m", 1.0), ("n", 0.5))
    two = result("b", ("n", 1.0), ("m", 0.5))
    first = [c.item_id for c in fuse([one, two])]
    assert first == [c.item_id for c in fuse([two, one])] == ["m", "n"]  # equal rank: by id
    same = [result("a", ("k2", 1.0)), result("b", ("k1", 1.0))]
    assert [c.item_id for c in fuse(same)] == ["k1", "k2"]


def test_duplicates_within_one_tool_count_once() -> None:
    dup = result("a", ("x", 0.9), ("x", 0.8), ("y", 0.1))
    scores = {c.item_id: c.score for c in fuse([dup], k=60)}
    assert scores == pytest.approx({"x": 1 / 61, "y": 1 / 63})


def test_limit_and_empty_inputs() -> None:
    assert len(fuse([A, B], limit=2)) == 2
    assert fuse([]) == []
    assert fuse([result("a")]) == []


@pytest.mark.parametrize("kwargs", [{"method": "max"}, {"weights": {"a": -1.0}}, {"k": -1}])
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        fuse([A], **kwargs)
