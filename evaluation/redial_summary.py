"""ReDial metrics from per-sample records: pooled Recall@K, bootstrap intervals, paired differences."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from evaluation.metrics import percentile
from evaluation.stats import bootstrap, paired_difference

log = logging.getLogger(__name__)

PROTOCOLS = {"all": "ranks", "new": "ranks_new"}
"""Protocol name -> the record field holding the targets' ranks."""
PAIRED_WITH = ("agent", "fused+transcript", "fused")
"""Methods compared pairwise with every other method present."""


def _key(rec: dict[str, Any]) -> tuple[str, int]:
    return str(rec["dialog_id"]), int(rec["turn_id"])


def _counts(rec: dict[str, Any], proto: str, k: int) -> tuple[int, int]:
    """(hits@k, pairs) of one record under a protocol."""
    ranks = rec[PROTOCOLS[proto]]
    flags = rec["new"] if proto == "new" else [True] * len(ranks)
    rs = [r for r, f in zip(ranks, flags, strict=True) if f]
    return sum(1 for r in rs if r is not None and r <= k), len(rs)


def summarize_records(records: Sequence[dict[str, Any]], ks: Sequence[int], *, seed: int = 0,
                      n_boot: int = 2000) -> dict[str, Any]:
    """Pooled Recall@K (hits over all pairs) per method and protocol, with 95 % intervals.

    Samples are resampled by dialogue (its samples share context). Paired differences are
    taken on the samples both methods scored.

    Args:
        records: Lines written by `redial.record` (one per method and sample).
        ks: Cut-offs.
        seed: Fixes the bootstrap.
        n_boot: Bootstrap replicates.

    Returns:
        {"methods": {m: {"recall": {proto: {k: estimate}}, "samples", "pairs", "pairs_new",
        "seconds_p50", "seconds_p95"}}, "paired": {"a - b": {proto: {k: difference}}}}.
    """
    by_method: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    for rec in records:
        by_method.setdefault(rec["method"], {})[_key(rec)] = rec
    methods: dict[str, Any] = {}
    for name, recs in by_method.items():
        rows = list(recs.values())
        groups = [str(r["dialog_id"]) for r in rows]
        recall: dict[str, dict[str, Any]] = {}
        for proto in PROTOCOLS:
            recall[proto] = {}
            for k in ks:
                hits, pairs = zip(*(_counts(r, proto, k) for r in rows), strict=True) \
                    if rows else ((), ())
                recall[proto][str(k)] = bootstrap(hits, pairs, groups, n_boot=n_boot,
                                                  seed=seed).as_dict()
        secs = [float(r.get("seconds", 0.0)) for r in rows]
        methods[name] = {
            "recall": recall, "samples": len(rows),
            "dialogues": len(set(groups)),
            "pairs": sum(len(r["ranks"]) for r in rows),
            "pairs_new": sum(sum(r["new"]) for r in rows),
            "seconds_p50": percentile(secs, 50), "seconds_p95": percentile(secs, 95),
        }
    return {"methods": methods, "paired": paired(by_method, ks, seed=seed, n_boot=n_boot)}


def paired(by_method: dict[str, dict[tuple[str, int], dict[str, Any]]], ks: Sequence[int], *,
           seed: int = 0, n_boot: int = 2000) -> dict[str, Any]:
    """Paired bootstrap of Recall@K differences, a - b, on the samples both scored."""
    out: dict[str, Any] = {}
    names = list(by_method)
    done: set[frozenset[str]] = set()
    for a in [m for m in PAIRED_WITH if m in by_method]:
        for b in names:
            if a == b or frozenset((a, b)) in done:
                continue
            done.add(frozenset((a, b)))
            common = [key for key in by_method[a] if key in by_method[b]]
            if not common:
                continue
            groups = [key[0] for key in common]
            entry: dict[str, Any] = {"samples": len(common)}
            for proto in PROTOCOLS:
                entry[proto] = {}
                for k in ks:
                    ca = [_counts(by_method[a][key], proto, k) for key in common]
                    cb = [_counts(by_method[b][key], proto, k) for key in common]
                    entry[proto][str(k)] = paired_difference(
                        [h for h, _ in ca], [h for h, _ in cb], [p for _, p in ca], groups,
                        n_boot=n_boot, seed=seed).as_dict()
            out[f"{a} - {b}"] = entry
    return out
