"""Train the mood -> genre model on written training lines and the understanding set's dev split."""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from agent.mood_model import GATES, WEIGHTS, MoodModel, eligible, masked, mood_tag
from evaluation.span_scorer_train import fit
from evaluation.understanding_eval import CATALOG, DEV_EXTRA, build_agent, dialogue_of, load_set, row_split

log = logging.getLogger(__name__)

TRAIN_LINES = Path("tests/data/mood_train.jsonl")
"""Lines written for training only (text, liked_genres, disliked_genres); no row of the
understanding set is among them."""
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def load_lines(path: Path) -> list[dict[str, Any]]:
    """Training lines as rows: id, source 'written', text and gold genres."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            r = json.loads(line)
            rows.append({"id": f"mt-{n}", "source": "written", "tags": [], "text": r["text"],
                         "gold": {"liked_genres": r["liked_genres"],
                                  "disliked_genres": r["disliked_genres"]}})
    return rows


def targets(rows: list[dict[str, Any]], genres: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per row and genre: 1 when the gold names it (liked or disliked); per row: 1 when every
    named genre is disliked, 0 when every one is liked, -1 (not trained on) otherwise."""
    y = np.zeros((len(rows), len(genres)))
    reject = np.full(len(rows), -1.0)
    for i, r in enumerate(rows):
        liked, disliked = set(r["gold"].get("liked_genres") or []), \
            set(r["gold"].get("disliked_genres") or [])
        for j, g in enumerate(genres):
            y[i, j] = float(g in liked | disliked)
        if liked or disliked:
            reject[i] = 1.0 if not liked else 0.0 if not disliked else -1.0
    return y, reject


def fit_model(x: np.ndarray, y: np.ndarray, reject: np.ndarray, genres: list[str],
              l2: float, threshold: float) -> MoodModel:
    """One logistic model per genre and the rejection head (bias last, unpenalised)."""
    xb = np.hstack([np.ones((x.shape[0], 1)), x])  # fit() leaves column 0 unpenalised

    def head(col: np.ndarray, keep: np.ndarray) -> np.ndarray:
        w = fit(xb[keep], col[keep], l2=l2)
        return np.concatenate([w[1:], w[:1]])  # bias to the end, as MoodModel.features has it

    everyone = np.ones(len(x), dtype=bool)
    weights = np.vstack([head(y[:, j], everyone) for j in range(len(genres))])
    return MoodModel(genres, weights, head(np.clip(reject, 0, 1), reject >= 0), threshold)


def out_of_fold(x: np.ndarray, y: np.ndarray, reject: np.ndarray, groups: list[str],
                genres: list[str], l2: float, folds: int = 5,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold genre and rejection probabilities, whole dialogues held out together."""
    keys = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(keys))
    fold_of = {keys[j]: k % folds for k, j in enumerate(order)}
    fold = np.array([fold_of[g] for g in groups])
    prob, rej = np.zeros(y.shape), np.zeros(len(y))
    for k in range(folds):
        test = fold == k
        model = fit_model(x[~test], y[~test], reject[~test], genres, l2, 0.5)
        prob[test], rej[test] = model.probabilities(x[test])
    return prob, rej


def combined(rows: list[dict[str, Any]], lexicon: list[dict[str, set[str]]], prob: np.ndarray,
             rej: np.ndarray, genres: list[str], t: float,
             gate: str = "none") -> list[dict[str, set[str]]]:
    """What the reader would output: the lexicon's genres, or (where it found no genre and
    no tag, and the gate lets the model read the message) the model's genres at threshold t, labelled by the
    rejection head."""
    out = []
    for i, lex in enumerate(lexicon):
        if lex["liked"] or lex["disliked"] or lex.get("tag") or \
                not eligible(rows[i]["text"], gate):
            out.append(lex)
            continue
        picked = {g for j, g in enumerate(genres) if prob[i, j] >= t}
        out.append({"liked": picked if rej[i] < 0.5 else set(),
                    "disliked": picked if rej[i] >= 0.5 else set()})
    return out


def genre_prf(rows: list[dict[str, Any]], preds: list[dict[str, set[str]]]) -> str:
    """Micro precision / recall of liked + disliked genres."""
    tp = fp = fn = 0
    for r, p in zip(rows, preds, strict=True):
        for side in ("liked", "disliked"):
            g = set(r["gold"].get(f"{side}_genres") or [])
            tp, fp, fn = tp + len(g & p[side]), fp + len(p[side] - g), fn + len(g - p[side])
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    return f"P {prec:.3f} R {rec:.3f} (tp {tp}, fp {fp}, fn {fn})"


def lexicon_genres(rows: list[dict[str, Any]],
                   reader: Any) -> tuple[list[dict[str, set[str]]], list[str]]:
    """The rules' genres for each message read alone (the mood model switched off), and the
    message with its titles and people masked, as the model sees it."""
    out, texts = [], []
    for r in rows:
        reading = reader.read(r["text"])
        spans = [s for s in reading.spans if s.kind == "genre"]
        out.append({"liked": {s.value[6:] for s in spans if s.label != "disliked"},
                    "disliked": {s.value[6:] for s in spans if s.label == "disliked"},
                    "tag": {"yes"} if mood_tag(reading) else set()})
        texts.append(masked(r["text"], reading))
    return out, texts


def main(argv: list[str] | None = None) -> int:
    """`python -m evaluation.mood_model_train`: out-of-fold report, then fit on everything and
    write agent/mood_model.json."""
    from agent.settings import Settings
    from catalog.loading import load_catalog
    from tools.engines.embeddings import embed

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=Path, nargs="+", default=[TRAIN_LINES])
    parser.add_argument("--set", type=Path, default=Path("tests/data/understanding_set.jsonl"))
    parser.add_argument("--extra", type=Path, default=DEV_EXTRA)
    parser.add_argument("--no-dev", action="store_true", help="train on the written lines only")
    parser.add_argument("--l2", type=float, nargs="+", default=[0.03],
                        help="L2 penalties to report (the first one is fitted)")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--gate", choices=GATES, default="none")
    parser.add_argument("--skip-ids", nargs="*", default=[], metavar="PREFIX",
                        help="leave out dev rows whose id starts so (a batch kept held out)")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    written = [r for p in args.lines for r in load_lines(p)]
    dev = [r for p in (args.set, args.extra) for r in load_set(p) if row_split(r) == "dev"
           and not r["id"].startswith(tuple(args.skip_ids) or ("\0",))]
    rows = written + dev
    trained = np.array([not args.no_dev or r["source"] == "written" for r in rows])
    settings = Settings().model_copy(update={"backend": "scripted"})
    catalog = load_catalog(CATALOG, settings.resolved_cache_dir(), settings.data_dir)
    counts = {g: 0 for g in catalog.genres()}
    for r in rows:
        for g in set(r["gold"].get("liked_genres") or []) | set(r["gold"].get("disliked_genres")
                                                               or []):
            counts[g] = counts.get(g, 0) + 1
    genres = sorted(g for g, n in counts.items() if n >= 5 and g in catalog.genres())
    with tempfile.TemporaryDirectory(prefix="convrec-mood-model-") as tmp:
        agent, _ = build_agent(settings, None, catalog, ["kg_expansion"], Path(tmp))
        agent.reader.mood = None
        lexicon, texts = lexicon_genres(rows, agent.reader)
    x = embed(texts)
    y, reject = targets(rows, genres)
    groups = [dialogue_of(r["id"]) for r in rows]
    print(f"{len(written)} written lines, {len(dev)} dev messages"
          f"{' (not trained on)' if args.no_dev else ''}, {len(genres)} genres")
    parts = {"written": [i for i, r in enumerate(rows) if r["source"] == "written"],
             "dev everyday moods": [i for i, r in enumerate(rows) if r["source"] == "everyday"
                                    and "mood" in r["tags"]],
             "dev everyday other": [i for i, r in enumerate(rows) if r["source"] == "everyday"
                                    and "mood" not in r["tags"]],
             "dev redial": [i for i, r in enumerate(rows) if r["source"] == "redial-dev"]}
    nothing: list[dict[str, set[str]]] = [{"liked": set(), "disliked": set()} for _ in rows]
    for name, idx in parts.items():
        if idx:
            print(f"  lexicon only, {name} ({len(idx)}): "
                  f"{genre_prf([rows[i] for i in idx], [lexicon[i] for i in idx])}")
    for l2 in args.l2:
        prob, rej = np.zeros(y.shape), np.zeros(len(y))
        t_idx = np.flatnonzero(trained)
        prob[t_idx], rej[t_idx] = out_of_fold(x[trained], y[trained], reject[trained],
                                              [groups[i] for i in t_idx], genres, l2)
        if not trained.all():
            model = fit_model(x[trained], y[trained], reject[trained], genres, l2, 0.5)
            prob[~trained], rej[~trained] = model.probabilities(x[~trained])
        variants = [(f"lexicon + model where the lexicon found none, gate {g}", lexicon, g)
                    for g in GATES] + [("model alone", nothing, "none")]
        for label, base, gate in variants:
            print(f"l2 {l2}: {label} (out of fold / not trained on)")
            for t in THRESHOLDS:
                preds = combined(rows, base, prob, rej, genres, t, gate)
                cells = [f"{name} {genre_prf([rows[i] for i in idx], [preds[i] for i in idx])}"
                         for name, idx in parts.items() if idx]
                print(f"  t {t:.1f}: " + " | ".join(cells))
    if args.dry_run:
        return 0
    model = fit_model(x[trained], y[trained], reject[trained], genres, args.l2[0],
                      args.threshold)
    model.gate = args.gate
    model.meta = {"l2": args.l2[0], "written_lines": len(written),
                  "dev_messages": int(trained.sum()) - len(written)}
    model.save(args.out)
    print(f"wrote {args.out} (l2 {args.l2[0]}, threshold {args.threshold}, gate {args.gate})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
