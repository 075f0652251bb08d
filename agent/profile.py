"""The per-session user profile: the single source of truth for a turn, persisted after it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.base import Constraints, ProfileInputs

FeedbackKind = Literal["liked", "disliked", "seen"]


class LinkedItem(BaseModel):
    """A catalog item the user mentioned, with the words they used."""

    item_id: str
    title: str
    mention: str = ""


class UserProfile(BaseModel):
    """What the agent believes about the user; every field is user-removable."""

    liked_items: list[LinkedItem] = Field(default_factory=list)
    disliked_items: list[LinkedItem] = Field(default_factory=list)
    liked_entities: list[str] = Field(default_factory=list,
                                      description="KG entity ids: genre:x, person:Name, tag:x.")
    disliked_entities: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list, description="Free-text wishes.")
    constraints: Constraints = Field(default_factory=Constraints)
    shown_items: list[str] = Field(default_factory=list)
    suggested_items: list[str] = Field(default_factory=list, description="Items the other side "
                                       "of an observed transcript suggested (not shown by us).")
    feedback: dict[str, FeedbackKind] = Field(default_factory=dict)
    asked_slots: list[str] = Field(default_factory=list)
    unknown_mentions: list[str] = Field(default_factory=list)

    def liked_ids(self) -> list[str]:
        """Liked item ids, from mentions and from feedback."""
        ids = [i.item_id for i in self.liked_items]
        ids += [k for k, v in self.feedback.items() if v == "liked" and k not in ids]
        return ids

    def disliked_ids(self) -> list[str]:
        """Disliked item ids, from mentions and from feedback."""
        ids = [i.item_id for i in self.disliked_items]
        ids += [k for k, v in self.feedback.items() if v == "disliked" and k not in ids]
        return ids

    def excluded_ids(self) -> set[str]:
        """Items never to recommend again: disliked, seen, already shown, mentioned as liked."""
        return (set(self.disliked_ids()) | set(self.shown_items) | set(self.feedback)
                | {i.item_id for i in self.liked_items})

    def is_empty(self) -> bool:
        """True when nothing is known yet."""
        return not (self.liked_items or self.disliked_items or self.liked_entities
                    or self.keywords or not self.constraints.is_empty() or self.feedback)

    def to_inputs(self) -> ProfileInputs:
        """The tool-facing view of the profile."""
        genre_excl = sorted({e.split(":", 1)[1] for e in self.disliked_entities
                             if e.startswith("genre:")} | set(self.constraints.genres_excluded))
        constraints = self.constraints.model_copy(update={"genres_excluded": genre_excl})
        text = " ".join(self.keywords)
        liked_genres = [e.split(":", 1)[1] for e in self.liked_entities if e.startswith("genre:")]
        if liked_genres:
            text = (text + " " + " ".join(liked_genres)).strip()
        return ProfileInputs(
            free_text=text[:2000],
            liked_items=self.liked_ids()[:50],
            disliked_items=self.disliked_ids()[:50],
            entities=self.liked_entities[:50],
            constraints=constraints,
        )
