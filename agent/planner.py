"""Plan-first tool use: route from the profile to the tools whose inputs are present, fuse, filter."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from catalog.models import Catalog
from tools.base import (
    Candidate,
    ConvrecTool,
    Evidence,
    InputKind,
    ProfileInputs,
    ToolResult,
    ToolState,
)
from tools.engines.fusion import fuse
from tools.engines.ranker import LearnedRanker, load_ranker

log = logging.getLogger(__name__)

# Inputs that alone never justify running a tool (they only filter or subtract).
PASSIVE_INPUTS = {InputKind.CONSTRAINTS, InputKind.DISLIKED_ITEMS}


@dataclass
class PlanResult:
    """Fused, filtered candidates plus each tool's raw result and timing."""

    candidates: list[Candidate]
    results: list[ToolResult] = field(default_factory=list)
    tools_used: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def planner_ranker(setting: str, cache_dir: Path, catalog: Catalog) -> LearnedRanker | None:
    """The learned ranker the `ranker` setting asks for; None (reciprocal-rank fusion) for
    "rrf" or when no ranker is installed for the catalog (`convrec train ranker` installs one).

    Raises:
        ArtifactError: when the installed ranker is damaged (naming the fix).
    """
    if setting != "learned":
        return None
    ranker = load_ranker(cache_dir, catalog)
    if ranker is None:
        log.info("no learned ranker for %s; fusing by reciprocal rank", catalog.name)
    return ranker


def route(tools: dict[str, ConvrecTool], inputs: ProfileInputs) -> list[str]:
    """Names of the tools whose declared inputs are present (code decides, not the LLM)."""
    active = inputs.present() - PASSIVE_INPUTS
    return [name for name, tool in tools.items() if tool.consumes & active]


def popular_candidates(catalog: Catalog, inputs: ProfileInputs, excluded: set[str],
                       k: int) -> list[Candidate]:
    """Popularity ranking inside the constraints: the fallback when no tool applies."""
    pop = catalog.popularity()
    ranked = sorted(pop.items(), key=lambda kv: (-kv[1], kv[0]))
    out: list[Candidate] = []
    for item_id, count in ranked:
        item = catalog.items.get(item_id)
        if item is None or item_id in excluded or not inputs.constraints.allows(item):
            continue
        ev = Evidence(tool="popularity", kind="popularity",
                      text=f"{count} people in the catalog rated {item.display_title}",
                      data={"n_ratings": count})
        out.append(Candidate(item_id=item_id, score=float(count), evidence=[ev]))
        if len(out) >= k:
            break
    return out


def run_plan(tools: dict[str, ConvrecTool], catalog: Catalog, inputs: ProfileInputs,
             excluded: set[str], k: int = 100, weights: dict[str, float] | None = None,
             session_id: str = "", ranker: LearnedRanker | None = None) -> PlanResult:
    """Run every routed tool, fuse, drop excluded/disallowed items.

    Fusion is reciprocal rank (with the session's feedback weights); with a `ranker`, the
    fused candidates are re-ordered by the learned model (`timings["ranker"]`).
    """
    names = route(tools, inputs)
    state = ToolState(session_id=session_id, excluded_ids=set(excluded))
    plan = PlanResult(candidates=[], tools_used=names)
    for name in names:
        start = time.perf_counter()
        result = tools[name].run_typed(inputs, k=k, state=state)
        plan.timings[f"tool:{name}"] = time.perf_counter() - start
        if result.error:
            log.warning("tool %s failed: %s", name, result.error)
        plan.results.append(result)
    start = time.perf_counter()
    plan.candidates = rank_results(plan.results, catalog, inputs, excluded, k, weights, ranker,
                                   plan.timings)
    proposed = any(r.candidates for r in plan.results if not r.error)
    if not proposed and "popularity" not in plan.tools_used:
        plan.tools_used.append("popularity")
    plan.timings["fusion"] = time.perf_counter() - start - plan.timings.get("ranker", 0.0)
    return plan


def rank_results(results: list[ToolResult], catalog: Catalog, inputs: ProfileInputs,
                 excluded: set[str], k: int = 100, weights: dict[str, float] | None = None,
                 ranker: LearnedRanker | None = None,
                 timings: dict[str, float] | None = None) -> list[Candidate]:
    """Fuse the tools' results (RRF, then the learned ranker when given), fall back to
    popularity when no tool proposed anything, and drop excluded or disallowed items."""
    ok = [r for r in results if not r.error and r.candidates]
    fused = fuse(ok, method="rrf", weights=weights) if ok else []
    if not fused:
        fused = popular_candidates(catalog, inputs, excluded, k)
    fused = [c for c in fused if c.item_id not in excluded and c.item_id in catalog.items
             and inputs.constraints.allows(catalog.items[c.item_id])]
    if ranker is not None and ok and fused:
        start = time.perf_counter()
        fused = ranker.rerank(inputs, ok, fused, weights)
        if timings is not None:
            timings["ranker"] = time.perf_counter() - start
    return fused


def genre_first(candidates: list[Candidate], catalog: Catalog,
                genres: set[str]) -> list[Candidate]:
    """The candidates in one of the genres the user asked for first ("something scary, I
    loved Toy Story": horror before Toy Story's look-alikes), in the tools' order; the rest
    follow, so nothing is dropped. Counting matched genres would favour obscure films that
    carry many genres, so one is enough."""
    if not genres:
        return candidates

    def outside(c: Candidate) -> bool:
        item = catalog.items.get(c.item_id)
        return not (item and genres & set(item.genres))

    return sorted(candidates, key=outside)
