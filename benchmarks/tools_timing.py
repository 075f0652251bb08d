"""Timing for `convrec bench tools`: per-call latencies of tools, search and embedder; peak RSS."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from benchmarks.stats import summary

if TYPE_CHECKING:
    from benchmarks.synthetic import Query
    from tools.base import ConvrecTool

T = TypeVar("T")


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def time_ms(call: Callable[[T], object], inputs: Sequence[T],
            warmup: Sequence[T] = ()) -> tuple[list[float], float]:
    """Milliseconds of `call` on each input, after untimed `warmup` calls; and the first call."""
    first = 0.0
    for n, value in enumerate(warmup):
        start = time.perf_counter()
        call(value)
        if n == 0:
            first = (time.perf_counter() - start) * 1000
    out: list[float] = []
    for value in inputs:
        start = time.perf_counter()
        call(value)
        out.append((time.perf_counter() - start) * 1000)
    return out, first


def rounded(stats: dict[str, float], digits: int = 3) -> dict[str, float]:
    """A summary with its floats rounded for the report."""
    return {k: (v if k == "n" else round(float(v), digits)) for k, v in stats.items()}


def measure_embedder(texts: list[str], warmup: list[str], documents: list[str]) -> dict[str, Any]:
    """Model load time, per-call latency of embedding ONE query text, and document throughput."""
    from tools.engines.embeddings import embed, load_encoder

    start = time.perf_counter()
    load_encoder()
    load_s = time.perf_counter() - start
    times, _ = time_ms(lambda text: embed([text]), texts, warmup)
    start = time.perf_counter()
    embed(documents)
    docs_per_s = len(documents) / max(time.perf_counter() - start, 1e-9)
    return {"model_load_s": round(load_s, 3), "query_embed_ms": rounded(summary(times)),
            "documents_per_s": round(docs_per_s, 1)}


def bench_tool(tool: ConvrecTool, queries: list[Query], warmup: list[Query],
               k: int) -> dict[str, Any]:
    """Latency of `tool.score` on every query, and how many candidates came back."""
    from tools.base import ToolState

    state = ToolState()
    counts: list[int] = []

    def call(query: Query) -> None:
        counts.append(len(tool.score(query.profile, k, state)))

    times, first = time_ms(call, queries, warmup)
    counts = counts[len(warmup):]
    return {"score_ms": rounded(summary(times)), "first_call_ms": round(first, 3),
            "candidates_mean": round(sum(counts) / len(counts), 2)}


def bench_search(tool: Any, queries: list[Query], warmup: list[Query], k: int) -> dict[str, Any]:
    """Latency of the retrieval search with precomputed query vectors (no embedding)."""
    from tools.base import ToolState

    state = ToolState()
    counts: list[int] = []

    def call(query: Query) -> None:
        counts.append(len(tool.score_with_vector(query.profile, k, state, query.vector)))

    times, first = time_ms(call, queries, warmup)
    counts = counts[len(warmup):]
    return {"search_ms": rounded(summary(times)), "search_first_call_ms": round(first, 3),
            "candidates_mean": round(sum(counts) / len(counts), 2)}
