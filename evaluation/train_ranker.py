"""Train the learned ranker on ReDial training folds and compare it with RRF on validation folds.

ReDial dev dialogues are split BY DIALOGUE into folds (a hash of the dialogue id). For each
validation fold, the co-mention table, the item priors and the model are built from the other
folds only; every method then ranks the same validation samples read by the same oracle
reader (annotations and text of both sides), and is scored with the evaluation's protocol
(`evaluation.redial`: Recall@K per (sample, target) pair, unmapped targets are misses).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from agent.planner import rank_results, route
from catalog.models import Catalog
from catalog.text import normalize_genre
from evaluation.held_out import fold_of as fold_of  # re-exported: it used to live here
from evaluation.readers import OracleReader
from evaluation.redial import Sample, TitleMapper, record
from evaluation.redial_summary import summarize_records
from evaluation.stats import bootstrap, paired_difference
from tools.base import Candidate, ConvrecTool, ProfileInputs, ToolResult, ToolState
from tools.comention import CoMentionTable, CoMentionTool, read_redial, table_from_conversations
from tools.engines.ranker import (
    FeatureBuilder,
    LearnedRanker,
    LogisticModel,
    ModelKind,
    train_lambdarank,
)

log = logging.getLogger(__name__)

POOL = 100
"""Candidates asked of each tool (as the ReDial evaluation's fused method does)."""
KS = (1, 10, 50)
BASE_TOOLS = ("vector_retrieval", "kg_expansion", "cf_scoring")
EXTRACT_VERSION = 1


def redial_resolver(catalog: Catalog, mapper: TitleMapper) -> Callable[[str], str | None]:
    """ReDial entity names -> item ids (the evaluation's TitleMapper), 'genre:x' or 'person:x'
    exactly as the oracle reader turns them into profile entities."""
    genres = set(catalog.genres())
    people = {n for item in catalog.items.values() for ns in item.people.values() for n in ns}

    def resolve(name: str) -> str | None:
        item = mapper.map(name)
        if item:
            return item
        genre = normalize_genre(name)
        if genre in genres:
            return f"genre:{genre}"
        return f"person:{name}" if name in people else None
    return resolve


# ---------------------------------------------------------------------- tool outputs, cached


@dataclass
class Query:
    """One ranking query: a sample's oracle inputs and the base tools' results."""

    sample: Sample
    inputs: ProfileInputs
    base: list[ToolResult] = field(default_factory=list)

    @property
    def key(self) -> str:
        """'<dialog_id>:<turn_id>'."""
        return f"{self.sample.dialog_id}:{self.sample.turn_id}"


def extract(samples: Sequence[Sample], tools: dict[str, ConvrecTool], catalog: Catalog,
            cache_file: Path | None = None, show_progress: bool = True) -> list[Query]:
    """Run the base tools once per sample on the oracle reader's inputs (cached on disk,
    keyed by the catalog, the samples and the tool set)."""
    reader = OracleReader(catalog)
    queries = [Query(s, reader.inputs(s)) for s in samples]
    names = [n for n in BASE_TOOLS if n in tools]
    cached: dict[str, Any] = {}
    if cache_file is not None and cache_file.is_file():
        try:
            with gzip.open(cache_file, "rt", encoding="utf-8") as f:
                cached = json.load(f)
        except (OSError, ValueError, EOFError) as exc:
            log.warning("ignoring the damaged tool-output cache %s (%s)", cache_file, exc)
    fresh = 0
    for q in tqdm(queries, disable=not show_progress, desc="tools", unit="sample"):
        got = cached.get(q.key)
        if got is None:
            got = {}
            for name in route({n: tools[n] for n in names}, q.inputs):
                result = tools[name].run_typed(q.inputs, k=POOL, state=ToolState())
                got[name] = ([[c.item_id, c.score] for c in result.candidates]
                             if not result.error else result.error)
            cached[q.key] = got
            fresh += 1
            if cache_file is not None and fresh % 200 == 0:
                _save_json_gz(cached, cache_file)  # a long extraction survives interruption
        q.base = [ToolResult(tool=n, error=v) if isinstance(v, str) else ToolResult(
            tool=n, candidates=[Candidate(item_id=i, score=s) for i, s in v])
            for n, v in got.items()]
    if cache_file is not None and fresh:
        _save_json_gz(cached, cache_file)
    return queries


def _save_json_gz(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        json.dump(data, f)
    tmp.replace(path)


def extract_cache_file(cache_dir: Path, catalog: Catalog, dialogues: Path,
                       tools: Sequence[str]) -> Path:
    """Where the base tools' outputs for a dialogue file are cached."""
    h = hashlib.sha256(dialogues.read_bytes())
    h.update(json.dumps([EXTRACT_VERSION, catalog.content_hash(), sorted(tools), POOL]).encode())
    return cache_dir / "ranker-data" / f"redial-{h.hexdigest()[:16]}.json.gz"


# ---------------------------------------------------------------------- one fold


@dataclass
class FoldData:
    """Everything derived from the training folds for one validation fold."""

    table: CoMentionTable
    tool: CoMentionTool
    priors: dict[str, float]
    train_dialogues: set[str]
    dialogues: Path
    resolve: Callable[[str], str | None]


def fold_data(dialogues: Path, catalog: Catalog, resolve: Callable[[str], str | None],
              train: set[str], train_queries: Sequence[Query]) -> FoldData:
    """The co-mention table and the item priors from the training dialogues only."""
    convs = read_redial(dialogues, resolve, keep=lambda d: d in train)
    table = table_from_conversations(convs, catalog, description=f"{len(convs)} ReDial dialogues")
    priors = Counter(t for q in train_queries for t in q.sample.target_ids if t)
    return FoldData(table, CoMentionTool(table=table, catalog=catalog), dict(priors), train,
                    dialogues, resolve)


def results_with(query: Query, comention: CoMentionTool | None) -> list[ToolResult]:
    """The base results plus the co-mention tool's (when given and routed)."""
    out = list(query.base)
    if comention is not None and comention.consumes & query.inputs.present():
        out.append(comention.run_typed(query.inputs, k=POOL, state=ToolState()))
    return out


def candidates_of(query: Query, results: list[ToolResult], catalog: Catalog) -> list[Candidate]:
    """The planner's RRF candidates for the query (nothing excluded, constraints applied)."""
    return rank_results(results, catalog, query.inputs, set(), POOL)


@dataclass
class Design:
    """Feature matrix, labels and group sizes of a set of queries."""

    x: np.ndarray
    y: np.ndarray
    sizes: list[int]


def design(queries: Sequence[Query], results: Sequence[list[ToolResult]],
           cands: Sequence[list[Candidate]], builders: Sequence[FeatureBuilder], pool: int,
           positives_only: bool = True) -> Design:
    """Stack each query's candidate features (built by that query's builder); label 1 for a
    target (groups without any target in the pool are dropped when `positives_only`: they
    teach lambdarank nothing)."""
    xs, ys, sizes = [], [], []
    for q, res, cs, builder in zip(queries, results, cands, builders, strict=True):
        ids = [c.item_id for c in cs[:pool]]
        targets = {t for t in q.sample.target_ids if t}
        y = np.array([1.0 if i in targets else 0.0 for i in ids])
        if not ids or (positives_only and not y.any()):
            continue
        xs.append(builder.matrix(q.inputs, [r for r in res if not r.error and r.candidates],
                                 ids))
        ys.append(y)
        sizes.append(len(ids))
    if not xs:
        return Design(np.zeros((0, len(builders[0].names) if builders else 0)), np.zeros(0), [])
    return Design(np.vstack(xs), np.concatenate(ys), sizes)


def fit_ranker(kind: ModelKind, train: Design, valid: Design | None, builder: FeatureBuilder,
               pool: int, l2: float = 10.0, rounds: int = 400) -> LearnedRanker:
    """Train one model kind (lambdarank early-stops on `valid` when given, else runs
    `rounds` rounds)."""
    if kind == "logistic":
        model: Any = LogisticModel.fit(train.x, train.y, l2=l2)
    else:
        model = train_lambdarank(train.x, train.y, train.sizes,
                                 (valid.x, valid.y, valid.sizes) if valid and valid.sizes
                                 else None, rounds=rounds)
    return LearnedRanker(kind, model, builder, pool)


# ---------------------------------------------------------------------- the comparison


def recall_hits(ranking: Sequence[str], sample: Sample, k: int) -> tuple[int, int]:
    """(hits@k, pairs) of one sample, every target counted (unmapped ones are misses)."""
    top = set(ranking[:k])
    return sum(1 for t in sample.target_ids if t and t in top), len(sample.target_ids)


def paired_ratio(num_a: Sequence[float], num_b: Sequence[float], groups: Sequence[str],
                 n_boot: int = 2000, seed: int = 0) -> dict[str, float]:
    """Bootstrap (by dialogue) of sum(a) / sum(b), e.g. learned hits over RRF hits."""
    keys = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    idx = np.fromiter((keys[g] for g in groups), dtype=int, count=len(groups))
    a = np.bincount(idx, weights=np.asarray(num_a, float), minlength=len(keys))
    b = np.bincount(idx, weights=np.asarray(num_b, float), minlength=len(keys))
    draws = np.random.default_rng(seed).integers(0, len(keys), size=(n_boot, len(keys)))
    sa, sb = a[draws].sum(axis=1), b[draws].sum(axis=1)
    ratios = sa[sb > 0] / sb[sb > 0]
    value = float(a.sum() / b.sum()) if b.sum() > 0 else float("nan")
    lo, hi = (np.percentile(ratios, [2.5, 97.5]) if len(ratios) else (np.nan, np.nan))
    return {"value": value, "lo": float(lo), "hi": float(hi), "groups": len(keys)}


def compare(queries: Sequence[Query], dialogues: Path, catalog: Catalog, mapper: TitleMapper,
            n_folds: int = 5, folds: Sequence[int] | None = None, kinds: Sequence[ModelKind] = (
                "lambdarank", "logistic"), pool: int = 300, seed: int = 0,
            show_progress: bool = True) -> dict[str, Any]:
    """Cross-validated comparison on the same validation samples, fold by fold.

    Methods: `rrf` (the three base tools, reciprocal-rank fused: the status quo), `rrf+comention`
    (the same fusion with the co-mention tool), `learned:<kind>` for each model kind (over the
    candidates of rrf+comention), and `learned` (the kind that won on an inner validation split
    of the training folds). Returns per-method Recall@K with intervals (pooled over the
    validation folds), paired differences and ratios against both RRF variants, and the
    feature importances of each fold's picked model.
    """
    resolve = redial_resolver(catalog, mapper)
    by_fold: dict[int, list[Query]] = {}
    for q in queries:
        by_fold.setdefault(fold_of(q.sample.dialog_id, n_folds, seed), []).append(q)
    recs: list[dict[str, Any]] = []
    fold_info: list[dict[str, Any]] = []
    importances: list[dict[str, float]] = []
    for fold in (folds if folds is not None else range(n_folds)):
        start = time.perf_counter()
        valid_q = by_fold.get(fold, [])
        train_q = [q for f, qs in by_fold.items() if f != fold for q in qs]
        train_ids = {q.sample.dialog_id for q in train_q}
        data = fold_data(dialogues, catalog, resolve, train_ids, train_q)
        ranker, info = train_on(train_q, data, catalog, kinds, pool, seed)
        for q in tqdm(valid_q, disable=not show_progress, desc=f"fold {fold}", unit="sample"):
            recs += rank_methods(q, data, catalog, ranker)
        info.update({"fold": fold, "valid_samples": len(valid_q), "train_samples": len(train_q),
                     "seconds": round(time.perf_counter() - start, 1)})
        fold_info.append(info)
        importances.append(ranker["learned"].importance())
    out = summarize_records(recs, list(KS), seed=seed)
    out["folds"] = fold_info
    out["importance"] = mean_importance(importances)
    out["vs_rrf"] = paired_against(recs, ("rrf", "rrf+comention"), seed)
    return out


N_INNER = 4
"""Inner folds of the training dialogues: each training query's co-mention counts and priors
come from the other inner folds, never from its own dialogue (else the counts would hold its
own targets and the model would learn to trust them blindly)."""


def train_on(train_q: Sequence[Query], data: FoldData, catalog: Catalog,
             kinds: Sequence[ModelKind], pool: int,
             seed: int) -> tuple[dict[str, LearnedRanker], dict[str, Any]]:
    """Fit each kind on the training queries with out-of-fold features, pick the winner on
    inner fold 0 (fit on the other inner folds), then refit every kind on all the queries.

    The returned rankers use `data`'s co-mention table and priors (all training dialogues):
    exactly what they are served with.
    """
    served = FeatureBuilder(catalog, priors=data.priors)
    inner_of = {q.key: fold_of(q.sample.dialog_id, N_INNER, seed + 1) for q in train_q}
    tools: dict[int, CoMentionTool] = {}
    builders: dict[int, FeatureBuilder] = {}
    for j in range(N_INNER):
        rest = [q for q in train_q if inner_of[q.key] != j]
        part = fold_data(data.dialogues, catalog, data.resolve,
                         {q.sample.dialog_id for q in rest}, rest)
        tools[j] = part.tool
        builders[j] = FeatureBuilder(catalog, priors=part.priors,
                                     catalog_features=served.items)
    results = {q.key: results_with(q, tools[inner_of[q.key]]) for q in train_q}
    cands = {q.key: candidates_of(q, results[q.key], catalog) for q in train_q}

    def d(qs: Sequence[Query]) -> Design:
        return design(qs, [results[q.key] for q in qs], [cands[q.key] for q in qs],
                      [builders[inner_of[q.key]] for q in qs], pool)

    held_q = [q for q in train_q if inner_of[q.key] == 0]
    fit_d, held_d = d([q for q in train_q if inner_of[q.key] != 0]), d(held_q)
    inner_scores: dict[str, float] = {}
    rounds = 400
    for kind in kinds:
        model = fit_ranker(kind, fit_d, held_d, builders[0], pool)
        if kind == "lambdarank":
            rounds = max(20, int(model.model.best_iteration or rounds))
        hits = pairs = 0
        for q in held_q:
            ok = [r for r in results[q.key] if not r.error and r.candidates]
            ranked = model.rerank(q.inputs, ok, cands[q.key]) if ok else cands[q.key]
            h, p = recall_hits([c.item_id for c in ranked], q.sample, 10)
            hits, pairs = hits + h, pairs + p
        inner_scores[kind] = hits / pairs if pairs else 0.0
    best = max(kinds, key=lambda k: inner_scores[k])
    all_d = d(train_q)
    rankers = {f"learned:{k}": fit_ranker(k, all_d, None, served, pool, rounds=rounds)
               for k in kinds}
    rankers["learned"] = rankers[f"learned:{best}"]
    info = {"inner_recall10": inner_scores, "picked": best, "lambdarank_rounds": rounds,
            "train_rows": int(all_d.x.shape[0]), "train_groups": len(all_d.sizes)}
    return rankers, info


def rank_methods(q: Query, data: FoldData, catalog: Catalog,
                 rankers: dict[str, LearnedRanker]) -> list[dict[str, Any]]:
    """Records of every method on one validation query (same inputs for all)."""
    recs = []
    k = max(KS)
    start = time.perf_counter()
    base = rank_results(list(q.base), catalog, q.inputs, set(), POOL)
    recs.append(record("rrf", q.sample, [c.item_id for c in base[:k]],
                       time.perf_counter() - start))
    results = results_with(q, data.tool)
    start = time.perf_counter()
    fused = candidates_of(q, results, catalog)
    fused_s = time.perf_counter() - start
    recs.append(record("rrf+comention", q.sample, [c.item_id for c in fused[:k]], fused_s))
    ok = [r for r in results if not r.error and r.candidates]
    for name, ranker in rankers.items():
        start = time.perf_counter()
        ranked = ranker.rerank(q.inputs, ok, fused) if ok else fused
        recs.append(record(name, q.sample, [c.item_id for c in ranked[:k]],
                           fused_s + time.perf_counter() - start))
    return recs


def paired_against(recs: Sequence[dict[str, Any]], baselines: Sequence[str],
                   seed: int) -> dict[str, Any]:
    """Learned minus / over each baseline at R@10, paired on the same samples."""
    by: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    for r in recs:
        by.setdefault(r["method"], {})[(str(r["dialog_id"]), int(r["turn_id"]))] = r
    out: dict[str, Any] = {}
    for method in [m for m in by if m.startswith("learned")]:
        for base in baselines:
            keys = sorted(set(by[method]) & set(by.get(base, {})))
            groups = [k[0] for k in keys]
            hit = {m: [sum(1 for x in by[m][key]["ranks"] if x is not None and x <= 10)
                       for key in keys] for m in (method, base)}
            pairs = [len(by[method][key]["ranks"]) for key in keys]
            diff = paired_difference(hit[method], hit[base], pairs, groups, seed=seed)
            out[f"{method} vs {base}"] = {
                "recall10": {m: bootstrap(hit[m], pairs, groups, seed=seed).as_dict()
                             for m in (method, base)},
                "difference": diff.as_dict(),
                "ratio": paired_ratio(hit[method], hit[base], groups, seed=seed)}
    return out


def mean_importance(per_fold: Sequence[dict[str, float]]) -> dict[str, float]:
    """Average share of each feature over the folds, largest first."""
    names = {n for imp in per_fold for n in imp}
    mean = {n: float(np.mean([imp.get(n, 0.0) for imp in per_fold])) for n in names}
    return dict(sorted(mean.items(), key=lambda kv: -kv[1]))


def time_ranker(ranker: LearnedRanker, queries: Sequence[Query], data: FoldData,
                catalog: Catalog) -> dict[str, float]:
    """Milliseconds the planner spends per query in the co-mention tool and in re-ranking
    (`rank_results` with the ranker, its `timings["ranker"]`), p50 and p95."""
    tool_ms, rank_ms, sizes = [], [], []
    for q in queries:
        start = time.perf_counter()
        results = results_with(q, data.tool)
        tool_ms.append(1000 * (time.perf_counter() - start))
        timings: dict[str, float] = {}
        ranked = rank_results(results, catalog, q.inputs, set(), POOL, None, ranker, timings)
        if "ranker" in timings:
            rank_ms.append(1000 * timings["ranker"])
            sizes.append(min(len(ranked), ranker.pool))
    pct = np.percentile
    return {"queries": len(rank_ms), "candidates_p50": float(pct(sizes, 50)) if sizes else 0.0,
            "rerank_ms_p50": float(pct(rank_ms, 50)) if rank_ms else 0.0,
            "rerank_ms_p95": float(pct(rank_ms, 95)) if rank_ms else 0.0,
            "comention_ms_p50": float(pct(tool_ms, 50)) if tool_ms else 0.0}


# ---------------------------------------------------------------------- training the served model


def train_final(queries: Sequence[Query], dialogues: Path, catalog: Catalog, mapper: TitleMapper,
                n_folds: int = 5, validation_fold: int = 0,
                kinds: Sequence[ModelKind] = ("lambdarank", "logistic"), pool: int = 300,
                seed: int = 0, show_progress: bool = True) -> tuple[LearnedRanker, FoldData,
                                                                    dict[str, Any]]:
    """The model to serve: trained on every fold but `validation_fold` (kept out so that the
    agent can still be evaluated on it), with that fold's comparison as its report."""
    resolve = redial_resolver(catalog, mapper)
    valid_q = [q for q in queries if fold_of(q.sample.dialog_id, n_folds, seed) == validation_fold]
    train_q = [q for q in queries if fold_of(q.sample.dialog_id, n_folds, seed) != validation_fold]
    data = fold_data(dialogues, catalog, resolve, {q.sample.dialog_id for q in train_q}, train_q)
    rankers, info = train_on(train_q, data, catalog, kinds, pool, seed)
    recs = [r for q in tqdm(valid_q, disable=not show_progress, desc="validation",
                            unit="sample") for r in rank_methods(q, data, catalog, rankers)]
    report = summarize_records(recs, list(KS), seed=seed)
    report["vs_rrf"] = paired_against(recs, ("rrf", "rrf+comention"), seed)
    ranker = rankers["learned"]
    report["latency"] = time_ranker(ranker, valid_q, data, catalog)
    ranker.meta.update({
        "priors": data.priors, "importance": ranker.importance(),
        "training": {"source": "redial", "dialogues": str(dialogues),
                     "dialogues_sha256": hashlib.sha256(dialogues.read_bytes()).hexdigest(),
                     "n_folds": n_folds, "validation_fold": validation_fold, "fold_seed": seed,
                     "train_dialogues": len(data.train_dialogues),
                     "train_samples": len(train_q), **info},
        "validation": {"samples": len(valid_q),
                       "recall": {m: v["recall"] for m, v in report["methods"].items()}},
    })
    return ranker, data, report


def validation_dialogues(dialogues: Path, n_folds: int = 5, validation_fold: int = 0,
                         seed: int = 0) -> set[str]:
    """The dialogue ids the served model never saw (score the agent on these only)."""
    ids = set()
    with Path(dialogues).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                d = str(json.loads(line).get("dialog_id", n))
                if fold_of(d, n_folds, seed) == validation_fold:
                    ids.add(d)
    return ids


# ---------------------------------------------------------------------- `convrec train ranker`


def add_commands(subparsers: Any, common: Callable[[Any], None]) -> None:
    """Register `ranker` on the `train` command's sub-parsers."""
    p = subparsers.add_parser(
        "ranker", help="train the learned ranker on ReDial training folds and install it",
        description="Split the ReDial dialogues by dialogue into folds, build the co-mention "
        "table and train the ranker on all folds but the validation fold, report it against "
        "RRF on that fold (same oracle input), and install both in the cache. --evaluate "
        "also cross-validates over every fold.")
    common(p)
    p.add_argument("--dialogues", type=Path, default=None,
                   help="ReDial JSONL (default: <data-dir>/redial/dev_dialogues.jsonl)")
    p.add_argument("--folds", type=int, default=5, help="dialogue folds (default 5)")
    p.add_argument("--validation-fold", type=int, default=0,
                   help="the fold kept out of the served model (default 0)")
    p.add_argument("--kinds", default="lambdarank,logistic",
                   help="model kinds tried; the one better on an inner split is kept")
    p.add_argument("--pool", type=int, default=300, help="fused candidates re-ranked")
    p.add_argument("--limit", type=int, default=None, help="read at most N samples")
    p.add_argument("--seed", type=int, default=0, help="fold assignment and bootstrap seed")
    p.add_argument("--evaluate", action="store_true",
                   help="also cross-validate over every fold (the paired table)")
    p.add_argument("--no-install", action="store_true", help="train and report only")
    p.add_argument("--json", type=Path, dest="json_out", help="write the results here")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(handler=cmd_train_ranker)


def cmd_train_ranker(args: Any) -> int:
    """Run `convrec train ranker`; prints the tables."""
    from agent.settings_flags import settings_from_args
    from catalog.errors import UserFacingError
    from catalog.loading import load_catalog, resolve_data_dir
    from evaluation.interview import build_tools
    from evaluation.redial import load_entity_types, load_samples
    from tools.base import ToolResources
    from tools.comention import install_dialogue_table
    from tools.engines.ranker import install_ranker

    settings = settings_from_args(args)
    cache = settings.resolved_cache_dir()
    data_dir = resolve_data_dir(settings.data_dir)
    dialogues = Path(args.dialogues or data_dir / "redial" / "dev_dialogues.jsonl")
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    bad = [k for k in kinds if k not in ("lambdarank", "logistic")]
    if bad or not kinds:
        raise UserFacingError(f"unknown model kind(s) {bad or kinds}", "use lambdarank,logistic")
    if not 0 <= args.validation_fold < args.folds:
        raise UserFacingError(f"--validation-fold {args.validation_fold} is not a fold of "
                              f"{args.folds}", "pick 0 .. folds-1")
    catalog = load_catalog(settings.catalog, cache, settings.data_dir)
    types = load_entity_types(data_dir)
    samples, counts = load_samples(dialogues, catalog, args.limit, types)
    mapper = TitleMapper(catalog, types)
    tools, failed = build_tools(catalog, settings, list(BASE_TOOLS), not args.no_progress)
    for name, why in failed.items():
        print(f"tool {name} unavailable: {why}")
    queries = extract(samples, tools, catalog,
                      extract_cache_file(cache, catalog, dialogues, list(tools)),
                      not args.no_progress)
    results: dict[str, Any] = {"mapping": counts, "config": {
        "dialogues": str(dialogues), "catalog": catalog.name, "folds": args.folds,
        "validation_fold": args.validation_fold, "kinds": kinds, "pool": args.pool,
        "seed": args.seed, "limit": args.limit, "input": "oracle reader (both sides)"}}
    if args.evaluate:
        results["cross_validation"] = compare(queries, dialogues, catalog, mapper, args.folds,
                                              None, kinds, args.pool, args.seed,
                                              not args.no_progress)
        print(f"## Cross-validation: {args.folds} dialogue folds, each validated by models "
              "trained on the others\n")
        print(tables(results["cross_validation"]))
    ranker, data, report = train_final(queries, dialogues, catalog, mapper, args.folds,
                                       args.validation_fold, kinds, args.pool, args.seed,
                                       not args.no_progress)
    results["served_model"] = {"report": report, "meta": {k: v for k, v in ranker.meta.items()
                                                         if k != "priors"}}
    print(f"\n## Served model: trained on folds != {args.validation_fold}, "
          f"validated on fold {args.validation_fold}\n")
    print(tables(report, importance=ranker.importance()))
    lat = report["latency"]
    print(f"\nre-ranking {lat['candidates_p50']:.0f} candidates (p50): {lat['rerank_ms_p50']:.2f} ms "
          f"p50, {lat['rerank_ms_p95']:.2f} ms p95; co-mention tool {lat['comention_ms_p50']:.2f} "
          f"ms p50 (one thread, over {lat['queries']} validation samples)")
    if not args.no_install:
        resources = ToolResources(catalog=catalog, cache_dir=cache)
        table_dir = install_dialogue_table(resources, data.table)
        model_dir = install_ranker(cache, catalog, ranker)
        print(f"\ninstalled: co-mention table {table_dir}\n           ranker ({ranker.kind}) "
              f"{model_dir}")
        print(f"the served model never saw fold {args.validation_fold}: evaluate the agent on "
              "those dialogues only (evaluation.train_ranker.validation_dialogues)")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        print(f"results: {args.json_out}")
    return 0


def tables(report: dict[str, Any], importance: dict[str, float] | None = None) -> str:
    """Markdown: Recall@K per method (95 % intervals), learned vs RRF, top features."""
    lines = ["| method | R@1 | R@10 | R@50 | R@10 new targets | samples | pairs |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, m in report["methods"].items():
        rec = m["recall"]

        def cell(proto: str, k: int, rec: dict[str, Any] = rec) -> str:
            e = rec[proto][str(k)]
            return f"{e['value']:.3f} [{e['lo']:.3f}, {e['hi']:.3f}]"
        lines.append(f"| {name} | {cell('all', 1)} | {cell('all', 10)} | {cell('all', 50)} | "
                     f"{cell('new', 10)} | {m['samples']} | {m['pairs']} |")
    lines += ["", "| paired at R@10 | difference [95 %] | ratio [95 %] |", "| --- | --- | --- |"]
    for name, v in report.get("vs_rrf", {}).items():
        d, r = v["difference"], v["ratio"]
        lines.append(f"| {name} | {d['value']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] | "
                     f"{r['value']:.2f}x [{r['lo']:.2f}, {r['hi']:.2f}] |")
    imp = importance or report.get("importance")
    if imp:
        lines += ["", "| feature | share of importance |", "| --- | --- |"]
        lines += [f"| {n} | {v:.3f} |" for n, v in list(imp.items())[:12]]
    return "\n".join(lines)
