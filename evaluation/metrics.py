"""Ranking, interview, reliability and cost metrics over recorded conversations."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from agent.reply import LLMCall
from catalog.measure import percentile as percentile  # re-exported for the evaluators


def hit_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> bool:
    """True when any relevant item is in the top k."""
    rel = set(relevant)
    return any(i in rel for i in ranked[:k])


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Share of the relevant items found in the top k (0.0 when nothing is relevant)."""
    rel = set(relevant)
    if not rel:
        return 0.0
    return len(rel & set(ranked[:k])) / len(rel)


def ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Binary-relevance NDCG@k: sum of 1/log2(rank+1) over hits, over the ideal sum."""
    rel = set(relevant)
    if not rel:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for rank, item in enumerate(ranked[:k], start=1):
        if item in rel and item not in seen:
            dcg += 1.0 / math.log2(rank + 1)
        seen.add(item)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(rel), k) + 1))
    return dcg / ideal


def turn_of_success(rankings: Sequence[Sequence[str]], target: str, turns: int, k: int) -> int:
    """The first turn (1-based, <= turns) whose top k holds the target; turns + 1 on failure.

    Args:
        rankings: The ranking after each turn, turn 1 first.
        target: The target item id.
        turns: The turn budget T.
        k: Cut-off.
    """
    for t, ranked in enumerate(rankings[:turns], start=1):
        if target in ranked[:k]:
            return t
    return turns + 1


def success_at(rankings: Sequence[Sequence[str]], target: str, turns: int, k: int) -> bool:
    """True when the target is in the top k after any turn <= turns."""
    return turn_of_success(rankings, target, turns, k) <= turns


def ranking_at_turn(rankings: Sequence[Sequence[str]], turns: int) -> Sequence[str]:
    """The ranking after turn `turns`, or the last one recorded when the dialogue ended earlier."""
    if not rankings:
        return []
    return rankings[min(turns, len(rankings)) - 1]


def interview_metrics(conversations: Sequence[tuple[Sequence[Sequence[str]], str]],
                      turns: Sequence[int], ks: Sequence[int]) -> dict[str, dict[str, float]]:
    """Success rate, average turn of success, Recall@K and NDCG@K per (T, K).

    Args:
        conversations: (rankings per turn, target id) for each simulated user.
        turns: Turn budgets T.
        ks: Cut-offs K.

    Returns:
        {"T=5,K=10": {"success": .., "avg_turn": .., "recall": .., "ndcg": .., "n": ..}, ...};
        recall and NDCG are taken on the ranking at turn T.
    """
    out: dict[str, dict[str, float]] = {}
    n = len(conversations)
    for t in turns:
        for k in ks:
            succ = [turn_of_success(r, target, t, k) for r, target in conversations]
            last = [ranking_at_turn(r, t) for r, _ in conversations]
            out[f"T={t},K={k}"] = {
                "success": sum(s <= t for s in succ) / n if n else 0.0,
                "avg_turn": float(np.mean(succ)) if n else float(t + 1),
                "recall": float(np.mean([recall_at_k(r, [g], k) for r, (_, g)
                                         in zip(last, conversations, strict=True)])) if n else 0.0,
                "ndcg": float(np.mean([ndcg_at_k(r, [g], k) for r, (_, g)
                                       in zip(last, conversations, strict=True)])) if n else 0.0,
                "n": float(n),
            }
    return out


def invalid_json_rate(calls: Iterable[LLMCall]) -> float | None:
    """Share of LLM calls whose JSON was invalid, among calls that were meant to be JSON."""
    flags = [c.valid_json for c in calls if c.valid_json is not None]
    return None if not flags else sum(not f for f in flags) / len(flags)


def invalid_tool_call_rate(n_calls: int, n_invalid: int) -> float | None:
    """Share of tool calls that were rejected or failed (None when no tool ran)."""
    return None if n_calls <= 0 else n_invalid / n_calls


def latency_summary(timings: Iterable[dict[str, float]]) -> dict[str, dict[str, float]]:
    """p50 / p95 / mean seconds per stage over turns, plus `turn` for the per-turn total.

    Args:
        timings: One {stage: seconds} dict per turn; a `total` stage, when present, is taken
            as the turn's total, else the stages are summed.
    """
    by_stage: dict[str, list[float]] = defaultdict(list)
    for turn in timings:
        for stage, secs in turn.items():
            if stage != "total":
                by_stage[stage].append(float(secs))
        total = turn.get("total", sum(v for s, v in turn.items() if s != "total"))
        by_stage["turn"].append(float(total))
    return {stage: {"p50": percentile(v, 50), "p95": percentile(v, 95),
                    "mean": float(np.mean(v)), "n": float(len(v))}
            for stage, v in sorted(by_stage.items())}


def token_summary(calls_per_turn: Iterable[Sequence[LLMCall]]) -> dict[str, float]:
    """Mean prompt and generated tokens and LLM calls per turn, and their totals."""
    prompt, gen, ncalls, turns = 0, 0, 0, 0
    for calls in calls_per_turn:
        turns += 1
        ncalls += len(calls)
        prompt += sum(c.prompt_tokens for c in calls)
        gen += sum(c.completion_tokens for c in calls)
    per = max(turns, 1)
    return {"prompt_tokens": float(prompt), "completion_tokens": float(gen),
            "prompt_tokens_per_turn": prompt / per, "completion_tokens_per_turn": gen / per,
            "llm_calls_per_turn": ncalls / per, "turns": float(turns)}
