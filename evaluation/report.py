"""Markdown reports, compact tables and PNG plots (matplotlib, Agg) of evaluation results."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from catalog.measure import markdown_table
from evaluation.faithfulness import faithfulness_by_method

log = logging.getLogger(__name__)

STAGES_HIDDEN = {"turn", "total"}


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table as one string (`catalog.measure.markdown_table`)."""
    return "\n".join(markdown_table(header, rows))


def _ci(est: dict[str, Any] | None, digits: int = 3) -> str:
    """'0.123 [0.100, 0.150]' from an Estimate dict."""
    if not est or not est.get("n"):
        return "n/a"
    return (f"{est['value']:.{digits}f} [{est['lo']:.{digits}f}, {est['hi']:.{digits}f}]")


def interview_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the headline interview table (one row per method, 95 % intervals)."""
    cfg = results["config"]
    turns, k = cfg["turns"], cfg["k"]
    th = max(turns)
    header = (["method"] + [f"success@T={t}" for t in turns]
              + [f"avg turn (T={th})", f"ranking Recall@{k} (T={th})", "invalid JSON",
                 "invalid tool", "turn p50 s", "turn p95 s"])
    rows = []
    for name, m in results["methods"].items():
        succ = m.get("success", {})
        lat = m["latency"].get("turn", {})
        rank = m["metrics"].get(f"T={th},K={k}", {})
        rows.append([name] + [_ci(succ.get(f"T={t}", {}).get("success")) for t in turns]
                    + [_ci(succ.get(f"T={th}", {}).get("avg_turn"), 2),
                       _ci(rank.get("recall_ci")),
                       _fmt(m["invalid_json_rate"]), _fmt(m["invalid_tool_call_rate"]),
                       _fmt(lat.get("p50"), 4), _fmt(lat.get("p95"), 4)])
    return header, rows


def paired_rows(paired: dict[str, Any], keys: list[str],
                digits: int = 3) -> tuple[list[str], list[list[str]]]:
    """Paired differences a - b with 95 % intervals and P(diff <= 0), one row per pair."""
    header = ["a - b", "n"] + [f"{key}" for key in keys]
    rows = []
    for pair, entry in paired.items():
        cells = []
        for key in keys:
            node: Any = entry
            for part in key.split("/"):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            cells.append(f"{_ci(node, digits)} p<=0 {node.get('p_le_zero', 1.0):.3f}"
                         if node else "n/a")
        rows.append([pair, str(entry.get("users", entry.get("samples", "")))] + cells)
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
    th = max(cfg["turns"])
    out = [
        "# Simulated cold-start interviews", "",
        f"Catalog `{cfg['catalog']}`, {cfg['n_users']} simulated **{cfg.get('users_from', 'test')}"
        f"** users (seed {cfg['seed']}; held-out users split into {split.get('dev_cases', 'n/a')}"
        f" development and {split.get('test_cases', 'n/a')} test cases), simulator "
        f"`{cfg['simulator']}`, agent backend `{cfg.get('backend')}`. Held-out users: "
        f"{split['test_users']} (their ratings are hidden from CF and popularity; "
        f"{split.get('train_ratings', 'n/a')} training ratings remain); {split['without_target']}"
        " had no usable target. The user knows the target's genres, era, one famous director or "
        "star, mood words and other films they liked, answers vaguely at times, and looks at "
        "the first 5 cards of a recommendation turn. success@T: the target was among the cards "
        "shown in a turn <= T. Ranking Recall@K reads the structured ranking at turn T (ranks "
        "the user never saw). Baselines rank from what the simulator revealed (perfect "
        "understanding, the same tool inputs the agent's profile sends), show their top 5 every"
        " turn and ask a fixed slot order. Brackets: bootstrap 95 % intervals over users.", "",
    ]
    header, rows = interview_rows(results)
    out += [_table(header, rows), ""]
    if results.get("paired"):
        keys = [f"T={t}" for t in cfg["turns"]]
        out += ["## Paired differences in success@T (same users)", ""]
        out += [_table(*paired_rows(results["paired"], keys)), ""]
    out += [f"## Ranking Recall@K at T={th} (not shown to the user)", ""]
    ks = cfg["ks"]
    out += [_table(["method"] + [f"K={k}" for k in ks],
                   [[n] + [_ci(m["metrics"][f"T={th},K={k}"].get("recall_ci")) for k in ks]
                    for n, m in results["methods"].items()]), ""]
    out += ["## Cost per turn", ""]
    out += [_table(["method", "LLM calls", "prompt tokens", "generated tokens", "replies",
                    "redactions"],
                   [[n, _fmt(m["tokens"]["llm_calls_per_turn"], 2),
                     _fmt(m["tokens"]["prompt_tokens_per_turn"], 1),
                     _fmt(m["tokens"]["completion_tokens_per_turn"], 1),
                     ", ".join(f"{k} {v}" for k, v in sorted(m["reply_kinds"].items())),
                     str(m["redactions"])] for n, m in results["methods"].items()]), ""]
    faithful = faithfulness_by_method(results["methods"])
    if faithful:
        out += [faithful]
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
        curve = m.get("success_curve")
        if isinstance(curve, dict):
            curve = curve.get(str(cfg["k"]))
        if curve:
            ax.plot(range(1, len(curve) + 1), curve, marker="o", label=name)
    ax.set(xlabel="turn budget T", ylabel="success@T (target among shown cards)", ylim=(0, 1.02),
           title="Success vs turns")
    ax.legend(fontsize=8)
    files["success vs turns"] = _save(fig, folder, "success_vs_turns.png", plt)
    th = max(cfg["turns"])
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
    """Header and rows of the ReDial table: Recall@K, all targets then new targets (95 % CI)."""
    ks = results["config"]["ks"]
    header = (["method"] + [f"R@{k} all" for k in ks] + [f"R@{k} new" for k in ks]
              + ["samples", "s/sample p50"])
    rows = [[n] + [_ci(m["recall"]["all"][str(k)]) for k in ks]
            + [_ci(m["recall"]["new"][str(k)]) for k in ks]
            + [str(m["samples"]), _fmt(m["seconds_p50"], 4)] for n, m in results["methods"].items()]
    return header, rows


def redial_table(results: dict[str, Any]) -> str:
    """A compact plain-text ReDial table."""
    header, rows = redial_rows(results)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(_mapping_line(results.get("mapping", {})))
    held = _held_out_line(results.get("config", {}))
    if held:
        lines.append(held)
    return "\n".join(lines)


def _held_out_line(config: dict[str, Any]) -> str:
    held = config.get("held_out_of_trained_artifacts")
    if not held:
        return ""
    return (f"held out: {held['samples_kept']} of {held['samples_before']} samples scored, those "
            f"whose dialogues the {' and '.join(held['sources'])} never saw")


def _mapping_line(mp: dict[str, Any]) -> str:
    if not mp:
        return ""
    return (f"samples {mp.get('scored_samples', mp.get('samples'))} (none dropped), pairs "
            f"{mp.get('scored_pairs', mp.get('pairs'))}, of which unmappable (always missed) "
            f"{mp.get('scored_pairs_unmapped', mp.get('pairs_unmapped'))}; new-target pairs "
            f"{mp.get('scored_pairs_new', mp.get('pairs_new'))}")


def write_redial_report(results: dict[str, Any], folder: Path | str) -> Path:
    """Write redial.md and the recall plot into `folder`; returns the Markdown path."""
    plt = _plt()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg, methods = results["config"], results["methods"]
    ks = cfg["ks"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, proto, title in ((axes[0], "all", "all targets"), (axes[1], "new", "new targets")):
        for name, m in methods.items():
            ax.plot(ks, [m["recall"][proto][str(k)]["value"] for k in ks], marker="o", label=name)
        ax.set(xlabel="K", title=title)
    axes[0].set_ylabel("Recall@K")
    axes[0].legend(fontsize=8)
    plot = _save(fig, folder, "redial_recall.png", plt)
    header, rows = redial_rows(results)
    anchors = [[a["model"], _fmt(a["r10"]), a["protocol"], a["split"]]
               for a in results.get("published_r10", [])]
    text = [
        "# ReDial dialogue-context evaluation", "",
        f"File `{cfg['dialogues']}` (**{cfg.get('split', 'dev')} split**). Given the context, "
        "each method ranks K items; Recall@K counts every (sample, target) pair, a target that "
        "does not map to the catalog is a miss, and no sample is dropped. 'all': every target "
        "the human recommended next. 'new': only targets not mentioned earlier in the dialogue, "
        "ranked among the non-mentioned items (de-duplicated protocol). Brackets: bootstrap "
        "95 % intervals, resampling dialogues.", "",
        _mapping_line(results.get("mapping", {})), _held_out_line(results.get("config", {})), "",
        _table(header, rows), "",
        "What each method reads:", "",
        *[f"- {m}: {r}" for m, r in results.get("reads", {}).items()], "",
        "Justifications are not drafted here (the transcript methods run with "
        "`justify_with_llm = false`): their faithfulness (draft pass and fallback rates) is in "
        "the interview report and `convrec bench turn`.", "",
    ]
    if results.get("paired"):
        keys = [f"{p}/{k}" for p in ("all", "new") for k in ks if k == 10] or [f"all/{ks[-1]}"]
        text += ["Paired differences in Recall (same samples, dialogues resampled):", "",
                 _table(*paired_rows(results["paired"], keys)), ""]
    text += ["Published Recall@10 (other splits; anchors only, not comparable one to one):", "",
             _table(["model", "R@10", "protocol", "split"], anchors), ""]
    if results.get("skipped_methods"):
        text += ["Not run:", ""] + [f"- {k}: {v}" for k, v in
                                    results["skipped_methods"].items()] + [""]
    text.append(f"![recall]({plot})")
    path = folder / "redial.md"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path
