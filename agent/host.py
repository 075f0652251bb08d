"""What a Session needs from its Agent, what memory reads of a Session, and the persisted state.

Session and memory depend on these narrow interfaces instead of importing agent.core or
agent.session, so the modules form no import circle (tests/test_import_graph.py).
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field

from agent.backends.base import LLMBackend
from agent.linking import EntityLinker
from agent.planner import PlanResult
from agent.profile import UserProfile
from agent.reading import Reader, Reading
from agent.settings import Settings
from agent.store import BaseSessionStore
from catalog.models import Catalog


class SessionState(BaseModel):
    """Everything persisted about a session after each turn."""

    profile: UserProfile = Field(default_factory=UserProfile)
    turn: int = 0
    questions_asked: int = 0
    last_question: str | None = None
    last_ranked: list[str] = Field(default_factory=list)
    tool_weights: dict[str, float] = Field(default_factory=dict)
    last_slot: str | None = None
    context_items: list[str] = Field(default_factory=list, description="The cards just shown "
                                     "or the titles just suggested: what 'seen it' refers to.")
    salient: str | None = None
    context_people: list[str] = Field(default_factory=list, description="People the other "
                                      "side just named: who 'I love him' is about.")
    last_intent: str = "other"
    ranked_stale: bool = False
    remembered: dict[str, str] = Field(default_factory=dict, description="Beliefs seeded "
                                       "from the user's long-term memory (key -> polarity).")
    recorded: dict[str, str] = Field(default_factory=dict, description="What the memory "
                                     "already holds of this session's beliefs.")
    welcome: str | None = None


class SessionHost(Protocol):
    """The parts of an Agent a Session uses (agent.core.Agent is one)."""

    settings: Settings
    catalog: Catalog
    backend: LLMBackend
    store: BaseSessionStore
    max_questions: int
    linker: EntityLinker
    reader: Reader

    def plan(self, profile: UserProfile, weights: dict[str, float] | None = None,
             session_id: str = "") -> PlanResult:
        """Route, run and fuse the tools for a profile."""
        ...


class SessionView(Protocol):
    """The parts of a Session that agent.memory reads (agent.session.Session is one)."""

    id: str
    user_id: str
    agent: SessionHost
    state: SessionState
    last_reading: Reading | None

    @property
    def profile(self) -> UserProfile:
        """The current profile."""
        ...

    def remove_belief(self, kind: str, value: str) -> bool:
        """Remove one belief the user says is wrong."""
        ...
