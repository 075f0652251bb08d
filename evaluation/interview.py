"""Simulated cold-start interviews: every method talks to the same simulated users; metrics."""

from __future__ import annotations

import json
import logging
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from agent.backends.base import LLMBackend
from agent.settings import Settings, load_settings
from catalog.errors import DataError
from catalog.loading import load_catalog, resolve_data_dir
from catalog.models import Catalog
from evaluation.baselines import AGENT_METHODS, BASELINES, TOOL_OF, Method, build_methods
from evaluation.faithfulness import faithfulness
from evaluation.metrics import (
    interview_metrics,
    invalid_json_rate,
    invalid_tool_call_rate,
    latency_summary,
    percentile,
    ranking_at_turn,
    recall_at_k,
    success_at,
    token_summary,
    turn_of_success,
)
from evaluation.simulator import SHOWN, Fame, ParaphrasingUser, SimulatedUser
from evaluation.split import Split, TestCase, load_self_tags, partition_cases, split_users
from evaluation.stats import bootstrap, paired_difference
from tools.base import ConvrecTool, ToolResources
from tools.registry import ToolRegistry

log = logging.getLogger(__name__)

ITEMS_ONLY_TOOLS = frozenset({"vector_retrieval"})
"""Tools that read item texts only (no interactions): safe to build on the full catalog."""
DEFAULT_METHODS = ("random", "popularity", "cf", "retrieval", "kg", "fused", "agent", "oracle")


def build_tools(catalog: Catalog, settings: Settings, names: Sequence[str] | None = None,
                show_progress: bool = False) -> tuple[dict[str, ConvrecTool], dict[str, str]]:
    """Open (building if needed) the registry's tools on a catalog; failures are reported."""
    resources = ToolResources(catalog=catalog, cache_dir=settings.resolved_cache_dir(),
                              store_url=settings.store_url, show_progress=show_progress)
    created = ToolRegistry().create_all(resources, list(names) if names is not None else None)
    return created.tools, created.failed


def run_conversation(method: Method, user: SimulatedUser, max_turns: int) -> dict[str, Any]:
    """Hold one simulated conversation for up to `max_turns` user messages.

    The conversation ends early when the agent recommends the target (the user accepts).

    Returns:
        A JSON-ready record: the target, and per turn the user's message, the method's reply
        kind, slot, recommendations, ranking, timings, LLM calls and tool calls.
    """
    conv = method.start(user)
    text = user.opening()
    turns: list[dict[str, Any]] = []
    for turn in range(1, max_turns + 1):
        info = conv.send(text, user)
        target_rank = (info.ranked.index(user.case.target_id) + 1
                       if user.case.target_id in info.ranked else None)
        turns.append({
            "turn": turn, "user": text, "kind": info.kind, "slot": info.question_slot,
            "recommended": info.recommended, "ranked": info.ranked, "target_rank": target_rank,
            "timings": info.timings, "llm_calls": [c.model_dump() for c in info.llm_calls],
            "tool_calls": info.tool_calls, "tool_errors": info.tool_errors,
            "notices": info.notices, "cards": info.cards,
        })
        if user.case.target_id in info.recommended[:SHOWN]:
            user.respond(info.kind, info.question_slot, info.recommended)  # accepts
            break
        if turn < max_turns:
            text = user.respond(info.kind, info.question_slot, info.recommended)
    return {"user_id": user.case.user_id, "target_id": user.case.target_id,
            "target": user.target.display_title, "liked_ids": list(user.case.liked_ids),
            "accepted": user.accepted, "redactions": user.guard.redactions,
            "vague_answers": user.vague_answers,
            "revealed": [f"{f.slot}:{f.kind}:{f.value}" for f in user.revealed], "turns": turns}


def shown_turns(conversation: dict[str, Any]) -> list[list[str]]:
    """The cards the user looked at in each turn (the first SHOWN recommended)."""
    return [list(t["recommended"][:SHOWN]) for t in conversation["turns"]]


def summarize(conversations: list[dict[str, Any]], turns: Sequence[int],
              ks: Sequence[int], seed: int = 0) -> dict[str, Any]:
    """Metrics of one method over its conversations, with bootstrap 95 % intervals.

    success@T: the target was among the cards shown (top SHOWN) in a turn <= T. Recall and
    NDCG@K read the method's structured ranking at turn T (the user never saw ranks > SHOWN).
    """
    from agent.reply import LLMCall

    pairs = [([t["ranked"] for t in c["turns"]], c["target_id"]) for c in conversations]
    shown = [(shown_turns(c), c["target_id"]) for c in conversations]
    all_turns = [t for c in conversations for t in c["turns"]]
    calls = [[LLMCall.model_validate(x) for x in t["llm_calls"]] for t in all_turns]
    tool_calls = sum(t["tool_calls"] for t in all_turns)
    known_errors = [t["tool_errors"] for t in all_turns if t["tool_errors"] is not None]
    by_turn: dict[int, list[float]] = defaultdict(list)
    for t in all_turns:
        by_turn[t["turn"]].append(t["timings"].get("total", sum(t["timings"].values())))
    n = max(len(pairs), 1)
    curve = [sum(success_at(r, g, t, SHOWN) for r, g in shown) / n
             for t in range(1, max(turns) + 1)]
    success = {}
    for t in turns:
        succ = [float(success_at(r, g, t, SHOWN)) for r, g in shown]
        when = [float(turn_of_success(r, g, t, SHOWN)) for r, g in shown]
        success[f"T={t}"] = {"success": bootstrap(succ, seed=seed).as_dict(),
                             "avg_turn": bootstrap(when, seed=seed).as_dict()}
    ranking = interview_metrics(pairs, turns, ks)
    for key, row in ranking.items():
        t = int(key.split(",")[0][2:])
        k = int(key.split("=")[-1])
        hits = [recall_at_k(ranking_at_turn(r, t), [g], k) for r, g in pairs]
        row["recall_ci"] = bootstrap(hits, seed=seed).as_dict()
    return {
        "success": success,
        "metrics": ranking,
        "success_curve": curve,
        "invalid_json_rate": invalid_json_rate(c for cs in calls for c in cs),
        "invalid_tool_call_rate": (invalid_tool_call_rate(tool_calls, sum(known_errors))
                                   if len(known_errors) == len(all_turns) else None),
        "tool_calls": tool_calls,
        "latency": latency_summary(t["timings"] for t in all_turns),
        "latency_by_turn": {str(k): {"p50": percentile(v, 50), "p95": percentile(v, 95)}
                            for k, v in sorted(by_turn.items())},
        "tokens": token_summary(calls),
        "reply_kinds": dict(Counter(t["kind"] for t in all_turns)),
        "asked_slots": dict(Counter(t["slot"] for t in all_turns if t["slot"])),
        "accepted": sum(c["accepted"] for c in conversations),
        "redactions": sum(c["redactions"] for c in conversations),
        "vague_answers": sum(c.get("vague_answers", 0) for c in conversations),
        "n_conversations": len(conversations),
        "faithfulness": faithfulness({"recommendations": t.get("cards", [])} for t in all_turns),
    }


def paired_success(conversations: dict[str, list[dict[str, Any]]], turns: Sequence[int],
                   seed: int = 0) -> dict[str, Any]:
    """Paired bootstrap of success@T differences, agent (or oracle) minus each other method."""
    out: dict[str, Any] = {}
    for a in [m for m in ("agent", "oracle") if m in conversations]:
        for b in conversations:
            if b == a or (a == "oracle" and b == "agent"):
                continue
            users_b = {c["user_id"]: c for c in conversations[b]}
            common = [c for c in conversations[a] if c["user_id"] in users_b]
            entry: dict[str, Any] = {"users": len(common)}
            for t in turns:
                sa = [float(success_at(shown_turns(c), c["target_id"], t, SHOWN)) for c in common]
                sb = [float(success_at(shown_turns(users_b[c["user_id"]]), c["target_id"], t,
                                       SHOWN)) for c in common]
                entry[f"T={t}"] = paired_difference(sa, sb, seed=seed).as_dict()
            out[f"{a} - {b}"] = entry
    return out


def run_interviews(catalog_name: str = "movielens-redial", data_dir: Path | str | None = None,
                   n_users: int = 50, turns: Sequence[int] = (3, 5, 10), k: int = 10,
                   seed: int = 0, *, ks: Sequence[int] | None = None,
                   settings: Settings | None = None, backend: LLMBackend | None = None,
                   methods: Sequence[str] = DEFAULT_METHODS, catalog: Catalog | None = None,
                   split: Split | None = None, tools: dict[str, ConvrecTool] | None = None,
                   simulator: str = "rules", paraphrase_backend: LLMBackend | None = None,
                   test_fraction: float = 0.2, show_progress: bool = True,
                   keep_conversations: bool = True,
                   extra_methods: Sequence[Method] = (),
                   users_from: str = "test",
                   records: Path | str | None = None, user_slice: tuple[int, int] | None = None,
                   shard: tuple[int, int] = (0, 1)) -> dict[str, Any]:
    """Run simulated cold-start interviews for every method on the same users.

    Args:
        catalog_name: A named catalog (`movielens-redial`, `ml-100k`) or a catalog folder.
        data_dir: Folder with the shared data (movielens-redial).
        n_users: How many test users to simulate (the first n of the seeded split).
        turns: Turn budgets T; conversations run to the largest.
        k: The headline cut-off K (always reported, with 1, 5 and 20).
        seed: Fixes the split, targets, wording and random baselines.
        ks: Cut-offs to report (default: 1, 5, k, 20).
        settings: Agent settings (default: `load_settings()`).
        backend: LLM backend for the agent (default: built from settings).
        methods: Method names (see `evaluation.baselines.ALL_METHODS`).
        catalog: A preloaded catalog (skips loading).
        split: A precomputed split (default: `split_users(catalog, seed, test_fraction)`).
        tools: Tool instances built on the split's training catalog (default: from registry).
        simulator: "rules" (deterministic) or "llm" (rule answers paraphrased by an LLM).
        paraphrase_backend: Backend for the "llm" simulator (default: the agent's).
        test_fraction: Share of users held out (their ratings are invisible to CF).
        show_progress: Show a tqdm progress bar.
        keep_conversations: Include every conversation in the result.
        extra_methods: Further Method objects to run on the same users (e.g. a test oracle).
        users_from: "test" (users for reported numbers) or "dev" (users for tuning): a seeded
            partition of the held-out users (`split.partition_cases`); never tune on "test".
            "all" takes every held-out case (tests on hand-made splits).
        records: Append one JSON line per conversation here as the run goes (user by user).
        user_slice: (start, stop): only these of the first `n_users` users (to split a run
            over processes; `summarize_records` joins their records).
        shard: (i, n): of those, every n-th user from the i-th.

    Returns:
        JSON-ready results: config, split sizes, per-method metrics, skipped methods and
        (optionally) the conversations.
    """
    ks = sorted(set(ks or (1, 5, k, 20)))
    turns = sorted(set(turns))
    settings = settings or load_settings()
    catalog = catalog or load_catalog(catalog_name, settings.resolved_cache_dir(), data_dir)
    if split is None:
        split = split_users(catalog, seed=seed, test_fraction=test_fraction,
                            self_tagged=_self_tags(catalog, data_dir))
    if users_from not in ("dev", "test", "all"):
        raise ValueError(f"users_from must be dev, test or all, not {users_from!r}")
    sides = partition_cases(split.cases, seed)
    cases = (split.cases if users_from == "all" else sides[users_from])[:n_users]
    if len(cases) < n_users:
        log.warning("only %d usable %s users (asked for %d)", len(cases), users_from, n_users)
    if user_slice is not None:
        cases = cases[user_slice[0]:user_slice[1]]
    if shard[1] < 1 or not 0 <= shard[0] < shard[1]:
        raise ValueError(f"shard {shard[0]}/{shard[1]} is not valid: need 0 <= i < n")
    cases = cases[shard[0]::shard[1]]
    names = list(methods)
    skipped: dict[str, str] = {}
    if tools is None and any(m in TOOL_OF or m == "fused" for m in names):
        wanted = sorted({TOOL_OF[m] for m in names if m in TOOL_OF}
                        | (set(TOOL_OF.values()) if "fused" in names else set()))
        # the vector index reads only items (never ratings), so it is opened on the full
        # catalog, whose store exists, instead of embedding every item again for the split
        items_only = [n for n in wanted if n in ITEMS_ONLY_TOOLS]
        tools, failed = build_tools(split.train_catalog, settings,
                                    [n for n in wanted if n not in items_only], show_progress)
        if items_only:
            more, why = build_tools(catalog, settings, items_only, show_progress)
            tools.update(more)
            failed.update(why)
        skipped.update({f"tool:{n}": why for n, why in failed.items()})
    agent = None
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if any(m in AGENT_METHODS for m in names):
        from agent.core import Agent

        tmp = tempfile.TemporaryDirectory(prefix="convrec-eval-")
        agent_settings = settings.model_copy(
            update={"sessions_db": Path(tmp.name) / "sessions.sqlite3"})
        agent = Agent.from_settings(agent_settings, backend=backend, catalog=catalog,
                                    cf_exclude_users=set(split.test_users))
        paraphrase_backend = paraphrase_backend or agent.backend
    depth = max(ks)
    built, why = build_methods(names, split.train_catalog, tools or {}, agent, depth, seed)
    skipped.update(why)
    built += list(extra_methods)
    names += [m.name for m in extra_methods]
    fame = Fame(catalog)

    def new_user(case: TestCase) -> SimulatedUser:
        if simulator == "llm":
            return ParaphrasingUser(catalog, case, seed, fame, backend=paraphrase_backend)
        return SimulatedUser(catalog, case, seed, fame)

    results: dict[str, Any] = {
        "config": {"catalog": catalog.name, "n_users": len(cases), "turns": turns, "ks": ks,
                   "k": k, "seed": seed, "methods": names, "simulator": simulator,
                   "test_fraction": test_fraction, "users_from": users_from,
                   "user_slice": list(user_slice) if user_slice else None,
                   "shard": list(shard),
                   "backend": getattr(agent.backend, "name", None) if agent else None},
        "split": {"test_users": len(split.test_users), "usable_cases": len(split.cases),
                  "without_target": len(split.skipped_users),
                  "dev_cases": len(sides["dev"]), "test_cases": len(sides["test"]),
                  "train_ratings": len(split.train_catalog.interactions)},
        "methods": {}, "skipped_methods": skipped, "conversations": {},
    }
    all_convs: dict[str, list[dict[str, Any]]]
    bar = tqdm(total=len(built) * len(cases), disable=not show_progress, desc="interviews",
               unit="conv")
    out = None
    if records is not None:
        Path(records).parent.mkdir(parents=True, exist_ok=True)
        out = Path(records).open("a", encoding="utf-8")
    all_convs = {m.name: [] for m in built}
    try:
        for case in cases:  # user by user, so any prefix of a run pairs the methods
            for method in built:
                bar.set_postfix_str(method.name)
                conv = run_conversation(method, new_user(case), max(turns))
                all_convs[method.name].append(conv)
                if out is not None:
                    out.write(json.dumps(_clean({"method": method.name, **conv})) + "\n")
                    out.flush()
                bar.update(1)
    finally:
        bar.close()
        if out is not None:
            out.close()
        if tmp is not None:
            tmp.cleanup()
    for name, convs in all_convs.items():
        results["methods"][name] = summarize(convs, turns, ks, seed)
        if keep_conversations:
            results["conversations"][name] = convs
    results["paired"] = paired_success(all_convs, turns, seed)
    for name in names:
        if name in skipped:
            log.warning("method %s skipped: %s", name, skipped[name])
    return results


def summarize_records(paths: Sequence[Path | str], turns: Sequence[int], ks: Sequence[int],
                      seed: int = 0) -> dict[str, Any]:
    """Metrics and paired differences from `records` files (e.g. of a run still going).

    Only users that every method finished are counted, so the methods stay paired.
    """
    convs: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            convs[row.pop("method")][row["user_id"]] = row
    users = set.intersection(*(set(v) for v in convs.values())) if convs else set()
    order = [u for u in next(iter(convs.values()), {}) if u in users]
    kept = {m: [v[u] for u in order] for m, v in convs.items()}
    return {"methods": {m: summarize(c, turns, ks, seed) for m, c in kept.items()},
            "paired": paired_success(kept, turns, seed), "n_users": len(order)}


def _self_tags(catalog: Catalog, data_dir: Path | str | None) -> set[tuple[str, str]]:
    if catalog.name != "movielens-redial":
        return set()
    try:
        return load_self_tags(resolve_data_dir(data_dir))
    except DataError:
        return set()


def write_json(results: dict[str, Any], path: Path | str) -> Path:
    """Write results as indented JSON (NaN written as null) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(results), indent=1, sort_keys=False), encoding="utf-8")
    return path


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


__all__ = ["BASELINES", "DEFAULT_METHODS", "run_conversation", "run_interviews", "summarize",
           "write_json"]
