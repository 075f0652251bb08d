"""Markdown and JSON reports of `convrec bench load`: one table per engine and their comparison."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from catalog.measure import markdown_table

REPORT_NAME = "bench-load"


def num(value: Any, digits: int = 2) -> str:
    """A number for a table cell; '-' for None/NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def level_table(levels: list[dict[str, Any]]) -> list[str]:
    """Markdown rows: throughput and latency per concurrency level, then per turn kind."""
    load = any("loadavg_after" in level for level in levels)
    rows = []
    for level in levels:
        s = level["latency_s"]
        row = [level["sessions"], f"{level['turns_completed']}/{level['turns_planned']}",
               level["failed_turns"], level["llm_calls"], level["llm_failures"],
               num(level["wall_s"], 1), num(level["turns_per_s"], 3), num(s["p50"]),
               num(s["p95"]), num(s["max"])]
        if load:
            row.append(num((level.get("loadavg_after") or [math.nan])[0], 1))
        rows.append(row)
    lines = markdown_table(["sessions", "turns", "failed turns", "LLM calls", "failed LLM calls",
                            "wall s", "turns/s", "p50 s", "p95 s", "max s"]
                           + (["load avg (1 min) after"] if load else []), rows)
    lines += ["", *markdown_table(["sessions", "turn kind", "n", "p50 s", "p95 s"], [
        [level["sessions"], kind, s["n"], num(s["p50"]), num(s["p95"])]
        for level in levels for kind, s in level["by_kind"].items()])]
    server = [lv for lv in levels if lv.get("server")]
    if server:
        lines += ["", "Inside the server (from its /metrics, per level): prompt tokens it "
                  "computed and took from its cache, generated tokens, forward passes and the "
                  "mean number of sequences batched in each.", ""]
        lines += markdown_table(
            ["sessions", "prompt tok", "cached prompt tok", "generated tok", "gen tok/s (wall)",
             "decode passes", "busy slots / pass"],
            [[lv["sessions"], f"{m['prompt_tokens']:.0f}", f"{m['prompt_tokens_cached']:.0f}",
              f"{m['tokens_predicted']:.0f}", num(m["tokens_predicted"] / lv["wall_s"], 1),
              f"{m['decode_passes']:.0f}", num(m["busy_slots_per_pass"])]
             for lv in server for m in [lv["server"]]])
    return lines


def comparison_table(result: dict[str, Any]) -> list[str]:
    """Markdown rows: each engine's turns/s and p50/p95 per level, and its throughput ratio to
    the baseline engine (`result["baseline"]`)."""
    engines = list(result["engines"])
    base = result.get("baseline")
    if len(engines) < 2 or base not in engines:
        return []
    others = [e for e in engines if e != base]
    header = ["sessions", *(f"{e} {col}" for e in engines for col in ("turns/s", "p50 s", "p95 s")),
              *(f"{e} / {base} turns/s" for e in others)]
    rows = []
    for row in result["comparison"]:
        cells = [str(row["sessions"])]
        for e in engines:
            cells += [num(row[e]["turns_per_s"], 3), num(row[e]["p50"]), num(row[e]["p95"])]
        cells += [num(row["ratio"].get(e)) + "x" for e in others]
        rows.append(cells)
    return markdown_table(header, rows)



def write_load_report(result: dict[str, Any], folder: Path, name: str = REPORT_NAME) -> Path:
    """Write `<name>.json` and a Markdown table `<name>.md`; return the Markdown path.

    `result` has either `levels` (one engine) or `engines` ({name: {levels, servers, ...}}
    with a `comparison`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, indent=2))
    lines = [f"# {name}", "", f"settings: `{json.dumps(result.get('settings', {}))}`", "",
             f"{result.get('turns_per_session', '?')} scripted turn(s) per session; "
             "latency = wall time of one turn, server queueing included."]
    errors: list[str] = []
    if "engines" in result:
        comparison = comparison_table(result)
        if comparison:
            lines += ["", "## Engines compared", ""] + comparison
        for engine, run in result["engines"].items():
            lines += ["", f"## {engine}", "", f"server: `{json.dumps(run.get('servers', {}))}`",
                      ""] + level_table(run["levels"])
            if run.get("setup_s"):
                lines += ["", "setup: `" + json.dumps({k: round(v, 2)
                                                       for k, v in run["setup_s"].items()}) + "`"]
            lines += [f"note: {note}" for note in run.get("notes", [])]
            errors += [f"{engine}: {e}" for level in run["levels"] for e in level["errors"]]
    else:
        if "servers" in result:
            lines.append(f"servers: `{json.dumps(result['servers'])}`")
        lines += [""] + level_table(result["levels"])
        errors += [e for level in result["levels"] for e in level["errors"]]
        lines += [f"note: {note}" for note in result.get("notes", [])]
    if errors:
        lines += ["", "errors:"] + [f"- {e}" for e in errors]
    if result.get("setup_s"):
        lines += ["", "setup: `" + json.dumps({k: round(v, 2)
                                               for k, v in result["setup_s"].items()}) + "`"]
    if result.get("machine"):
        lines.append(f"machine: `{json.dumps(result['machine'])}`")
    path = folder / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
