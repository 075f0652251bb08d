"""Profile updates from an understood utterance, with corrections (newest statement wins)."""

from __future__ import annotations

from agent.linking import EntityLinker
from agent.profile import LinkedItem, UserProfile
from agent.understanding import Utterance

MAX_KEYWORDS = 12


def _move(value: str, add_to: list[str], remove_from: list[str]) -> None:
    if value in remove_from:
        remove_from.remove(value)
    if value not in add_to:
        add_to.append(value)


def apply_utterance(profile: UserProfile, u: Utterance, linker: EntityLinker) -> list[str]:
    """Fold one utterance into the profile; return the mentions that could not be linked.

    A later statement overrides an earlier one ("actually I hate horror" moves horror from
    liked to disliked), and liking an item removes it from the dislikes and vice versa.
    """
    unknown: list[str] = []
    liked_genres, disliked_genres = list(u.liked_genres), list(u.disliked_genres)
    for mentions, liked in ((u.liked_titles, True), (u.disliked_titles, False)):
        # Small models sometimes put a genre ("horror") among the titles: move it back.
        genre_like = [m for m in mentions if linker.link_title(m) is None
                      and linker.link_genre(m) is not None]
        (liked_genres if liked else disliked_genres).extend(genre_like)
        mentions = [m for m in mentions if m not in genre_like]
        result = linker.link_titles(mentions)
        for mention in result.unknown:
            if not _link_as_entity(profile, mention, liked, linker) and mention not in unknown:
                unknown.append(mention)
        for mention, item_id in result.items:
            title = linker.catalog.items[item_id].display_title
            entry = LinkedItem(item_id=item_id, title=title, mention=mention)
            keep, drop = ((profile.liked_items, profile.disliked_items) if liked
                          else (profile.disliked_items, profile.liked_items))
            drop[:] = [i for i in drop if i.item_id != item_id]
            if all(i.item_id != item_id for i in keep):
                keep.append(entry)
            profile.feedback.pop(item_id, None)
    for mentions, liked in ((liked_genres, True), (disliked_genres, False)):
        for mention in mentions:
            genre = linker.link_genre(mention)
            if genre is None:
                _add_keyword(profile, mention) if liked else unknown.append(mention)
                continue
            if liked:
                _move(genre, profile.liked_entities, profile.disliked_entities)
            else:
                _move(genre, profile.disliked_entities, profile.liked_entities)
    for mention in u.people:
        person = linker.link_person(mention)
        if person is None:
            unknown.append(mention)
        else:
            _move(person, profile.liked_entities, profile.disliked_entities)
    for keyword in u.keywords:
        tag = linker.link_tag(keyword)
        if tag:
            _move(tag, profile.liked_entities, profile.disliked_entities)
        _add_keyword(profile, keyword)
    c = profile.constraints
    update = {}
    if u.year_min is not None:
        update["year_min"] = u.year_min
    if u.year_max is not None:
        update["year_max"] = u.year_max
    if update:
        profile.constraints = c.model_copy(update=update)
    genres_off = sorted({e.split(":", 1)[1] for e in profile.disliked_entities
                         if e.startswith("genre:")})
    profile.constraints = profile.constraints.model_copy(update={"genres_excluded": genres_off})
    for mention in unknown:
        if mention not in profile.unknown_mentions:
            profile.unknown_mentions.append(mention)
    return unknown


def _link_as_entity(profile: UserProfile, mention: str, liked: bool,
                    linker: EntityLinker) -> bool:
    """A "title" that is no title may be a person or a tag ("Steven Spielberg", "archaeology").

    Small models put names and topics among the titles; linking them where they belong keeps
    what the user said instead of answering "I don't know". A liked topic is also kept as a
    retrieval keyword.
    """
    entity = linker.link_person(mention) or linker.link_tag(mention)
    if entity is None:
        return False
    if liked:
        _move(entity, profile.liked_entities, profile.disliked_entities)
        if entity.startswith("tag:"):
            _add_keyword(profile, mention)
    else:
        _move(entity, profile.disliked_entities, profile.liked_entities)
    return True


def _add_keyword(profile: UserProfile, keyword: str) -> None:
    k = keyword.strip().lower()
    if k and k not in profile.keywords:
        profile.keywords.append(k)
        del profile.keywords[:-MAX_KEYWORDS]
