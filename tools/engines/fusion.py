"""Fuse the ranked candidates of several tools into one list, keeping every tool's evidence."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from tools.base import Candidate, Evidence, ToolResult

log = logging.getLogger(__name__)

FusionMethod = Literal["rrf", "weighted"]
METHODS: tuple[str, ...] = ("rrf", "weighted")


@dataclass
class _Fused:
    """Running total for one item while fusing."""

    score: float = 0.0
    best_rank: int = 1 << 30
    evidence: list[Evidence] = field(default_factory=list)


def fuse(results: list[ToolResult], method: FusionMethod = "rrf",
         weights: dict[str, float] | None = None, k: int = 60,
         limit: int | None = None) -> list[Candidate]:
    """Combine tool results into one ranking.

    `rrf` (reciprocal-rank fusion): an item scores sum over tools of w_t / (k + rank_t), with
    rank_t its 1-based position in tool t's list. `weighted`: each tool's scores are min-max
    normalised to [0, 1] (a tool whose scores are all equal gives 1.0) and summed times w_t.
    Tools missing from `weights` weigh 1.0; results with an error and tools weighted 0 are
    skipped. The fused candidate keeps the evidence of every tool that proposed it, in the
    order of `results`.
    Ties are broken by the best rank the item had in any tool, then by item id.

    Args:
        results: One ToolResult per tool run.
        method: "rrf" or "weighted".
        weights: Optional weight per tool name (>= 0).
        k: The RRF damping constant (ignored by "weighted").
        limit: Keep at most this many fused candidates (all if None).

    Returns:
        Fused candidates, best first.

    Raises:
        ValueError: for an unknown method, a negative weight or k < 0.
    """
    if method not in METHODS:
        raise ValueError(f"unknown fusion method {method!r}; valid methods: {', '.join(METHODS)}")
    if k < 0:
        raise ValueError(f"the RRF constant k must be >= 0, got {k}")
    weights = weights or {}
    negative = {name: w for name, w in weights.items() if w < 0}
    if negative:
        raise ValueError(f"fusion weights must be >= 0, got {negative}")
    fused: dict[str, _Fused] = {}
    for result in results:
        if result.error is not None:
            log.info("fusion skips %s: %s", result.tool, result.error)
            continue
        weight = weights.get(result.tool, 1.0)
        if weight == 0:
            continue  # a tool weighted 0 is switched off: it neither scores nor explains
        contributions = _contributions(result.candidates, method, k)
        for rank, (candidate, part) in enumerate(zip(result.candidates, contributions,
                                                     strict=True), start=1):
            if part is None:
                continue  # a repeated item inside one tool's list counts once
            entry = fused.setdefault(candidate.item_id, _Fused())
            entry.score += weight * part
            entry.best_rank = min(entry.best_rank, rank)
            entry.evidence.extend(candidate.evidence)
    ordered = sorted(fused.items(), key=lambda kv: (-kv[1].score, kv[1].best_rank, kv[0]))
    if limit is not None:
        ordered = ordered[:limit]
    return [Candidate(item_id=item_id, score=entry.score, evidence=entry.evidence)
            for item_id, entry in ordered]


def _contributions(candidates: list[Candidate], method: FusionMethod,
                   k: int) -> list[float | None]:
    """Each candidate's unweighted contribution (None for an item already seen in the list)."""
    seen: set[str] = set()
    first: list[bool] = []
    for candidate in candidates:
        first.append(candidate.item_id not in seen)
        seen.add(candidate.item_id)
    if method == "rrf":
        # Ranks count positions in the tool's list, duplicates included: the list is the truth.
        return [1.0 / (k + rank) if is_first else None
                for rank, is_first in enumerate(first, start=1)]
    scores = [c.score for c, is_first in zip(candidates, first, strict=True) if is_first]
    lo, hi = (min(scores), max(scores)) if scores else (0.0, 0.0)
    span = hi - lo
    return [((c.score - lo) / span if span > 0 else 1.0) if is_first else None
            for c, is_first in zip(candidates, first, strict=True)]
