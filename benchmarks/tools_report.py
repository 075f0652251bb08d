"""Targets, verdicts and the Markdown/JSON report of `convrec bench tools`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog.measure import markdown_table

RETRIEVAL, CF, KG = "vector_retrieval", "cf_scoring", "kg_expansion"
TOOL_NAMES = (RETRIEVAL, CF, KG)
TARGET_ITEMS = 10_000
TARGETS_MS = {RETRIEVAL: 15.0, CF: 5.0, KG: 5.0}
"""Per-call latency targets (p50, ms) checked on the TARGET_ITEMS catalog."""
TARGET_STAT = "p50"

def verdict(name: str, n_items: int, value_ms: float) -> dict[str, Any]:
    """Target and PASS/FAIL for a tool; only the TARGET_ITEMS catalog is judged."""
    if n_items != TARGET_ITEMS:
        return {"target_ms": None, "pass": None}
    return {"target_ms": TARGETS_MS[name], "pass": bool(value_ms <= TARGETS_MS[name])}


def verdict_lines(result: dict[str, Any]) -> list[str]:
    """'PASS vector_retrieval 9.1 ms <= 15 ms' lines for the judged catalog size."""
    lines: list[str] = []
    for size in result["sizes"]:
        for name, res in size["tools"].items():
            if res["pass"] is None:
                continue
            value = res["total_p50_ms"] if name == RETRIEVAL else res["score_ms"][TARGET_STAT]
            word, sign = ("PASS", "<=") if res["pass"] else ("FAIL", ">")
            lines.append(f"{word} {name} at {size['items']} items: {TARGET_STAT} {value:.2f} ms "
                         f"{sign} target {res['target_ms']:g} ms")
    return lines


def _table(result: dict[str, Any]) -> list[str]:
    """Markdown rows: one per size and tool."""
    rows = []
    for size in result["sizes"]:
        for name, res in size["tools"].items():
            s = res["score_ms"]
            target = f"{res['target_ms']:g} ms" if res["target_ms"] is not None else "-"
            outcome = {True: "PASS", False: "FAIL", None: "-"}[res["pass"]]
            build = f"{res['build_s']:.2f}" + (" (kept, loaded)" if size.get("reused_artifacts")
                                               else "")
            rows.append([size["items"], name, build, f"{s['p50']:.2f}", f"{s['p95']:.2f}",
                         f"{s['mean']:.2f}", f"{res['first_call_ms']:.1f}",
                         f"{res['candidates_mean']:.1f}", target, outcome])
    return markdown_table(["items", "tool", "build s", "p50 ms", "p95 ms", "mean ms",
                           "first call ms", "candidates", "target", "result"], rows)


def render_markdown(result: dict[str, Any]) -> str:
    """The Markdown report of a `run_tools_bench` result."""
    emb = result["embedder"]
    lines = ["# bench-tools", "", f"settings: `{json.dumps(result['settings'])}`",
             f"machine: `{json.dumps(result['machine'])}`", "",
             "Latency of one `score` call per tool (vector_retrieval: the real `score`, i.e. "
             "query embedding + search). Targets are judged on the "
             f"{TARGET_STAT} at {TARGET_ITEMS} items (retrieval: embedding p50 + search p50).",
             "", *_table(result), "",
             "## Retrieval: query embedding + search",
             "", "The catalog vectors are random unit vectors (embedding a large catalog on a "
             "CPU is infeasible); the search is timed with precomputed query vectors and the "
             "query embedding separately, on real query texts.", "",
             f"embedder: model load {emb['model_load_s']:.2f} s, one query text "
             f"p50 {emb['query_embed_ms']['p50']:.2f} ms / p95 {emb['query_embed_ms']['p95']:.2f}"
             f" ms, documents {emb['documents_per_s']:.0f}/s", "",
             "| items | embed p50 ms | search p50 ms | search p95 ms | total p50 ms | "
             "store fill s | est. embed catalog s |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for size in result["sizes"]:
        r = size["tools"][RETRIEVAL]
        lines.append(f"| {size['items']} | {r['query_embed_p50_ms']:.2f} | "
                     f"{r['search_ms']['p50']:.2f} | {r['search_ms']['p95']:.2f} | "
                     f"{r['total_p50_ms']:.2f} | {r['store_fill_s']:.1f} | "
                     f"{r['embed_catalog_estimate_s']:.0f} |")
    lines += ["", "## Catalogs", "", "| items | users | ratings | triples | people | "
              "catalog s | peak RSS MiB |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for size in result["sizes"]:
        lines.append(f"| {size['items']} | {size['users']} | {size['interactions']} | "
                     f"{size['triples']} | {size['people']} | {size['catalog_s']:.1f} | "
                     f"{size['peak_rss_mb']:.0f} |")
    lines += ["", "Peak RSS is the process's high-water mark after each size.", ""]
    lines += verdict_lines(result) or [f"(no {TARGET_ITEMS}-item catalog: no targets judged)"]
    return "\n".join(lines) + "\n"


def write_tools_report(result: dict[str, Any], folder: Path, name: str = "bench-tools") -> Path:
    """Write `<name>.json` and `<name>.md` into folder; return the Markdown path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    path = folder / f"{name}.md"
    path.write_text(render_markdown(result))
    return path
