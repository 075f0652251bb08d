"""Markdown reports, compact tables and PNG plots (matplotlib, Agg) of evaluation results."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STAGES_HIDDEN = {"turn", "total"}


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _headline_turn(turns: list[int]) -> int:
    return 5 if 5 in turns else max(turns)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def interview_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the headline interview table (one row per method)."""
    cfg = results["config"]
    turns, k = cfg["turns"], cfg["k"]
    th = _headline_turn(turns)
    header = (["method"] + [f"success@T={t}" for t in turns]
              + [f"avg turn (T={th})", f"Recall@{k}", f"NDCG@{k}", "invalid JSON",
                 "invalid tool", "turn p50 s", "turn p95 s"])
    rows = []
    for name, m in results["methods"].items():
        mt = m["metrics"]
        head = mt[f"T={th},K={k}"]
        lat = m["latency"].get("turn", {})
        rows.append([name] + [_fmt(mt[f"T={t},K={k}"]["success"]) for t in turns]
                    + [_fmt(head["avg_turn"], 2), _fmt(head["recall"]), _fmt(head["ndcg"]),
                       _fmt(m["invalid_json_rate"]), _fmt(m["invalid_tool_call_rate"]),
                       _fmt(lat.get("p50"), 4), _fmt(lat.get("p95"), 4)])
    return header, rows


def interview_table(results: dict[str, Any]) -> str:
    """A compact plain-text table for the terminal."""
    header, rows = interview_rows(results)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def interview_markdown(results: dict[str, Any], plots: dict[str, str]) -> str:
    """The interview report as Markdown (plots referenced by relative file name)."""
    cfg, split = results["config"], results["split"]
    th = _headline_turn(cfg["turns"])
    out = [
        "# Simulated cold-start interviews", "",
        f"Catalog `{cfg['catalog']}`, {cfg['n_users']} simulated users (seed {cfg['seed']}), "
        f"simulator `{cfg['simulator']}`, agent backend `{cfg.get('backend')}`. "
        f"Held-out users: {split['test_users']} (their {split.get('train_ratings', 'n/a')} "
        f"remaining training ratings feed CF and popularity); {split['without_target']} test "
        "users had no usable target. Success: the target is in the method's structured "
        f"top-{cfg['k']} after any user turn <= T. Recall/NDCG on the ranking at turn T "
        "(a dialogue ends when the agent recommends the target). Baselines rank from what the "
        "simulator revealed (perfect understanding) and ask a fixed slot order.", "",
    ]
    header, rows = interview_rows(results)
    out += [_table(header, rows), ""]
    out += [f"## Success at T={th} by K", ""]
    ks = cfg["ks"]
    out += [_table(["method"] + [f"K={k}" for k in ks],
                   [[n] + [_fmt(m["metrics"][f"T={th},K={k}"]["success"]) for k in ks]
                    for n, m in results["methods"].items()]), ""]
    out += ["## Cost per turn", ""]
    out += [_table(["method", "LLM calls", "prompt tokens", "generated tokens", "replies",
                    "redactions"],
                   [[n, _fmt(m["tokens"]["llm_calls_per_turn"], 2),
                     _fmt(m["tokens"]["prompt_tokens_per_turn"], 1),
                     _fmt(m["tokens"]["completion_tokens_per_turn"], 1),
                     ", ".join(f"{k} {v}" for k, v in sorted(m["reply_kinds"].items())),
                     str(m["redactions"])] for n, m in results["methods"].items()]), ""]
    if results.get("skipped_methods"):
        out += ["## Not run", ""] + [f"- {k}: {v}" for k, v in
                                     results["skipped_methods"].items()] + [""]
    out += [f"![{name}]({file})" for name, file in plots.items()]
    return "\n".join(out) + "\n"


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def interview_plots(results: dict[str, Any], folder: Path) -> dict[str, str]:
    """Success vs turns, Recall@K per method, latency by stage; returns {title: file name}."""
    plt = _plt()
    cfg = results["config"]
    methods = results["methods"]
    files: dict[str, str] = {}
    if not methods:
        return files
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, m in methods.items():
        curve = m.get("success_curve", {}).get(str(cfg["k"]))
        if curve:
            ax.plot(range(1, len(curve) + 1), curve, marker="o", label=name)
    ax.set(xlabel="turn budget T", ylabel=f"success@T (K={cfg['k']})", ylim=(0, 1.02),
           title="Success vs turns")
    ax.legend(fontsize=8)
    files["success vs turns"] = _save(fig, folder, "success_vs_turns.png", plt)
    th = _headline_turn(cfg["turns"])
    fig, ax = plt.subplots(figsize=(7, 4))
    ks, names = cfg["ks"], list(methods)
    width = 0.8 / max(len(ks), 1)
    for j, k in enumerate(ks):
        vals = [methods[n]["metrics"][f"T={th},K={k}"]["recall"] for n in names]
        ax.bar([i + j * width for i in range(len(names))], vals, width, label=f"K={k}")
    ax.set_xticks([i + width * (len(ks) - 1) / 2 for i in range(len(names))], names,
                  rotation=30, ha="right")
    ax.set(ylabel=f"Recall@K at turn {th}", ylim=(0, 1.02), title="Recall@K per method")
    ax.legend(fontsize=8)
    files["recall@K"] = _save(fig, folder, "recall_at_k.png", plt)
    files["latency"] = latency_plot(
        {n: m["latency"] for n, m in methods.items()}, folder, plt)
    return files


def latency_plot(latency: dict[str, dict[str, dict[str, float]]], folder: Path,
                 plt: Any = None) -> str:
    """Stacked bars of p50 seconds per stage for each method."""
    plt = plt or _plt()
    stages = sorted({s for lat in latency.values() for s in lat if s not in STAGES_HIDDEN})
    names = list(latency)
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = [0.0] * len(names)
    for stage in stages:
        vals = [latency[n].get(stage, {}).get("p50", 0.0) for n in names]
        vals = [0.0 if v is None or v != v else v for v in vals]
        ax.bar(names, vals, bottom=bottom, label=stage)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set(ylabel="seconds (p50 per stage)", title="Latency breakdown by stage")
    ax.tick_params(axis="x", rotation=30)
    if stages:
        ax.legend(fontsize=7)
    return _save(fig, folder, "latency.png", plt)


def _save(fig: Any, folder: Path, name: str, plt: Any) -> str:
    fig.tight_layout()
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)
    return name


def write_interview_report(results: dict[str, Any], folder: Path | str) -> Path:
    """Write report.md and the PNG plots into `folder`; returns the Markdown path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plots = interview_plots(results, folder)
    path = folder / "report.md"
    path.write_text(interview_markdown(results, plots), encoding="utf-8")
    log.info("report written to %s", path)
    return path


def redial_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the ReDial table (Recall@K, then with mentioned items removed)."""
    ks = results["config"]["ks"]
    header = (["method"] + [f"R@{k}" for k in ks] + [f"R@{k} -mentioned" for k in ks]
              + ["n", "s/sample p50"])
    rows = [[n] + [_fmt(m["recall"][str(k)]) for k in ks]
            + [_fmt(m["recall_mentioned_removed"][str(k)]) for k in ks]
            + [str(m["n"]), _fmt(m["seconds_p50"], 4)] for n, m in results["methods"].items()]
    return header, rows


def redial_table(results: dict[str, Any]) -> str:
    """A compact plain-text ReDial table."""
    header, rows = redial_rows(results)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    mp = results["mapping"]
    lines.append(f"samples read {mp['samples_read']}, scored {mp['samples_scored']}, excluded "
                 f"(no mappable target) {mp['samples_without_target']}; unmappable targets "
                 f"{mp['targets_unmapped']}/{mp['targets']} (excluded)")
    return "\n".join(lines)


def write_redial_report(results: dict[str, Any], folder: Path | str) -> Path:
    """Write redial.md and recall plot into `folder`; returns the Markdown path."""
    plt = _plt()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ks, methods = results["config"]["ks"], results["methods"]
    mp = results["mapping"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, key, title in ((axes[0], "recall", "all targets"),
                           (axes[1], "recall_mentioned_removed", "mentioned items removed")):
        for name, m in methods.items():
            ax.plot(ks, [m[key][str(k)] for k in ks], marker="o", label=name)
        ax.set(xlabel="K", title=title)
    axes[0].set_ylabel("Recall@K")
    axes[0].legend(fontsize=8)
    plot = _save(fig, folder, "redial_recall.png", plt)
    header, rows = redial_rows(results)
    anchors = [[k, _fmt(v)] for k, v in results.get("published_r10_test", {}).items()]
    text = [
        "# ReDial dialogue-context evaluation", "",
        f"File `{results['config']['dialogues']}`; protocol of He et al. 2023: given the context, "
        "recommend K items; Recall@K against the titles the human recommended next. "
        "'-mentioned': items mentioned in the context removed from the targets and the ranking "
        "(samples whose targets were all mentioned are left out of that column).", "",
        f"Samples read: {mp['samples_read']}; scored: {mp['samples_scored']}; excluded because no "
        f"target maps to the catalog: {mp['samples_without_target']}. Target titles that could "
        f"not be mapped (excluded from the targets): {mp['targets_unmapped']} of "
        f"{mp['targets']}.", "",
        _table(header, rows), "",
        "Published Recall@10 on the ReDial test set (not the same split; anchors only):", "",
        _table(["model", "R@10"], anchors), "",
    ]
    if results.get("skipped_methods"):
        text += ["Not run:", ""] + [f"- {k}: {v}" for k, v in
                                    results["skipped_methods"].items()] + [""]
    text.append(f"![recall]({plot})")
    path = folder / "redial.md"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path
