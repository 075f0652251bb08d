"""Plan-first tool use: route from the profile to every tool whose inputs are present,
fan out, fuse, filter."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

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
from tools.fusion import fuse

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
             session_id: str = "") -> PlanResult:
    """Run every routed tool, fuse with reciprocal rank, drop excluded/disallowed items."""
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
    ok = [r for r in plan.results if not r.error and r.candidates]
    fused = fuse(ok, method="rrf", weights=weights) if ok else []
    if not fused:
        fused = popular_candidates(catalog, inputs, excluded, k)
        if "popularity" not in plan.tools_used:
            plan.tools_used.append("popularity")
    plan.candidates = [c for c in fused if c.item_id not in excluded
                       and c.item_id in catalog.items
                       and inputs.constraints.allows(catalog.items[c.item_id])]
    plan.timings["fusion"] = time.perf_counter() - start
    return plan
