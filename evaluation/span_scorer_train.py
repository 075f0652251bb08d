"""Train the reader's span scorer on the understanding set's dev split (never its test half)."""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from agent.span_scorer import FEATURES, WEIGHTS, candidates
from evaluation.understanding_eval import (
    CATALOG,
    DEV_EXTRA,
    TITLE_FIELDS,
    build_agent,
    context_text,
    dialogue_of,
    load_set,
    row_split,
)

log = logging.getLogger(__name__)

GOLD_TITLE_FIELDS = (*TITLE_FIELDS, "neutral_titles")
"""A window is right when it names a film the gold lists as liked, disliked, seen or neutral."""


def examples(rows: list[dict[str, Any]], agent: Any) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray, list[str]]:
    """Features, labels, 'the rules left it free' and the row's cluster, per candidate window."""
    from agent.reading import tokenize

    reader = agent.reader
    items = agent.catalog.items
    xs: list[list[float]] = []
    ys: list[int] = []
    free: list[bool] = []
    groups: list[str] = []
    for row in rows:
        session = agent.session(user_id=f"train-{row['id']}")
        for turn in row.get("context") or []:
            session.observe(turn["role"], context_text(turn))
        context = list(session.state.context_items)
        text = row["text"]
        reading = reader.read(text, context_items=context)
        gold = {t for f in GOLD_TITLE_FIELDS for t in row["gold"].get(f) or []}
        for cand in candidates(reader, text, tokenize(text), reading, context):
            xs.append(cand.features)
            ys.append(int(items[cand.item_id].display_title in gold))
            free.append(reader._free(reading, cand.start, cand.end))
            groups.append(dialogue_of(row["id"]))
    return np.array(xs), np.array(ys), np.array(free), groups


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton steps (the bias is not penalised)."""
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + penalty * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-6 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def cross_validated(x: np.ndarray, y: np.ndarray, groups: list[str], folds: int = 5,
                    seed: int = 0) -> np.ndarray:
    """Out-of-fold probabilities, whole dialogues held out together."""
    keys = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(keys))
    fold_of = {keys[j]: k % folds for k, j in enumerate(order)}
    fold = np.array([fold_of[g] for g in groups])
    out = np.zeros(len(y))
    for k in range(folds):
        test = fold == k
        w = fit(x[~test], y[~test])
        out[test] = 1.0 / (1.0 + np.exp(-np.clip(x[test] @ w, -30, 30)))
    return out


def report(prob: np.ndarray, y: np.ndarray, free: np.ndarray) -> list[str]:
    """Precision and count of the windows the scorer would add (those the rules left free)."""
    lines = ["threshold  added  right  precision   (out-of-fold, windows the rules left free)"]
    for t in (0.5, 0.6, 0.7, 0.8, 0.9):
        pick = free & (prob >= t)
        right = int((y[pick] == 1).sum())
        n = int(pick.sum())
        lines.append(f"{t:9.2f}  {n:5d}  {right:5d}  {right / n if n else float('nan'):9.3f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """`python -m evaluation.span_scorer_train`: fit on dev, print out-of-fold precision,
    write agent/span_scorer.json."""
    from agent.settings import Settings
    from catalog.loading import load_catalog

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", type=Path, default=Path("tests/data/understanding_set.jsonl"))
    parser.add_argument("--extra", type=Path, default=DEV_EXTRA)
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    rows = [r for p in (args.set, args.extra) for r in load_set(p) if row_split(r) == "dev"]
    settings = Settings().model_copy(update={"backend": "scripted"})
    catalog = load_catalog(CATALOG, settings.resolved_cache_dir(), settings.data_dir)
    with tempfile.TemporaryDirectory(prefix="convrec-span-scorer-") as tmp:
        agent, _ = build_agent(settings, None, catalog, ["kg_expansion"], Path(tmp))
        agent.reader.scorer = None  # the features see the rules' spans only
        x, y, free, groups = examples(rows, agent)
    print(f"{len(rows)} dev messages, {len(y)} candidate windows, {int(y.sum())} right")
    for line in report(cross_validated(x, y, groups), y, free):
        print(line)
    w = fit(x, y)
    args.out.write_text(json.dumps({
        "features": list(FEATURES), "weights": [round(float(v), 6) for v in w],
        "threshold": args.threshold,
        "trained_on": f"{args.set} + {args.extra}, split dev ({len(rows)} messages)"},
        indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
