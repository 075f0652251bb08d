"""`convrec bench tools`: build the tools on synthetic catalogs, time each, write the report."""

from __future__ import annotations

import argparse
import gc
import json
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.progress import progress, stage
from benchmarks.synthetic import (
    INTERACTIONS_PER_ITEM,
    MAX_INTERACTIONS,
    Synthetic,
    make_queries,
    synthetic_catalog,
    unit_vectors,
)
from benchmarks.tools_report import (
    RETRIEVAL,
    TARGET_ITEMS,
    TARGET_STAT,
    TARGETS_MS,
    TOOL_NAMES,
    render_markdown,
    verdict,
    verdict_lines,
    write_tools_report,
)
from benchmarks.tools_timing import bench_search, bench_tool, measure_embedder, peak_rss_mb
from catalog.measure import cpu_cores

__all__ = ["RETRIEVAL", "TOOL_NAMES", "add_tools_command", "parse_sizes", "render_markdown",
           "run_tools_bench", "synthetic_catalog", "write_tools_report"]

if TYPE_CHECKING:  # the CLI imports this module to build its parser: keep that import light
    import numpy as np

    from tools.base import ConvrecTool, ToolResources

STORE_BATCH = 4096
WARMUP_CALLS = 3
DOC_EMBED_SAMPLE = 32

def parse_sizes(text: str) -> list[int]:
    """Catalog sizes from '10000', '10k,100k,1m' or '10_000,100000' (sorted, de-duplicated)."""
    sizes: set[int] = set()
    for part in text.replace("_", "").lower().split(","):
        part = part.strip()
        if not part:
            continue
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1], 1)
        number = int(float(part[:-1] if scale > 1 else part) * scale)
        if number < 10:
            raise argparse.ArgumentTypeError(f"catalog size {part!r} is below 10 items")
        sizes.add(number)
    if not sizes:
        raise argparse.ArgumentTypeError(f"no catalog size in {text!r}")
    return sorted(sizes)


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


# ---------------------------------------------------------------------------- building tools

def fill_store(resources: ToolResources, rng: np.random.Generator, show: bool) -> bool:
    """Fill the catalog's Chroma collection with random unit vectors through `add_items`.

    Returns:
        False when a kept collection already held every item (nothing was added).
    """
    from tools.engines.chroma_store import add_items, open_collection

    collection = open_collection(resources)
    items = list(resources.catalog.items.values())
    if collection.count() == len(items):
        return False
    genres = resources.catalog.genres()
    starts = range(0, len(items), STORE_BATCH)
    for start in progress(starts, len(starts), "chroma (random vectors)", show):
        chunk = items[start:start + STORE_BATCH]
        add_items(collection, chunk, unit_vectors(len(chunk), rng), genres)
    return True


def build_tools(syn: Synthetic, cache_dir: Path, rng: np.random.Generator,
                show: bool) -> tuple[dict[str, ConvrecTool], dict[str, dict[str, float]]]:
    """Create the three tools through the registry (building their artifacts); time each."""
    from tools.base import ToolResources
    from tools.registry import ToolRegistry

    registry = ToolRegistry()
    resources = ToolResources(catalog=syn.catalog, cache_dir=cache_dir, show_progress=show)
    tools: dict[str, ConvrecTool] = {}
    builds: dict[str, dict[str, float]] = {}
    for name in TOOL_NAMES:
        stage(f"{len(syn.item_ids)} items: building {name}", show)
        fill_s = 0.0
        filled = False
        if name == RETRIEVAL:
            start = time.perf_counter()
            filled = fill_store(resources, rng, show)
            fill_s = time.perf_counter() - start
        start = time.perf_counter()
        tools[name] = registry.create(name, resources)
        create_s = time.perf_counter() - start
        builds[name] = {"build_s": fill_s + create_s, "create_s": create_s}
        if name == RETRIEVAL:
            builds[name]["store_fill_s"] = fill_s
            builds[name]["reused"] = not filled
    return tools, builds


def bench_size(n_items: int, n_queries: int, k: int, seed: int, workdir: Path,
               embedder: dict[str, Any], show: bool) -> dict[str, Any]:
    """Build a synthetic catalog of n_items and its tools, then time every tool."""
    import numpy as np

    start = time.perf_counter()
    syn = synthetic_catalog(n_items, seed, show)
    catalog_s = time.perf_counter() - start
    rng = np.random.default_rng([seed, n_items, 1])
    tools, builds = build_tools(syn, workdir / f"n{n_items}", rng, show)
    queries = make_queries(syn, WARMUP_CALLS + n_queries, rng)
    warmup, queries = queries[:WARMUP_CALLS], queries[WARMUP_CALLS:]
    results: dict[str, dict[str, Any]] = {}
    for name, tool in tools.items():
        stage(f"{n_items} items: timing {name} on {n_queries} queries", show)
        results[name] = {**{key: v if isinstance(v, bool) else round(v, 3)
                            for key, v in builds[name].items()},
                         **bench_tool(tool, queries, warmup, k)}
    retrieval = results[RETRIEVAL]
    retrieval.update(bench_search(tools[RETRIEVAL], queries, warmup, k))
    embed_p50 = embedder["query_embed_ms"][TARGET_STAT]
    retrieval["query_embed_p50_ms"] = embed_p50
    retrieval["total_p50_ms"] = round(embed_p50 + retrieval["search_ms"][TARGET_STAT], 3)
    retrieval["embed_catalog_estimate_s"] = round(n_items / embedder["documents_per_s"], 1)
    for name, res in results.items():
        value = res["total_p50_ms"] if name == RETRIEVAL else res["score_ms"][TARGET_STAT]
        res.update(verdict(name, n_items, value))
    del tools, queries, warmup
    gc.collect()
    inter = syn.catalog.interactions
    return {"items": n_items, "users": syn.n_users, "people": syn.n_people,
            "interactions": len(inter), "triples": len(syn.catalog.triples),
            "catalog_s": round(catalog_s, 3), "tools": results,
            "reused_artifacts": bool(results[RETRIEVAL].get("reused")),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def run_tools_bench(sizes: Sequence[int], queries: int = 200, k: int = 50, seed: int = 0,
                    workdir: Path | None = None, keep: bool = False,
                    show: bool = True) -> dict[str, Any]:
    """Time each tool's `score` on synthetic catalogs of the given sizes.

    Args:
        sizes: Catalog sizes in items.
        queries: Timed queries per tool and size (and query texts embedded).
        k: Candidates asked of each tool.
        seed: Seed of the synthetic data and queries.
        workdir: Where artifacts go (default: a fresh temp dir).
        keep: Keep the artifacts instead of deleting them at the end.
        show: Progress bars and stage lines on stderr.

    Returns:
        The JSON-able result (see `write_tools_report`).
    """
    import numpy as np

    from tools.engines.chroma_store import item_document

    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="convrec-bench-tools-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        stage("embedder: loading and timing one query text per call", show)
        sample = synthetic_catalog(max(queries, DOC_EMBED_SAMPLE, 10), seed)
        texts = [q.profile.free_text for q in make_queries(
            sample, WARMUP_CALLS + queries, np.random.default_rng([seed, 2]))]
        docs = [item_document(i) for i in list(sample.catalog.items.values())[:DOC_EMBED_SAMPLE]]
        embedder = measure_embedder(texts[WARMUP_CALLS:], texts[:WARMUP_CALLS], docs)
        results = [bench_size(n, queries, k, seed, root, embedder, show) for n in sizes]
    finally:
        if keep:
            stage(f"artifacts kept in {root}", show)
        else:
            shutil.rmtree(root, ignore_errors=True)
    return {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": cpu_cores(), "python": platform.python_version()},
        "settings": {"items": list(sizes), "queries": queries, "k": k, "seed": seed,
                     "interactions_per_item": INTERACTIONS_PER_ITEM,
                     "max_interactions": MAX_INTERACTIONS,
                     "retrieval_vectors": "random unit vectors (search timed apart from the "
                                          "query embedding)"},
        "targets": {"items": TARGET_ITEMS, "stat": TARGET_STAT, "ms": TARGETS_MS},
        "embedder": embedder,
        "sizes": results,
    }


# ---------------------------------------------------------------------------- command line

def add_tools_command(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                      common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `bench tools`."""
    p = sub.add_parser("tools", help="per-call latency of each tool on synthetic catalogs")
    common(p)
    p.add_argument("--items", type=parse_sizes, default=[TARGET_ITEMS],
                   help="catalog size(s), e.g. 10000 or 10000,100000,1000000 (default 10000)")
    p.add_argument("--queries", type=positive_int, default=200,
                   help="timed queries per tool and size (default 200)")
    p.add_argument("--k", type=positive_int, default=50, help="candidates asked of each tool")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--report", type=Path, default=Path("reports/bench"),
                   help="folder for bench-tools.md and bench-tools.json")
    p.add_argument("--keep", action="store_true", help="keep the synthetic artifacts")
    p.add_argument("--workdir", type=Path, default=None,
                   help="build the artifacts here and keep them; a later run with the same "
                        "folder, sizes and seed reuses them (build times then show loading)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars or stage lines")
    p.set_defaults(handler=_tools)


def _tools(args: argparse.Namespace) -> int:
    """Run the benchmark, write the report, print Markdown or JSON."""
    result = run_tools_bench(args.items, queries=args.queries, k=args.k, seed=args.seed,
                             workdir=args.workdir, keep=args.keep or args.workdir is not None,
                             show=not args.no_progress)
    md = write_tools_report(result, args.report)
    if args.json:
        print(json.dumps(result))
        for line in verdict_lines(result):
            print(line, file=sys.stderr)
    else:
        print(md.read_text())
    return 0
