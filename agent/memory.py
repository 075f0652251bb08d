"""Long-term interest memory per user: facts with provenance, recency decay, profile seeding."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from agent.profile import LinkedItem, UserProfile

if TYPE_CHECKING:
    from agent.host import SessionView as Session
    from agent.reply import Reply
    from agent.store import BaseSessionStore, MemoryUpdate

log = logging.getLogger(__name__)

Polarity = Literal["liked", "disliked", "seen"]
Source = Literal["said", "button", "inferred"]
DAY = 86_400.0
MEMORY_VERSION = 1
REMEMBERED = "remembered"
"""The `mention` of a liked item seeded from memory (the TUI shows it apart)."""


class Fact(BaseModel):
    """One remembered belief about an item or an entity, with when and how it was learned."""

    key: str = Field(description="An item id, or an entity id (genre:x, person:Name, tag:x).")
    kind: Literal["item", "entity"]
    polarity: Polarity
    source: Source
    at: float = Field(description="When it was learned (epoch seconds).")
    session_id: str = ""
    label: str = Field("", description="The title or the entity's name, for display.")
    strength: float = Field(1.0, ge=0.0, description="Evidence strength before decay "
                            "(1 for a statement; ratings may give more or less).")

    def weight(self, now: float, half_life_days: float) -> float:
        """The decayed weight: strength halved every `half_life_days` (0: no decay)."""
        if half_life_days <= 0:
            return self.strength
        age = max(0.0, now - self.at) / DAY
        return self.strength * math.pow(0.5, age / half_life_days)


class UserMemory(BaseModel):
    """Every fact remembered about one user: the newest per item or entity."""

    version: int = MEMORY_VERSION
    facts: dict[str, Fact] = Field(default_factory=dict)

    @classmethod
    def from_stored(cls, data: dict[str, Any] | None) -> UserMemory:
        """The memory from the store's dict; a damaged one is logged and treated as empty."""
        if not data:
            return cls()
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            log.warning("a stored user memory is unreadable, starting from empty: %s",
                        str(exc).splitlines()[0])
            return cls()

    def add(self, fact: Fact) -> bool:
        """Merge one fact: the newer one wins, except that an inferred fact never overrides an
        explicit one (said or button). Returns True when the memory changed."""
        old = self.facts.get(fact.key)
        if old is not None:
            if fact.at < old.at:
                return False
            if fact.source == "inferred" and old.source != "inferred" \
                    and old.polarity != fact.polarity:
                return False
            if old.polarity == fact.polarity and old.source == fact.source \
                    and old.strength == fact.strength:
                old_at = old.at
                self.facts[fact.key] = fact  # the same belief, reaffirmed: refresh its time
                return fact.at != old_at
        self.facts[fact.key] = fact
        return True

    def forget(self, key: str) -> bool:
        """Remove one item or entity; True if it was remembered."""
        return self.facts.pop(key, None) is not None

    def ranked(self, polarity: Polarity, now: float, half_life_days: float,
               kind: str | None = None) -> list[tuple[Fact, float]]:
        """Facts of one polarity (and kind), heaviest first, with their decayed weights."""
        out = [(f, f.weight(now, half_life_days)) for f in self.facts.values()
               if f.polarity == polarity and (kind is None or f.kind == kind)]
        return sorted(out, key=lambda x: (-x[1], -x[0].at, x[0].key))

    def summary(self, now: float | None = None, half_life_days: float = 0.0,
                n: int = 3) -> str:
        """One line of what is remembered, e.g. 'last time: Alien, Blade Runner; no horror'."""
        now = time.time() if now is None else now
        liked = [f.label or f.key for f, _ in self.ranked("liked", now, half_life_days)][:n]
        off = [f for f, _ in self.ranked("disliked", now, half_life_days, "entity")][:2]
        bits = []
        if liked:
            bits.append(", ".join(liked))
        if off:
            bits.append(", ".join("no " + (f.label or f.key.split(":", 1)[-1]) for f in off))
        seen = sum(f.polarity == "seen" for f in self.facts.values())
        if seen and not bits:
            bits.append(f"{seen} film{'s' if seen != 1 else ''} you had seen")
        return "last time: " + "; ".join(bits) if bits else ""


def merge_facts(stored: dict[str, Any] | None, facts: Iterable[Fact],
                forget: Iterable[str] = ()) -> dict[str, Any]:
    """The stored memory with new facts merged and some keys forgotten (runs inside the store's
    write transaction, so concurrent sessions of one user never lose each other's facts)."""
    memory = UserMemory.from_stored(stored)
    for key in forget:
        memory.forget(key)
    for fact in facts:
        memory.add(fact)
    return memory.model_dump(mode="json")


def profile_facts(profile: UserProfile) -> dict[str, tuple[str, Polarity, str]]:
    """What a profile says, as key -> (kind, polarity, label); later entries win."""
    out: dict[str, tuple[str, Polarity, str]] = {}
    for item_id, kind in profile.feedback.items():
        out[item_id] = ("item", kind, "")
    for item in profile.liked_items:
        out[item.item_id] = ("item", "liked", item.title)
    for item in profile.disliked_items:
        out[item.item_id] = ("item", "disliked", item.title)
    for entity in profile.liked_entities:
        out[entity] = ("entity", "liked", entity.split(":", 1)[-1])
    for entity in profile.disliked_entities:
        out[entity] = ("entity", "disliked", entity.split(":", 1)[-1])
    return out


def new_facts(profile: UserProfile, baseline: dict[str, str], source: Source, session_id: str,
              titles: dict[str, str] | None = None,
              now: float | None = None) -> tuple[list[Fact], list[str]]:
    """Facts the profile holds that `baseline` (key -> polarity already recorded) lacks or
    holds with another polarity, and the keys the profile no longer holds (removed beliefs).
    `baseline` is updated in place to the profile's view."""
    now = time.time() if now is None else now
    titles = titles or {}
    current = profile_facts(profile)
    facts = []
    for key, (kind, polarity, label) in current.items():
        if baseline.get(key) != polarity:
            facts.append(Fact(key=key, kind=kind, polarity=polarity, source=source, at=now,  # type: ignore[arg-type]
                              session_id=session_id, label=label or titles.get(key, "")))
            baseline[key] = polarity
    gone = [key for key in baseline if key not in current]
    for key in gone:
        del baseline[key]
    return facts, gone


def seed_profile(profile: UserProfile, memory: UserMemory, now: float, half_life_days: float,
                 max_likes: int = 10, min_weight: float = 0.25,
                 valid_items: set[str] | None = None) -> dict[str, str]:
    """Fold a returning user's memory into a new session's profile; returns what was seeded
    (key -> polarity).

    Seen and disliked items are excluded from recommendations (as feedback) whatever their
    age; disliked entities and the top `max_likes` liked items and entities by decayed weight
    are seeded when their weight is at least `min_weight` (old likes fade, so a drifted taste
    is not held against the user). Items unknown to the catalog are skipped.
    """
    seeded: dict[str, str] = {}

    def known(key: str) -> bool:
        return valid_items is None or key in valid_items

    for fact in memory.facts.values():
        if fact.kind == "item" and fact.polarity in ("seen", "disliked") and known(fact.key):
            profile.feedback[fact.key] = fact.polarity
            seeded[fact.key] = fact.polarity
    for fact, weight in memory.ranked("disliked", now, half_life_days, "entity"):
        if weight >= min_weight and fact.key not in profile.disliked_entities:
            profile.disliked_entities.append(fact.key)
            seeded[fact.key] = "disliked"
    likes = [(f, w) for f, w in memory.ranked("liked", now, half_life_days)
             if w >= min_weight and (f.kind == "entity" or known(f.key))][:max_likes]
    for fact, _ in likes:
        if fact.kind == "item":
            if all(i.item_id != fact.key for i in profile.liked_items):
                profile.liked_items.append(LinkedItem(item_id=fact.key, title=fact.label,
                                                      mention=REMEMBERED))
        elif fact.key not in profile.liked_entities:
            profile.liked_entities.append(fact.key)
        seeded[fact.key] = "liked"
    off = sorted({e.split(":", 1)[1] for e in profile.disliked_entities if e.startswith("genre:")})
    profile.constraints = profile.constraints.model_copy(update={"genres_excluded": off})
    return seeded


def session_view(profile: UserProfile, remembered: dict[str, str]) -> UserProfile:
    """The profile without what was seeded from memory: what this session itself learned (the
    interview policy asks questions from it, so a returning user is still interviewed)."""
    p = profile.model_copy(deep=True)
    liked = {k for k, v in remembered.items() if v == "liked"}
    p.liked_items = [i for i in p.liked_items if i.item_id not in liked]
    p.liked_entities = [e for e in p.liked_entities if e not in liked]
    p.disliked_entities = [e for e in p.disliked_entities if remembered.get(e) != "disliked"]
    p.feedback = {k: v for k, v in p.feedback.items() if remembered.get(k) != v}
    off = {e.split(":", 1)[1] for e in p.disliked_entities if e.startswith("genre:")}
    dropped = {k.split(":", 1)[1] for k, v in remembered.items()
               if v == "disliked" and k.startswith("genre:")} - off
    p.constraints = p.constraints.model_copy(update={"genres_excluded": [
        g for g in p.constraints.genres_excluded if g not in dropped]})
    return p


# ---- the session's side ----------------------------------------------------------------------
def _settings_of(session: Session) -> tuple[bool, float]:
    settings = session.agent.settings
    return bool(getattr(settings, "memory", True)), float(
        getattr(settings, "memory_half_life_days", 0.0))


def start_session(session: Session, now: float | None = None) -> bool:
    """Seed a NEW session of a returning user from the store's memory and prepare the welcome
    line; True when something was remembered. A no-op when the `memory` setting is off."""
    enabled, half_life = _settings_of(session)
    if not enabled:
        return False
    memory = UserMemory.from_stored(session.agent.store.load_memory(session.user_id))
    if not memory.facts:
        return False
    now = time.time() if now is None else now
    items = session.agent.catalog.items
    seeded = seed_profile(session.profile, memory, now, half_life, valid_items=set(items))
    for fact in memory.facts.values():  # remembered likes not seeded: still never re-shown
        if fact.kind == "item" and fact.polarity == "liked" and fact.key not in seeded \
                and fact.key in items and fact.key not in session.profile.shown_items:
            session.profile.shown_items.append(fact.key)
    session.state.remembered = dict(seeded)
    session.state.recorded = dict(seeded)
    line = memory.summary(now, half_life)
    session.state.welcome = f"Welcome back - {line}" if line else None
    return True


def record(session: Session, source: Source) -> MemoryUpdate | None:
    """The memory update for what the session learned since it was last recorded (None when
    nothing changed or memory is off): a function of the stored memory, for the store to run
    inside the same transaction as the turn."""
    if not _settings_of(session)[0]:
        return None
    titles = {k: session.agent.catalog.items[k].shown_title
              for k in profile_facts(session.profile) if k in session.agent.catalog.items}
    facts, gone = new_facts(session.profile, session.state.recorded, source, session.id, titles)
    for key in gone:
        session.state.remembered.pop(key, None)
    if not facts and not gone:
        return None
    return lambda stored: merge_facts(stored, facts, gone)


def save_now(session: Session, source: Source) -> None:
    """Write what the session learned outside a turn (buttons, removed beliefs, observed
    transcripts): the memory first, then the caller saves the state (a crash in between only
    re-records a fact at the next turn, never loses one)."""
    update = record(session, source)
    if update is not None:
        session.agent.store.save_memory(session.user_id, update)


def policy_view(session: Session) -> UserProfile:
    """The profile the interview policy judges: this session's own beliefs, so a returning
    user is still interviewed; but the whole profile when the session knows nothing yet and
    memory holds likes ("any ideas?" recommends from what is remembered)."""
    _claim_restated(session)
    remembered = session.state.remembered
    if not remembered:
        return session.profile
    view = session_view(session.profile, remembered)
    if view.is_empty() and "liked" in remembered.values():
        return session.profile
    return view


def _claim_restated(session: Session) -> None:
    """Remembered beliefs the user restated in this message become this session's own (and
    are recorded again, with a fresh time)."""
    reading = session.last_reading
    if reading is None or not session.state.remembered:
        return
    for span in reading.spans:
        if span.value and span.label in ("liked", "disliked", "seen") \
                and session.state.remembered.get(span.value) is not None:
            session.state.remembered.pop(span.value, None)
            session.state.recorded.pop(span.value, None)


def welcome(session: Session, reply: Reply) -> None:
    """Prefix the first reply to a returning user with the one line of what is remembered."""
    line = session.state.welcome
    if line and session.state.turn == 1:
        reply.text = f"{line}\n{reply.text}"
        reply.notices.insert(0, line)


# ---- showing and editing (CLI, TUI) ---------------------------------------------------------
def describe(memory: UserMemory, now: float | None = None,
             half_life_days: float = 0.0) -> list[str]:
    """One line per remembered fact, newest first: key, polarity, label, source, age, weight."""
    now = time.time() if now is None else now
    lines = []
    for f in sorted(memory.facts.values(), key=lambda f: (-f.at, f.key)):
        age = max(0.0, now - f.at) / DAY
        lines.append(f"{f.key:<24} {f.polarity:<8} {f.label or '-':<40} {f.source:<8} "
                     f"{age:6.1f} d  weight {f.weight(now, half_life_days):.2f}")
    return lines


def find_key(memory: UserMemory, what: str) -> str | None:
    """The remembered key `what` names: a key itself, or a label (case-insensitive, a title
    without its year matches too)."""
    if what in memory.facts:
        return what
    low = what.strip().lower()
    for f in memory.facts.values():
        label = f.label.lower()
        if low and (label == low or label.rsplit(" (", 1)[0] == low):
            return f.key
    return None


def forget_in_store(store: BaseSessionStore, user_id: str, what: str | None = None) -> int:
    """Forget one remembered item or entity of a user (key or title), or everything when
    `what` is None; returns how many facts were removed."""
    memory = UserMemory.from_stored(store.load_memory(user_id))
    if what is None:
        n = len(memory.facts)
        store.forget(user_id)
        return n
    key = find_key(memory, what)
    if key is None:
        return 0
    store.save_memory(user_id, lambda stored: merge_facts(stored, [], [key]))
    return 1


def forget_belief(session: Session, key: str) -> bool:
    """Forget one belief in a live session and in the user's memory (the TUI's forget): an
    item (liked, disliked or seen) or an entity."""
    p = session.profile
    if key in p.liked_entities or key in p.disliked_entities:
        kind = "liked_entity" if key in p.liked_entities else "disliked_entity"
    elif any(i.item_id == key for i in p.disliked_items):
        kind = "disliked_item"
    else:
        kind = "liked_item"  # also drops seen/disliked feedback on the item
    changed = session.remove_belief(kind, key)
    if not changed and _settings_of(session)[0]:  # not in this session: forget it in memory
        session.agent.store.save_memory(session.user_id,
                                        lambda stored: merge_facts(stored, [], [key]))
    return changed
