"""Methods compared in a run, all behind one per-conversation interface (`send`, `ranked`)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agent.planner import run_plan
from agent.profile import UserProfile
from agent.reply import LLMCall
from catalog.models import Catalog
from evaluation.simulator import FRESH_ORDER, SHOWN, SimulatedUser
from tools.base import ConvrecTool, ProfileInputs, ToolState

if TYPE_CHECKING:
    from agent.core import Agent

log = logging.getLogger(__name__)

BASELINES = ("random", "popularity", "cf", "retrieval", "kg", "fused")
AGENT_METHODS = ("agent", "oracle")
ALL_METHODS = BASELINES + AGENT_METHODS
TOOL_OF = {"cf": "cf_scoring", "retrieval": "vector_retrieval", "kg": "kg_expansion"}
POOL = 200
"""Candidates asked of a tool before filtering down to the top K."""


@dataclass
class TurnInfo:
    """What one method did in one turn, as the harness records it."""

    kind: str = "question"
    question_slot: str | None = None
    recommended: list[str] = field(default_factory=list)
    ranked: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    llm_calls: list[LLMCall] = field(default_factory=list)
    tool_calls: int = 0
    tool_errors: int | None = 0
    notices: list[str] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)
    """Per shown card what became of its LLM draft (draft_status, draft_violations)."""


class Conversation(Protocol):
    """One simulated conversation with one method."""

    def send(self, utterance: str, user: SimulatedUser) -> TurnInfo:
        """Take the user's message (the simulator knows what it revealed) and answer."""
        ...

    def ranked(self, k: int) -> list[str]:
        """The method's current top-k item ids."""
        ...


class Method(Protocol):
    """Something that can hold a simulated conversation."""

    name: str

    def start(self, user: SimulatedUser) -> Conversation:
        """A fresh conversation for one simulated user."""
        ...


def interview_schedule(catalog: Catalog) -> tuple[str, ...]:
    """The fixed question order baselines use (they have no policy); person needs people."""
    has_people = any(item.people for item in catalog.items.values())
    return tuple(s for s in FRESH_ORDER if s != "person" or has_people)


Ranker = Callable[[UserProfile, int, random.Random], tuple[list[str], int, int]]
"""(profile, k, rng) -> (ranked ids, tool calls, tool errors)."""


@dataclass
class _ScheduledConversation:
    """A baseline conversation: shows its top cards and asks the next slot of a fixed order."""

    ranker: Ranker
    schedule: tuple[str, ...]
    depth: int
    rng: random.Random
    turn: int = 0
    shown: list[str] = field(default_factory=list)
    _ranked: list[str] = field(default_factory=list)

    def send(self, utterance: str, user: SimulatedUser) -> TurnInfo:
        start = time.perf_counter()
        base = UserProfile(shown_items=list(self.shown))
        ranked, calls, errors = self.ranker(user.oracle_profile(base), self.depth, self.rng)
        self._ranked = ranked
        cards = ranked[:SHOWN]
        self.shown += cards
        slot = self.schedule[self.turn % len(self.schedule)] if self.schedule else None
        self.turn += 1
        return TurnInfo(kind="recommendations" if cards else "question", question_slot=slot,
                        recommended=cards, ranked=ranked[:self.depth],
                        timings={"rank": time.perf_counter() - start},
                        tool_calls=calls, tool_errors=errors)

    def ranked(self, k: int) -> list[str]:
        return self._ranked[:k]


@dataclass
class BaselineMethod:
    """A baseline: a ranker over what the simulator revealed (perfect understanding).

    Every turn it shows its top SHOWN cards (never the same card twice) and asks the next
    slot of a fixed order, so the user reacts to the cards and answers the slot.

    Args:
        name: The method's name in reports.
        ranker: Ranks items for a profile.
        schedule: Slots asked in turn.
        depth: How many items each turn's ranking keeps (the largest K).
        seed: Seeds per-conversation randomness.
    """

    name: str
    ranker: Ranker
    schedule: tuple[str, ...]
    depth: int = 20
    seed: int = 0

    def start(self, user: SimulatedUser) -> Conversation:
        rng = random.Random(f"{self.seed}:{self.name}:{user.case.user_id}")
        return _ScheduledConversation(self.ranker, self.schedule, self.depth, rng)


def random_ranker(catalog: Catalog) -> Ranker:
    """Uniformly random items (fresh each turn), never the ones the user named."""
    ids = sorted(catalog.items)

    def rank(profile: UserProfile, k: int, rng: random.Random) -> tuple[list[str], int, int]:
        excluded = profile.excluded_ids()
        return [i for i in rng.sample(ids, min(len(ids), k + len(excluded)))
                if i not in excluded][:k], 0, 0
    return rank


def popularity_order(catalog: Catalog) -> list[str]:
    """Item ids by number of ratings (most first; ties by id), items without ratings last."""
    pop = catalog.popularity()
    return sorted(catalog.items, key=lambda i: (-pop.get(i, 0), i))


def popularity_ranker(catalog: Catalog) -> Ranker:
    """The most-rated items of the (training) catalog, never the ones the user named."""
    order = popularity_order(catalog)

    def rank(profile: UserProfile, k: int, rng: random.Random) -> tuple[list[str], int, int]:
        excluded = profile.excluded_ids()
        return [i for i in order if i not in excluded][:k], 0, 0
    return rank


def baseline_inputs(profile: UserProfile, catalog: Catalog, method: str) -> ProfileInputs:
    """Tool inputs from a revealed profile: exactly what the agent's profile sends its tools."""
    return profile.to_inputs()


def tool_ranker(tool: ConvrecTool, catalog: Catalog, method: str) -> Ranker:
    """One tool alone over the revealed profile, hard constraints applied after it."""

    def rank(profile: UserProfile, k: int, rng: random.Random) -> tuple[list[str], int, int]:
        inputs = baseline_inputs(profile, catalog, method)
        excluded = profile.excluded_ids()
        if not (inputs.present() & tool.consumes):
            return [], 0, 0
        result = tool.run_typed(inputs, k=POOL, state=ToolState(excluded_ids=set(excluded)))
        if result.error:
            log.debug("%s failed: %s", tool.name, result.error)
            return [], 1, 1
        ids = [c.item_id for c in result.candidates if c.item_id not in excluded
               and c.item_id in catalog.items
               and inputs.constraints.allows(catalog.items[c.item_id])]
        return ids[:k], 1, 0
    return rank


def fused_ranker(tools: dict[str, ConvrecTool], catalog: Catalog) -> Ranker:
    """Every routed tool + reciprocal-rank fusion + filtering (the agent's plan, no LLM)."""

    def rank(profile: UserProfile, k: int, rng: random.Random) -> tuple[list[str], int, int]:
        inputs = baseline_inputs(profile, catalog, "fused")
        plan = run_plan(tools, catalog, inputs, profile.excluded_ids(), k=POOL)
        errors = sum(1 for r in plan.results if r.error)
        return [c.item_id for c in plan.candidates[:k]], len(plan.results), errors
    return rank


@dataclass
class _AgentConversation:
    """A conversation with the real agent; with `oracle`, its profile is the ground truth."""

    session: object
    oracle: bool
    depth: int

    def send(self, utterance: str, user: SimulatedUser) -> TurnInfo:
        start = time.perf_counter()
        if self.oracle:
            def truth(profile: UserProfile) -> tuple[UserProfile, str]:
                return user.oracle_profile(profile), user.intent
            reply = self.session.send(utterance, oracle=truth)  # type: ignore[attr-defined]
        else:
            reply = self.session.send(utterance)  # type: ignore[attr-defined]
        timings = dict(reply.timings)
        timings["total"] = time.perf_counter() - start
        errors = getattr(reply, "tool_errors", None)
        tools = [t for t in reply.tools_used if t != "popularity"]
        return TurnInfo(
            kind=reply.kind, question_slot=reply.question_slot,
            recommended=[r.item_id for r in reply.recommendations],
            ranked=self.ranked(self.depth), timings=timings, llm_calls=list(reply.llm_calls),
            tool_calls=len(tools),
            tool_errors=len(errors) if isinstance(errors, list) else errors,
            notices=list(reply.notices),
            cards=[{"draft_status": r.draft_status, "draft_violations": list(r.draft_violations)}
                   for r in reply.recommendations])

    def ranked(self, k: int) -> list[str]:
        return list(self.session.ranked(k))  # type: ignore[attr-defined]


@dataclass
class AgentMethod:
    """The fused agent (its own understanding and policy), or with the oracle profile."""

    name: str
    agent: Agent
    oracle: bool = False
    depth: int = 20

    def start(self, user: SimulatedUser) -> Conversation:
        session = self.agent.session(user_id=f"eval-{self.name}-{user.case.user_id}")
        return _AgentConversation(session, self.oracle, self.depth)


def build_methods(names: list[str], train_catalog: Catalog, tools: dict[str, ConvrecTool],
                  agent: Agent | None = None, depth: int = 20,
                  seed: int = 0) -> tuple[list[Method], dict[str, str]]:
    """Instantiate the requested methods.

    Args:
        names: Method names from ALL_METHODS.
        train_catalog: The catalog without test users (popularity and tools read it).
        tools: Tool instances by registry name, built on `train_catalog`.
        agent: The agent (needed for `agent` and `oracle`).
        depth: Ranking depth (the largest K).
        seed: Seed for randomised methods.

    Returns:
        The methods that could be built, and for the others why not.

    Raises:
        ValueError: for an unknown method name (the message lists the valid ones).
    """
    unknown = [n for n in names if n not in ALL_METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; valid: {', '.join(ALL_METHODS)}")
    schedule = interview_schedule(train_catalog)
    methods: list[Method] = []
    skipped: dict[str, str] = {}
    for name in names:
        if name == "random":
            methods.append(BaselineMethod(name, random_ranker(train_catalog), schedule, depth,
                                          seed))
        elif name == "popularity":
            methods.append(BaselineMethod(name, popularity_ranker(train_catalog), schedule, depth,
                                          seed))
        elif name in TOOL_OF:
            tool = tools.get(TOOL_OF[name])
            if tool is None:
                skipped[name] = f"tool {TOOL_OF[name]} is unavailable"
                continue
            methods.append(BaselineMethod(name, tool_ranker(tool, train_catalog, name), schedule,
                                          depth, seed))
        elif name == "fused":
            if not tools:
                skipped[name] = "no tool is available"
                continue
            methods.append(BaselineMethod(name, fused_ranker(tools, train_catalog), schedule,
                                          depth, seed))
        elif agent is None:
            skipped[name] = "no agent was built"
        else:
            methods.append(AgentMethod(name, agent, oracle=name == "oracle", depth=depth))
    return methods, skipped
