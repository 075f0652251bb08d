"""What the reader finds in a message (spans, the reading, tokens) and what rules may ask of a reader."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from agent.linking import EntityLinker

YEAR_PAREN = re.compile(r"\(\s*((?:18|19|20)\d\d)\s*\)")
"""A year in parentheses after a title: "Alien (1979)"."""
SpanKind = Literal["title", "person", "genre", "tag", "era", "card"]
Label = Literal["liked", "disliked", "seen", "unseen", "asked", "neutral", "suggested"]


@dataclass
class Span:
    """One mention found in a message."""

    kind: SpanKind
    text: str
    start: int
    end: int
    value: str
    """Item id (title), 'person:X', 'genre:x', 'tag:x', 'era:MIN-MAX' or 'card:N'."""
    label: Label = "liked"
    sure: bool = True

    def overlaps(self, start: int, end: int) -> bool:
        """True when [start, end) overlaps this span."""
        return start < self.end and self.start < end


@dataclass
class Reading:
    """What the reader found in one message."""

    text: str
    spans: list[Span] = field(default_factory=list)
    intent: str = "other"
    reaction: Label | None = None
    """A whole-message reaction to the cards or suggestions in context."""
    reaction_plural: bool = False
    reaction_group: bool = False
    """The reaction is said of the whole group ("I have seen both", "all of those"), so it
    also reaches the suggestions the message does not name."""
    unknown: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    dunno: bool = False
    loose: list[str] = field(default_factory=list)
    """Capitalised runs no index explains: maybe a film or a name the catalog lacks."""

    @property
    def ambiguous(self) -> bool:
        """True when some label was a guess (the LLM may settle it)."""
        return any(not s.sure for s in self.spans)

    def of_kind(self, kind: SpanKind) -> list[Span]:
        """The spans of one kind."""
        return [s for s in self.spans if s.kind == kind]


@dataclass
class _Token:
    text: str
    start: int
    end: int

    @property
    def capital(self) -> bool:
        return self.text[:1].isupper() or self.text[:1].isdigit()


class ReaderLike(Protocol):
    """The parts of `agent.reading.Reader` that the rules (`agent.reading_rules`,
    `agent.reading_names`) use."""

    linker: EntityLinker
    keys_of_item: dict[str, list[str]] | None
    tags: dict[str, str]
    people_keys: list[str]
    fame: dict[str, int]
    surnames: dict[str, str]
    first_names: dict[str, str]
    genres: set[str]
    newest_year: int

    def _free(self, reading: Reading, start: int, end: int) -> bool: ...

    def _free_except(self, reading: Reading, span: Span, start: int, end: int) -> bool: ...

    def _lookup(self, key: str, year: int | None = None) -> list[str]: ...

    def _pick(self, ids: list[str], year: int | None, strict: bool) -> str | None: ...

    def _is_person_key(self, key: str) -> bool: ...

    def _word_index(self) -> dict[str, list[str]]: ...

    def _people(self, text: str, tokens: list[_Token], reading: Reading,
                slot: str | None) -> None: ...
