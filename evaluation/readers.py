"""What each ReDial method reads: the annotations of both sides, or the transcript of both sides."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.planner import run_plan
from catalog.models import Catalog
from catalog.text import normalize_genre
from tools.base import ConvrecTool, ProfileInputs, ToolState

log = logging.getLogger(__name__)

POOL = 100
"""Candidates asked of the fused plan before cutting to K."""
READS = {
    "random": "nothing (uniform over the catalog, seeded per sample)",
    "popularity": "nothing (most-rated items of the catalog)",
    "cf": "oracle reader: annotated movies of both sides as liked items",
    "kg": "oracle reader: annotated movies, genres and people of both sides",
    "retrieval": "oracle reader: the text of both sides (plus annotated genres)",
    "fused": "oracle reader: annotations and text of both sides, every tool fused",
    "agent": "transcript reader: both sides through Session.observe (LLM on seeker turns), "
             "ranked by the agent",
    "fused+transcript": "transcript reader: the agent's profile after observing both sides, "
                        "ranked by the fused tools exactly like `fused`",
}
"""What each method reads of a sample's dialogue context (printed in every report)."""


@dataclass
class Sample:
    """One ReDial evaluation sample: its context and every target title, mapped or not.

    Attributes:
        targets: The recommended titles (de-duplicated, in order) - one pair each.
        target_ids: The catalog id of each target, None when it does not map (a sure miss).
        target_new: Per target: True when it was not mentioned earlier in the dialogue.
        mentioned: Catalog ids of the movies mentioned in the context (either side).
    """

    dialog_id: str
    turn_id: int
    context: list[str]
    targets: list[str]
    target_ids: list[str | None]
    target_new: list[bool]
    mentioned: list[str]
    entities: list[str] = field(default_factory=list)

    def user_turns(self) -> list[str]:
        """The seeker's turns (the last context turn is the seeker's), non-empty."""
        last = len(self.context) - 1
        return [t for i, t in enumerate(self.context) if (last - i) % 2 == 0 and t.strip()]


RankFn = Callable[[Sample, int], list[str]]


class TranscriptSession(Protocol):
    """The part of `agent.session.Session` the transcript reader uses."""

    profile: Any

    def observe(self, role: str, text: str) -> Any:
        """Read one turn of a transcript ("user" or "assistant") without replying."""
        ...

    def ranked(self, k: int = 10) -> list[str]:
        """The current structured top-k."""
        ...


def context_roles(context: Sequence[str]) -> list[tuple[str, str]]:
    """(role, text) of each non-empty context turn; the last turn is the seeker's ("user")."""
    last = len(context) - 1
    return [("user" if (last - i) % 2 == 0 else "assistant", t)
            for i, t in enumerate(context) if t.strip()]


class OracleReader:
    """Tool inputs from ReDial's annotations of both sides: what a perfect reader would give.

    Mentioned movies become liked items (the annotations carry no sentiment), mentioned genres
    and people become entities, and the words of both sides are the free text.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.genres = set(catalog.genres())
        self.people = {n for item in catalog.items.values() for ns in item.people.values()
                       for n in ns}

    def inputs(self, sample: Sample) -> ProfileInputs:
        """The inputs for one sample (both sides of its context)."""
        entities: list[str] = []
        for e in sample.entities:
            g = normalize_genre(e)
            if g in self.genres:
                entities.append(f"genre:{g}")
            elif e in self.people:
                entities.append(f"person:{e}")
        text = " ".join(t for _, t in context_roles(sample.context))[-2000:]
        return ProfileInputs(free_text=text, liked_items=sample.mentioned[:50],
                             entities=list(dict.fromkeys(entities))[:50])


ContextReader = OracleReader  # the earlier name


class TranscriptReader:
    """The agent's own reading: every context turn of both sides through `Session.observe`.

    Samples of one dialogue extend each other, so when the previous sample's turns are a
    prefix of this sample's, that session is continued with the new turns only (the same
    calls in the same order a fresh replay would make, temperature 0, only faster).

    Args:
        new_session: Makes a fresh session for a (dialogue, turn) label.
    """

    def __init__(self, new_session: Callable[[str], TranscriptSession]) -> None:
        self.new_session = new_session
        self._session: TranscriptSession | None = None
        self._dialog: str | None = None
        self._done: list[tuple[str, str]] = []
        self.observed = 0

    def read(self, sample: Sample) -> TranscriptSession:
        """The session after observing the sample's whole context."""
        turns = context_roles(sample.context)
        if (self._session is None or self._dialog != sample.dialog_id
                or turns[:len(self._done)] != self._done):
            self._session = self.new_session(f"redial-{sample.dialog_id}-{sample.turn_id}")
            self._dialog, self._done = sample.dialog_id, []
        for role, text in turns[len(self._done):]:
            self._session.observe(role, text)
            self.observed += 1
        self._done = list(turns)
        return self._session


def oracle_rankers(names: Sequence[str], catalog: Catalog, tools: dict[str, ConvrecTool],
                   tool_of: dict[str, str], order: list[str],
                   seed: int = 0) -> tuple[dict[str, RankFn], dict[str, str]]:
    """Rankers for the methods that read nothing or the annotations, and the ones not built."""
    ids = sorted(catalog.items)
    reader = OracleReader(catalog)
    rankers: dict[str, RankFn] = {}
    skipped: dict[str, str] = {}
    for name in names:
        if name == "random":
            rankers[name] = lambda s, k: random.Random(f"{seed}:{s.dialog_id}:{s.turn_id}").sample(
                ids, min(k, len(ids)))
        elif name == "popularity":
            rankers[name] = lambda s, k: order[:k]
        elif name in tool_of:
            if tool_of[name] not in tools:
                skipped[name] = f"tool {tool_of[name]} is unavailable"
                continue
            rankers[name] = _tool_rank(tools[tool_of[name]], reader)
        elif name == "fused":
            if not tools:
                skipped[name] = "no tool is available"
                continue
            rankers[name] = lambda s, k: fused_rank(tools, catalog, reader.inputs(s), k)
    return rankers, skipped


def fused_rank(tools: dict[str, ConvrecTool], catalog: Catalog, inputs: ProfileInputs,
               k: int) -> list[str]:
    """Every routed tool, fused (the agent's plan without its profile's exclusions)."""
    return [c.item_id for c in run_plan(tools, catalog, inputs, set(),
                                        k=max(k, POOL)).candidates[:k]]


def _tool_rank(tool: ConvrecTool, reader: OracleReader) -> RankFn:
    def rank(sample: Sample, k: int) -> list[str]:
        result = tool.run_typed(reader.inputs(sample), k=k, state=ToolState())
        return [c.item_id for c in result.candidates[:k]]
    return rank


def transcript_rankers(names: Sequence[str], reader: TranscriptReader, catalog: Catalog,
                       tools: dict[str, ConvrecTool]) -> tuple[dict[str, RankFn], dict[str, str]]:
    """`agent` and `fused+transcript`: one reading per sample, shared by both rankers."""
    rankers: dict[str, RankFn] = {}
    skipped: dict[str, str] = {}
    if "agent" in names:
        rankers["agent"] = lambda s, k: list(reader.read(s).ranked(k))
    if "fused+transcript" in names:
        if not tools:
            skipped["fused+transcript"] = "no tool is available"
        else:
            rankers["fused+transcript"] = lambda s, k: fused_rank(
                tools, catalog, reader.read(s).profile.to_inputs(), k)
    return rankers, skipped
