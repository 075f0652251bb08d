"""Profile updates from a reading, with corrections (the newest statement wins)."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.linking import EntityLinker
from agent.profile import FeedbackKind, LinkedItem, UserProfile
from agent.reading import Reading

MAX_KEYWORDS = 12


@dataclass
class Update:
    """What a reading changed, beyond the profile itself."""

    unknown: list[str] = field(default_factory=list)
    feedback: list[tuple[str, FeedbackKind]] = field(default_factory=list)
    """Reactions to shown or suggested items, applied like the TUI's buttons."""


def _move(value: str, add_to: list[str], remove_from: list[str]) -> None:
    if value in remove_from:
        remove_from.remove(value)
    if value not in add_to:
        add_to.append(value)


def _set_item(profile: UserProfile, linker: EntityLinker, item_id: str, mention: str,
              liked: bool) -> None:
    title = linker.catalog.items[item_id].display_title
    keep, drop = ((profile.liked_items, profile.disliked_items) if liked
                  else (profile.disliked_items, profile.liked_items))
    drop[:] = [i for i in drop if i.item_id != item_id]
    if all(i.item_id != item_id for i in keep):
        keep.append(LinkedItem(item_id=item_id, title=title, mention=mention))
    profile.feedback.pop(item_id, None)


def _featuring(reading: Reading, linker: EntityLinker, context: list[str]) -> str | None:
    """The one suggestion in context whose cast or crew has a person the message names
    ("that movie with Will Ferrell" -> Elf, not the other suggestion)."""
    named = {s.value.split(":", 1)[1] for s in reading.spans if s.kind == "person"}
    if not named:
        return None
    items = linker.catalog.items
    hits = [i for i in context if i in items and named & {
        name for names in items[i].people.values() for name in names}]
    return hits[0] if len(hits) == 1 else None


def apply_reading(profile: UserProfile, reading: Reading, linker: EntityLinker,
                  context_items: list[str] | None = None, salient: str | None = None) -> Update:
    """Fold one user message's reading into the profile.

    Liked/disliked titles, people, genres and tags move between the liked and disliked
    lists ("actually I hate horror" moves horror); seen titles become "seen" feedback; card
    references and whole-message reactions ("seen it", "not my thing", "the second sounds
    good") become feedback on the cards or suggestions in context: the one referred to, all
    of them for "them"/"those", else the salient one (the top card, or the last suggestion).
    """
    update = Update(unknown=list(reading.unknown))
    context = context_items or []
    referred: list[str] = []
    for span in reading.spans:
        if span.kind == "card" or (span.kind == "title" and span.value in context
                                   and span.label in ("liked", "disliked", "seen")):
            referred.append(span.value)
            if span.label == "unseen":  # "I haven't seen the second one": no verdict on it
                continue
            kind = span.label if span.label in ("liked", "disliked", "seen") else "liked"
            if span.kind == "title" and kind != "seen":  # named, not only pointed at
                _set_item(profile, linker, span.value, span.text, kind == "liked")
            update.feedback.append((span.value, kind))  # type: ignore[arg-type]
            continue
        if span.kind == "title" and span.value:
            if span.label in ("liked", "disliked"):
                _set_item(profile, linker, span.value, span.text, span.label == "liked")
            elif span.label == "seen":
                profile.feedback[span.value] = "seen"
        elif span.kind in ("person", "genre", "tag"):
            if span.label == "disliked":
                _move(span.value, profile.disliked_entities, profile.liked_entities)
            elif span.label == "liked":
                _move(span.value, profile.liked_entities, profile.disliked_entities)
        elif span.kind == "era":
            lo, hi = span.value.removeprefix("era:").split("-")
            if span.label == "disliked":  # "not into old movies" -> from 1980 on
                if lo and hi:
                    continue  # a refused decade is no range
                lo, hi = (str(int(hi) + 1), "") if hi else ("", str(int(lo) - 1))
            profile.constraints = profile.constraints.model_copy(update={
                "year_min": int(lo) if lo else None, "year_max": int(hi) if hi else None})
    unseen = [s.value for s in reading.spans if s.kind == "title" and s.value in context
              and s.label == "unseen"]
    judged_other = any(s.kind == "title" and s.value and s.value not in context and s.sure
                       and s.label in ("liked", "disliked") for s in reading.spans)
    if reading.reaction in ("liked", "disliked") and context and not referred and \
            len(unseen) == 1:  # "I haven't seen Valley Girl I like that idea": that one
        if not judged_other:  # not "haven't seen Snatch ... did enjoy The Equalizer"
            update.feedback.append((unseen[0], reading.reaction))
    elif reading.reaction and context and referred and reading.reaction_group:
        labelled = {s.value for s in reading.spans if s.kind == "title" and s.label}
        update.feedback += [(i, reading.reaction) for i in context  # type: ignore[misc]
                            if i not in referred and i not in labelled]  # "seen both, X is cool"
    elif reading.reaction and context and not referred:
        featuring = _featuring(reading, linker, context)
        targets = context if reading.reaction_plural else [
            featuring or salient or context[0]]
        update.feedback += [(item_id, reading.reaction) for item_id in targets]  # type: ignore[misc]
    for keyword in reading.keywords:
        _add_keyword(profile, keyword)
    genres_off = sorted({e.split(":", 1)[1] for e in profile.disliked_entities
                         if e.startswith("genre:")})
    profile.constraints = profile.constraints.model_copy(update={"genres_excluded": genres_off})
    for mention in update.unknown:
        if mention not in profile.unknown_mentions:
            profile.unknown_mentions.append(mention)
    return update


def _add_keyword(profile: UserProfile, keyword: str) -> None:
    k = keyword.strip().lower()
    if k and k not in profile.keywords:
        profile.keywords.append(k)
        del profile.keywords[:-MAX_KEYWORDS]
