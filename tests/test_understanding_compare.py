"""The paired comparison of two understanding results (evaluation/understanding_compare.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.understanding_compare import main, paired_f1, row_counts

EMPTY = {"liked_titles": [], "disliked_titles": [], "seen_titles": [], "people": [],
         "disliked_people": [], "neutral_titles": [], "neutral_people": []}


def _message(row_id: str, gold: list[str], got: list[str], neutral: list[str] = ()) -> dict:
    return {"id": row_id, "gold": {**EMPTY, "liked_titles": gold, "neutral_titles": list(neutral)},
            **{k: [] for k in EMPTY}, "liked_titles": got}


def test_row_counts_allow_neutral_mentions_and_count_the_rest() -> None:
    assert row_counts(_message("a", ["Heat (1995)"], ["Heat (1995)", "Up (2009)"])) == (1, 1, 0)
    assert row_counts(_message("a", ["Heat (1995)"], ["Up (2009)"], neutral=["Up (2009)"])) == (
        0, 0, 1)


def test_paired_difference_and_its_interval(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = [_message(f"rd-{i}-2", ["Heat (1995)"], ["Heat (1995)"]) for i in range(20)]
    b = [_message(f"rd-{i}-2", ["Heat (1995)"], ["Heat (1995)"] if i % 2 else [])
         for i in range(20)]
    r = paired_f1(a, b)
    assert r["f1_a"] == 1.0 and r["f1_b"] == pytest.approx(2 * 10 / (2 * 10 + 10))
    assert 0 < r["lo"] <= r["diff"] <= r["hi"] and r["clusters"] == 20
    with pytest.raises(ValueError):
        paired_f1(a, b[::-1])
    for name, rows in (("a.json", a), ("b.json", b)):
        (tmp_path / name).write_text(json.dumps({"messages": rows}))
    assert main([str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    assert "a - b +0.333" in capsys.readouterr().out
