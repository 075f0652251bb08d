"""Interest memory measured: returning simulated users whose taste drifts, and a time split."""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from agent.memory import DAY, Fact, UserMemory, seed_profile
from agent.profile import UserProfile
from catalog.models import Catalog
from evaluation.metrics import recall_at_k
from evaluation.simulator import SHOWN, Fame, SimulatedUser
from evaluation.split import LIKED_RATING, TestCase, has_enough_attributes, split_users
from evaluation.stats import bootstrap, paired_difference

log = logging.getLogger(__name__)

CONDITIONS = {"memory+decay": (True, 60.0), "memory, no decay": (True, 0.0),
              "no memory": (False, 0.0)}
"""(memory on, half-life in days) per condition of the returning-user simulation."""
GAP_DAYS = 180.0
"""Time between a simulated user's two sessions."""
FAST_TOOLS = ["cf_scoring", "comention", "kg_expansion"]
"""The tools of the simulation (vector retrieval left out: an embedding per turn is too slow
for a loaded 2-core machine)."""


# ---- (a) returning simulated users ------------------------------------------------------------
def second_target(catalog: Catalog, case: TestCase, liked: list[str], drift: bool,
                  rng: random.Random) -> str | None:
    """A session-2 target the user rated highly: sharing no genre with the first target
    (drift) or sharing its main genre (stable); None when the user has none."""
    first = catalog.items[case.target_id]
    pool = []
    for item_id in liked:
        item = catalog.items.get(item_id)
        if item is None or item_id == case.target_id or not has_enough_attributes(item):
            continue
        shared = set(item.genres) & set(first.genres)
        if (not shared) if drift else (first.genres[:1] and first.genres[0] in item.genres):
            pool.append(item_id)
    return rng.choice(sorted(pool)) if pool else None


def converse(session: Any, user: SimulatedUser, max_turns: int) -> dict[str, Any]:
    """One simulated conversation with an agent session; the user clicks ♥ on the target when
    it is among the cards it looks at (the button path)."""
    text = user.opening()
    for turn in range(1, max_turns + 1):
        reply = session.send(text)
        shown = [r.item_id for r in reply.recommendations][:SHOWN]
        if user.case.target_id in shown:
            session.feedback(user.case.target_id, "liked")
            user.respond(reply.kind, reply.question_slot, shown)
            return {"success": 1.0, "turn": turn, "welcome": reply.text.startswith("Welcome")}
        if turn < max_turns:
            text = user.respond(reply.kind, reply.question_slot,
                                [r.item_id for r in reply.recommendations])
    return {"success": 0.0, "turn": max_turns + 1}


def age_memory(store: Any, user_id: str, days: float) -> None:
    """Move every remembered fact of a user `days` into the past (time passing)."""
    def older(stored: dict[str, Any] | None) -> dict[str, Any]:
        memory = UserMemory.from_stored(stored)
        for fact in memory.facts.values():
            fact.at -= days * DAY
        return memory.model_dump(mode="json")
    if store.load_memory(user_id) is not None:
        store.save_memory(user_id, older)


def returning_users(n_users: int, max_turns: int, seed: int, home: Path) -> dict[str, Any]:
    """Success in session 2 of simulated returning users, per condition, drift and stable."""
    from agent import Agent, Settings
    from agent.testing import keyword_backend
    from catalog.loading import load_catalog

    catalog = load_catalog("ml-100k", home)
    split = split_users(catalog, seed=seed)
    liked: dict[str, list[str]] = {}
    for u, i, r in zip(catalog.interactions.user_ids.astype(str),
                       catalog.interactions.item_ids.astype(str), catalog.interactions.ratings,
                       strict=True):
        if float(r) >= LIKED_RATING:
            liked.setdefault(u, []).append(i)
    fame = Fame(catalog)
    tmp = tempfile.mkdtemp(prefix="convrec-memory-eval-")
    settings = Settings(backend="scripted", cache_dir=home, justify_with_llm=False,
                        sessions_db=Path(tmp) / "s.sqlite3")
    agent = Agent.from_settings(settings, backend=keyword_backend(catalog), catalog=catalog,
                                cf_exclude_users=set(split.test_users), tool_names=FAST_TOOLS)
    out: dict[str, Any] = {"catalog": "ml-100k", "split_seed": seed, "gap_days": GAP_DAYS,
                           "max_turns": max_turns, "tools": sorted(agent.tools)}
    for drift in (True, False):
        rng = random.Random(f"{seed}:{drift}")
        results: dict[str, list[float]] = {c: [] for c in CONDITIONS}
        users = []
        for case in split.cases:
            if len(users) >= n_users:
                break
            t2 = second_target(catalog, case, liked.get(case.user_id, []), drift, rng)
            if t2 is None:
                continue
            users.append(case.user_id)
            case1 = replace(case, seen_ids=case.seen_ids - {t2})
            case2 = replace(case, target_id=t2, seen_ids=case.seen_ids - {t2})
            for name, (enabled, half_life) in CONDITIONS.items():
                agent.settings = settings.model_copy(update={
                    "memory": enabled, "memory_half_life_days": half_life})
                uid = f"{'drift' if drift else 'stable'}-{name}-{case.user_id}"
                converse(agent.session(uid), SimulatedUser(catalog, case1, seed, fame),
                         max_turns)
                age_memory(agent.store, uid, GAP_DAYS)
                second = converse(agent.session(uid), SimulatedUser(catalog, case2, seed + 1,
                                                                   fame), max_turns)
                results[name].append(second["success"])
        key = "drift" if drift else "stable"
        out[key] = {"n_users": len(users), "success_at_T": {
            c: bootstrap(v, seed=seed).as_dict() for c, v in results.items()},
            "paired": {
                "decay - no decay": paired_difference(results["memory+decay"],
                                                      results["memory, no decay"],
                                                      seed=seed).as_dict(),
                "decay - no memory": paired_difference(results["memory+decay"],
                                                       results["no memory"],
                                                       seed=seed).as_dict(),
                "no decay - no memory": paired_difference(results["memory, no decay"],
                                                          results["no memory"],
                                                          seed=seed).as_dict()}}
    agent.store.close()
    return out


# ---- (b) a MovieLens time split ---------------------------------------------------------------
def _user_cuts(inter: Any, quantile: float, min_span_days: float,
               min_before: int) -> dict[str, float]:
    """Per-user cut-offs: the time of each user's rating at `quantile` of their history, for
    users whose ratings before it span at least `min_span_days` (so that age can matter)."""
    cuts: dict[str, float] = {}
    users = inter.user_ids.astype(str)
    for u in np.unique(users):
        times = np.sort(inter.timestamps[users == u]).astype(float)
        cut = float(times[int(len(times) * quantile)])
        before = times[times < cut]
        if len(before) >= min_before and (before.max() - before.min()) / DAY >= min_span_days:
            cuts[str(u)] = cut
    return cuts


def time_split(cutoff: str, n_users: int, half_lives: list[float], k: int, seed: int,
               home: Path, min_before: int = 5, per_user: float | None = None,
               min_span_days: float = 30.0) -> dict[str, Any]:
    """Recall@k of the agent's ranking seeded from memory, per half-life (0 = no decay).

    Each test user's ratings before the cut-off become remembered facts (rating >= 4 liked,
    <= 2 disliked, the rest seen; each at its rating's time; inferred); the items they rated
    >= 4 after it are the targets. The cut-off is one date (`cutoff`) for everyone, or with
    `per_user` (a quantile, e.g. 0.8) each user's own. The tools are built without any rating
    at or after a cut-off (global: everyone's; per user: the test users' own).
    """
    from agent import Agent, Settings
    from agent.testing import keyword_backend
    from catalog.loading import load_catalog

    catalog = load_catalog("movielens-redial", home)
    inter = catalog.interactions
    if inter.timestamps is None:
        raise SystemExit("the movielens-redial catalog has no rating timestamps")
    global_cut = time.mktime(time.strptime(cutoff, "%Y-%m-%d"))
    user_of = inter.user_ids.astype(str)
    cuts = (_user_cuts(inter, per_user, min_span_days, min_before) if per_user is not None
            else {})
    cut_of = np.array([cuts.get(u, np.inf) if per_user is not None else global_cut
                       for u in user_of])
    users: dict[str, dict[str, list[tuple[str, float, float]]]] = {}
    for u, i, r, t, c in zip(user_of, inter.item_ids.astype(str), inter.ratings,
                             inter.timestamps, cut_of, strict=True):
        if i in catalog.items:
            users.setdefault(u, {"before": [], "after": []})[
                "before" if t < c else "after"].append((i, float(r), float(t)))
    eligible = sorted(u for u, v in users.items() if len(v["before"]) >= min_before
                      and any(r >= LIKED_RATING for _, r, _ in v["after"]))
    rng = random.Random(seed)
    chosen = sorted(rng.sample(eligible, min(n_users, len(eligible))))
    if per_user is not None:  # the chosen users' futures are hidden; everyone else trains
        hidden = np.isin(user_of, chosen) & (inter.timestamps >= cut_of)
    else:
        hidden = inter.timestamps >= global_cut
    past = replace(catalog, interactions=inter.select(~hidden), _hash=None)
    tmp = tempfile.mkdtemp(prefix="convrec-memory-eval-")
    settings = Settings(backend="scripted", cache_dir=home, justify_with_llm=False,
                        catalog="movielens-redial", sessions_db=Path(tmp) / "s.sqlite3")
    agent = Agent.from_settings(settings, backend=keyword_backend(catalog), catalog=past,
                                tool_names=["cf_scoring", "kg_expansion"])
    recall: dict[str, list[float]] = {f"half-life {h:g} d" if h else "no decay": []
                                      for h in half_lives}
    recall["no memory"] = []
    for u in chosen:
        memory = UserMemory()
        for item_id, r, t in users[u]["before"]:
            polarity = "liked" if r >= LIKED_RATING else ("disliked" if r <= 2 else "seen")
            memory.add(Fact(key=item_id, kind="item", polarity=polarity, source="inferred",
                            at=t, label=catalog.items[item_id].display_title))
        seen_before = {i for i, _, _ in users[u]["before"]}
        targets = {i for i, r, _ in users[u]["after"] if r >= LIKED_RATING} - seen_before
        if not targets:
            continue
        now = cuts[u] if per_user is not None else global_cut
        for name, h in zip(recall, [*half_lives, None], strict=True):
            profile = UserProfile()
            if h is not None:
                seed_profile(profile, memory, now, h, valid_items=set(catalog.items))
                for i in seen_before - profile.excluded_ids():
                    profile.shown_items.append(i)  # remembered likes not seeded: not re-shown
            ranked = [c.item_id for c in agent.plan(profile).candidates[:k]]
            recall[name].append(recall_at_k(ranked, targets, k))
    base = "no decay"
    out: dict[str, Any] = {"catalog": "movielens-redial (ml-latest-small ratings)",
                           "cutoff": (f"per user: quantile {per_user} of their ratings' "
                                      f"times, >= {min_span_days:g} days of history before it")
                           if per_user is not None else cutoff,
                           "eligible_users": len(eligible),
                           "n_users": len(recall[base]), "k": k, "tools": sorted(agent.tools),
                           f"recall@{k}": {n: bootstrap(v, seed=seed).as_dict()
                                           for n, v in recall.items()},
                           "paired_vs_no_decay": {n: paired_difference(v, recall[base],
                                                                       seed=seed).as_dict()
                                                  for n, v in recall.items() if n != base}}
    agent.store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    """`python -m evaluation.memory_eval {returning,timesplit}`: prints JSON results."""
    from catalog.paths import convrec_home

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("part", choices=["returning", "timesplit"])
    p.add_argument("--users", type=int, default=40)
    p.add_argument("--turns", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cutoff", default="2016-01-01")
    p.add_argument("--half-lives", default="0,90,365", help="days; 0 = no decay")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--per-user", type=float, help="timesplit: each user's own cut-off at this "
                   "quantile of their ratings' times (instead of --cutoff)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    home = convrec_home()
    if args.part == "returning":
        result = returning_users(args.users, args.turns, args.seed, home)
    else:
        result = time_split(args.cutoff, args.users,
                            [float(h) for h in args.half_lives.split(",")], args.k, args.seed,
                            home, per_user=args.per_user)
    result["seconds"] = round(time.perf_counter() - start, 1)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
