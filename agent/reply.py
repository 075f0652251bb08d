"""Typed results of a turn: the reply, its recommendations, and what the turn cost."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.profile import UserProfile
from catalog.text import main_title
from tools.base import Evidence

ReplyKind = Literal["question", "recommendations", "message"]
DraftStatus = Literal["passed", "repaired", "replaced", "none", "streaming"]


class LLMCall(BaseModel):
    """One LLM call of a turn, with its cost."""

    stage: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str = "stop"
    valid_json: bool | None = None


class Recommendation(BaseModel):
    """One recommended item with the evidence it was justified from."""

    item_id: str
    title: str
    year: int | None = None
    genres: list[str] = Field(default_factory=list)
    score: float
    evidence: list[Evidence] = Field(default_factory=list)
    justification: str = ""
    justification_source: Literal["llm", "template"] = "template"
    grounded: bool = True
    """Whether the LLM's draft passed the claim check as written (False when it was repaired
    or replaced); for a card without a draft, whether the shown template passed."""
    draft_status: DraftStatus = "none"
    """What became of the LLM's draft: shown as written ("passed"), shown after a checked edit
    ("repaired"), replaced by the template ("replaced"), or there was none ("none").
    "streaming" is only ever seen by `on_card` while the first card's draft is written."""
    draft: str = ""
    """The LLM's draft as written, kept when it was repaired or replaced."""
    draft_violations: list[str] = Field(default_factory=list)
    """Why the claim check refused the draft."""

    @property
    def display_title(self) -> str:
        """"Title (year)", or the title alone when the year is unknown; MovieLens' alternate
        names in parentheses are left out ('Seven (a.k.a. Se7en)' shows as 'Seven')."""
        title = main_title(self.title)
        return f"{title} ({self.year})" if self.year else title

    def line(self) -> str:
        """The pick as one line of chat text: the title, then why (no title said twice)."""
        if self.justification.lower().startswith(main_title(self.title).lower()):
            return self.justification
        return f"{self.display_title}: {self.justification}"


class Reply(BaseModel):
    """What `Session.send` returns."""

    session_id: str
    turn: int
    kind: ReplyKind
    text: str
    recommendations: list[Recommendation] = Field(default_factory=list)
    question_slot: str | None = None
    unknown_titles: list[str] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list, description="Readable warnings.")
    profile: UserProfile
    tools_used: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage.")
    llm_calls: list[LLMCall] = Field(default_factory=list)
