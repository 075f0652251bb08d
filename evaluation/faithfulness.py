"""Faithfulness of shown justifications: LLM drafts passed, repaired or replaced by the template."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

log = logging.getLogger(__name__)

STATUSES = ("passed", "repaired", "replaced", "none")


def _cards(replies: Iterable[Any]) -> Iterable[Mapping[str, Any]]:
    for reply in replies:
        data = reply.model_dump() if hasattr(reply, "model_dump") else reply
        yield from data.get("recommendations", []) or []


def faithfulness(replies: Iterable[Any]) -> dict[str, Any]:
    """Counts and rates of what became of the LLM's drafts over the cards of some replies.

    Args:
        replies: `Reply` objects or their JSON dicts (e.g. the saved turns of a run).

    Returns:
        cards, drafts (cards with an LLM draft), per status counts, draft_pass_rate
        (passed / drafts), repair_rate, fallback_rate (replaced / drafts), llm_shown_share
        (cards showing LLM words, passed or repaired / cards) and the violation kinds of
        refused drafts (e.g. {"number": 3, "evaluation": 2}).
    """
    counts: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    n_cards = 0
    for card in _cards(replies):
        n_cards += 1
        status = str(card.get("draft_status") or "none")
        counts[status if status in STATUSES else "none"] += 1
        if status in ("repaired", "replaced"):
            kinds.update({str(v).split(":", 1)[0] for v in card.get("draft_violations", [])})
    drafts = counts["passed"] + counts["repaired"] + counts["replaced"]

    def rate(n: int, d: int) -> float | None:
        return n / d if d else None

    return {
        "cards": n_cards, "drafts": drafts, **{s: counts[s] for s in STATUSES},
        "draft_pass_rate": rate(counts["passed"], drafts),
        "repair_rate": rate(counts["repaired"], drafts),
        "fallback_rate": rate(counts["replaced"], drafts),
        "llm_shown_share": rate(counts["passed"] + counts["repaired"], n_cards),
        "violation_kinds": dict(kinds.most_common()),
    }


def faithfulness_markdown(stats: Mapping[str, Any], title: str = "## Faithfulness") -> str:
    """A report section for `faithfulness()` numbers (for the evaluation reports)."""

    def pct(key: str) -> str:
        value = stats.get(key)
        return "n/a" if value is None else f"{value:.0%}"

    lines = [title, "",
             "Each card's LLM draft is checked claim by claim against its evidence "
             "(agent/claims.py); a refused draft is repaired by a checked edit or replaced by "
             "the template, never shown as written.", "",
             "| cards | LLM drafts | passed | repaired | replaced (fallback) | draft pass rate "
             "| fallback rate | cards showing LLM words |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |",
             f"| {stats['cards']} | {stats['drafts']} | {stats['passed']} | {stats['repaired']} "
             f"| {stats['replaced']} | {pct('draft_pass_rate')} | {pct('fallback_rate')} | "
             f"{pct('llm_shown_share')} |"]
    if stats.get("violation_kinds"):
        kinds = ", ".join(f"{k} {v}" for k, v in stats["violation_kinds"].items())
        lines += ["", f"Why refused drafts were refused (claims by kind): {kinds}."]
    return "\n".join(lines) + "\n"


def faithfulness_by_method(methods: Mapping[str, Mapping[str, Any]],
                           title: str = "## Faithfulness of justifications") -> str:
    """A report section with one row per method whose cards had LLM drafts ('' when none had:
    baselines show no justifications, and `justify_with_llm = false` drafts none)."""
    rows = {name: m["faithfulness"] for name, m in methods.items()
            if (m.get("faithfulness") or {}).get("drafts")}
    if not rows:
        return ""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    lines = [title, "",
             "Each card's LLM draft is checked claim by claim against its evidence "
             "(agent/claims.py); a refused draft is repaired by a checked edit or replaced by "
             "the template (fallback), never shown as written.", "",
             "| method | cards | LLM drafts | passed | repaired | replaced | draft pass rate "
             "| fallback rate | cards showing LLM words |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, st in rows.items():
        lines.append(f"| {name} | {st['cards']} | {st['drafts']} | {st['passed']} | "
                     f"{st['repaired']} | {st['replaced']} | {pct(st['draft_pass_rate'])} | "
                     f"{pct(st['fallback_rate'])} | {pct(st['llm_shown_share'])} |")
    kinds: Counter[str] = Counter()
    for st in rows.values():
        kinds.update(st.get("violation_kinds") or {})
    if kinds:
        lines += ["", "Why refused drafts were refused (claims by kind, all methods): "
                  + ", ".join(f"{k} {v}" for k, v in kinds.most_common()) + "."]
    return "\n".join(lines) + "\n"
