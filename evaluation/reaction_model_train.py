"""Train the reaction model on written reactions and the understanding set's dev split."""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.reaction_model import CLASSES, WEIGHTS, ReactionModel, asked, masked
from evaluation.span_scorer_train import fit
from evaluation.understanding_eval import (
    CATALOG,
    DEV_EXTRA,
    build_agent,
    context_text,
    dialogue_of,
    load_set,
    row_split,
)

log = logging.getLogger(__name__)

TRAIN_LINES = Path("tests/data/reaction_train.jsonl")
"""Reactions written for training only (context, text, reaction); no understanding-set row."""
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
VERDICTS = ("liked_titles", "disliked_titles", "seen_titles")


@dataclass
class Example:
    """One message read after a suggestion: what the model sees and what it should say."""

    row: dict[str, Any]
    text: str
    """The message as the model reads it (suggestion, other titles and people masked)."""
    label: int
    """Index into CLASSES, len(CLASSES) for no reaction, -1 for mixed verdicts (not trained)."""
    asked: bool
    """The reader would ask the model (the rules read no reaction, nothing names the suggestion)."""
    targets: list[str]
    """Display titles a reaction would be applied to (all suggestions for "them", else the last)."""
    rules: set[str]
    """Display titles the reader's rules alone labelled, with their verdict ("liked:X")."""


def load_lines(path: Path) -> list[dict[str, Any]]:
    """Written reactions as rows: id, source 'written', one assistant turn, text, reaction."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            r = json.loads(line)
            if r["reaction"] not in (*CLASSES, "none"):
                raise ValueError(f"{path}:{n}: reaction {r['reaction']!r}")
            rows.append({"id": f"rt-{n}", "source": "written", "tags": [], "text": r["text"],
                         "context": [{"role": "assistant", "text": r["context"]}],
                         "reaction": r["reaction"]})
    return rows


def gold_label(row: dict[str, Any], suggested: list[str]) -> int:
    """The reaction a row's gold gives the suggestions in its context."""
    if row["source"] == "written":
        return CLASSES.index(row["reaction"]) if row["reaction"] in CLASSES else len(CLASSES)
    verdicts = {field for field in VERDICTS for t in suggested if t in row["gold"].get(field, [])}
    if len(verdicts) > 1:
        return -1
    return VERDICTS.index(verdicts.pop()) if verdicts else len(CLASSES)


def read_examples(rows: list[dict[str, Any]], agent: Any) -> list[Example]:
    """Each row with a suggestion in context, read through a Session as the evaluation does,
    with the reaction model switched off."""
    agent.reader.reactions = None
    titles = {i: item.display_title for i, item in agent.catalog.items.items()}
    out = []
    for r in rows:
        session = agent.session(user_id=f"reaction-{r['id']}")
        for turn in r.get("context") or []:
            session.observe(turn["role"], context_text(turn))
        context = list(session.state.context_items)
        if not context:
            continue
        before = dict(session.profile.feedback)
        session.observe("user", r["text"])
        reading = session.last_reading
        if reading is None:
            continue
        suggested = [titles.get(i, i) for i in context]
        fb = session.profile.feedback
        rules = {f"{v}:{titles.get(k, k)}" for k, v in fb.items() if before.get(k) != v}
        targets = suggested if reading.reaction_plural else suggested[-1:]
        out.append(Example(r, masked(reading.text, reading, context), gold_label(r, suggested),
                           asked(reading, context), targets, rules))
    return out


def fit_model(x: np.ndarray, labels: np.ndarray, l2: float, threshold: float) -> ReactionModel:
    """One-vs-rest logistic heads (bias last, unpenalised), mixed rows left out."""
    keep = labels >= 0
    xb = np.hstack([np.ones((int(keep.sum()), 1)), x[keep]])
    heads = []
    for k in range(len(CLASSES)):
        w = fit(xb, (labels[keep] == k).astype(float), l2=l2)
        heads.append(np.concatenate([w[1:], w[:1]]))
    return ReactionModel(np.vstack(heads), threshold)


def out_of_fold(x: np.ndarray, labels: np.ndarray, groups: list[str], l2: float,
                folds: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold probabilities, whole dialogues held out together."""
    keys = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(keys))
    fold_of = {keys[j]: k % folds for k, j in enumerate(order)}
    fold = np.array([fold_of[g] for g in groups])
    prob = np.zeros((len(labels), len(CLASSES)))
    for k in range(folds):
        test = fold == k
        prob[test] = fit_model(x[~test], labels[~test], l2, 0.5).probabilities(x[test])
    return prob


def mention_effect(examples: list[Example], chosen: Sequence[str | None]) -> tuple[int, int]:
    """Title mentions a reaction would add on rows the model is asked: (right, wrong) against
    the gold, a title the rules had already labelled not counted again."""
    right = wrong = 0
    for ex, label in zip(examples, chosen, strict=True):
        if not ex.asked or label is None or ex.row["source"] == "written":
            continue
        gold = ex.row["gold"]
        for title in ex.targets:
            if any(m.endswith(f":{title}") for m in ex.rules):
                continue
            if title in gold.get(f"{label}_titles", []) or (label != "seen" and any(
                    title in gold.get(f, []) for f in VERDICTS)):
                right += 1  # a mention the F1 counts (liked, disliked and seen are one set)
            else:
                wrong += 1
    return right, wrong


def main(argv: list[str] | None = None) -> int:
    """`python -m evaluation.reaction_model_train`: out-of-fold report, then fit on everything
    and write agent/reaction_model.json."""
    from agent.settings import Settings
    from catalog.loading import load_catalog
    from tools.engines.embeddings import embed

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=Path, nargs="+", default=[TRAIN_LINES])
    parser.add_argument("--set", type=Path, default=Path("tests/data/understanding_set.jsonl"))
    parser.add_argument("--extra", type=Path, default=DEV_EXTRA)
    parser.add_argument("--l2", type=float, nargs="+", default=[0.03],
                        help="L2 penalties to report (the first one is fitted)")
    parser.add_argument("--threshold", type=float, default=0.6)
    parser.add_argument("--skip-ids", nargs="*", default=[], metavar="PREFIX",
                        help="leave out dev rows whose id starts so (a batch kept held out)")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    written = [r for p in args.lines for r in load_lines(p)]
    dev = [r for p in (args.set, args.extra) for r in load_set(p) if row_split(r) == "dev"
           and not r["id"].startswith(tuple(args.skip_ids) or ("\0",))]
    settings = Settings().model_copy(update={"backend": "scripted"})
    catalog = load_catalog(CATALOG, settings.resolved_cache_dir(), settings.data_dir)
    with tempfile.TemporaryDirectory(prefix="convrec-reaction-model-") as tmp:
        agent, _ = build_agent(settings, None, catalog, ["kg_expansion"], Path(tmp))
        examples = read_examples(written + dev, agent)
    x = embed([e.text for e in examples])
    labels = np.array([e.label for e in examples])
    groups = [dialogue_of(e.row["id"]) if e.row["source"] != "written" else e.row["id"]
              for e in examples]
    n_dev = sum(e.row["source"] != "written" for e in examples)
    n_asked = sum(e.asked and e.row["source"] != "written" for e in examples)
    print(f"{len(examples) - n_dev} written reactions, {n_dev} dev messages after a suggestion "
          f"({n_asked} where the model is asked), classes "
          + ", ".join(f"{c} {int((labels == k).sum())}"
                      for k, c in enumerate((*CLASSES, "none"))))
    dev_idx = [i for i, e in enumerate(examples) if e.row["source"] != "written"]
    for l2 in args.l2:
        prob = out_of_fold(x, labels, groups, l2)
        for t in THRESHOLDS:
            model = ReactionModel(np.zeros((len(CLASSES), x.shape[1] + 1)), t)
            chosen = [model.choose(p) for p in prob]
            named = [CLASSES.index(c) if c else len(CLASSES) for c in chosen]
            acc = {part: np.mean([named[i] == labels[i] for i in idx if labels[i] >= 0])
                   for part, idx in (("written", [i for i in range(len(examples))
                                                  if i not in set(dev_idx)]),
                                     ("dev", dev_idx))}
            right, wrong = mention_effect(examples, chosen)
            print(f"l2 {l2} t {t:.1f}: accuracy written {acc['written']:.3f} dev "
                  f"{acc['dev']:.3f}; on dev rows it is asked: +{right} right, +{wrong} wrong "
                  "title mentions (out of fold)")
    if args.dry_run:
        return 0
    model = fit_model(x, labels, args.l2[0], args.threshold)
    model.meta = {"l2": args.l2[0], "written_lines": len(written),
                  "dev_messages": n_dev}
    model.save(args.out)
    print(f"wrote {args.out} (l2 {args.l2[0]}, threshold {args.threshold})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
