"""Paired comparison of two `convrec eval understanding --json` results on the same messages."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.understanding_eval import PEOPLE_FIELDS, TITLE_FIELDS, dialogue_of


def _mentions(values: dict[str, Any], fields: tuple[str, ...], kind: str) -> set[tuple[str, str]]:
    return {(kind, v) for f in fields for v in values.get(f) or []}


def row_counts(message: dict[str, Any]) -> tuple[int, int, int]:
    """(tp, fp, fn) of one scored message's title+person mentions, as `score` counts them."""
    gold = message["gold"]
    gm = _mentions(gold, TITLE_FIELDS, "t") | _mentions(gold, PEOPLE_FIELDS, "p")
    allowed = _mentions(gold, ("neutral_titles",), "t") | _mentions(gold, ("neutral_people",), "p")
    pm = _mentions(message, TITLE_FIELDS, "t") | _mentions(message, PEOPLE_FIELDS, "p")
    pm -= allowed - gm
    return len(gm & pm), len(pm - gm), len(gm - pm)


def paired_f1(a: list[dict[str, Any]], b: list[dict[str, Any]], n_boot: int = 2000,
              seed: int = 0) -> dict[str, Any]:
    """Mention F1 of a and b and the bootstrap 95 % interval of a - b, resampling dialogues
    (every message of one ReDial dialogue together) for both at once."""
    if [m["id"] for m in a] != [m["id"] for m in b]:
        raise ValueError("the two results do not score the same messages in the same order")
    ca = np.array([row_counts(m) for m in a], dtype=float)
    cb = np.array([row_counts(m) for m in b], dtype=float)
    groups = [dialogue_of(m["id"]) for m in a]
    keys = sorted(set(groups))
    index = {k: i for i, k in enumerate(keys)}
    g = np.array([index[x] for x in groups])
    sa = np.stack([np.bincount(g, weights=ca[:, j], minlength=len(keys)) for j in range(3)], 1)
    sb = np.stack([np.bincount(g, weights=cb[:, j], minlength=len(keys)) for j in range(3)], 1)

    def f1(c: np.ndarray) -> np.ndarray:
        tp, fp, fn = c[..., 0], c[..., 1], c[..., 2]
        return 2 * tp / np.maximum(2 * tp + fp + fn, 1e-9)

    draws = np.random.default_rng(seed).integers(0, len(keys), size=(n_boot, len(keys)))
    diff = f1(sa[draws].sum(1)) - f1(sb[draws].sum(1))
    lo, hi = np.percentile(diff, [2.5, 97.5])
    return {"f1_a": float(f1(sa.sum(0))), "f1_b": float(f1(sb.sum(0))),
            "diff": float(f1(sa.sum(0)) - f1(sb.sum(0))), "lo": float(lo), "hi": float(hi),
            "messages": len(a), "clusters": len(keys)}


def main(argv: list[str] | None = None) -> int:
    """`python -m evaluation.understanding_compare A.json B.json`: prints F1 a, F1 b, a - b."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    a, b = (json.loads(p.read_text(encoding="utf-8"))["messages"] for p in (args.a, args.b))
    r = paired_f1(a, b)
    print(f"mention F1: a {r['f1_a']:.3f}, b {r['f1_b']:.3f}; a - b {r['diff']:+.3f} "
          f"[{r['lo']:+.3f}, {r['hi']:+.3f}] ({r['messages']} messages, {r['clusters']} "
          "clusters resampled)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
