"""Dialogue state across turns on the fake backend: reactions in words, corrections, topic switches."""

from __future__ import annotations

import pytest

from agent.testing import keyword_backend


@pytest.fixture()
def session(ml100k, ml100k_agent_factory):  # type: ignore[no-untyped-def]
    return ml100k_agent_factory(keyword_backend(ml100k)).session("reactions")


def test_reactions_to_cards_update_feedback_like_the_buttons(session, ml100k) -> None:  # type: ignore[no-untyped-def]
    first = session.send("I loved Toy Story, something funny please")
    assert first.kind == "recommendations"
    assert [i.item_id for i in first.profile.liked_items] == ["1"]
    assert "genre:comedy" in first.profile.liked_entities
    cards = [r.item_id for r in first.recommendations]

    seen = session.send("seen the first one")
    assert seen.profile.feedback[cards[0]] == "seen"
    assert seen.kind == "recommendations"
    assert cards[0] not in [r.item_id for r in seen.recommendations]
    cards = [r.item_id for r in seen.recommendations]

    weights_before = dict(session.state.tool_weights)
    liked = session.send("the second sounds good")
    assert liked.profile.feedback[cards[1]] == "liked"
    assert session.state.tool_weights != weights_before  # feedback is the reward, as buttons
    cards = [r.item_id for r in liked.recommendations]

    nope = session.send("Nope, not my cup of tea.")
    assert nope.profile.feedback[cards[0]] == "disliked"
    assert not nope.unknown_titles  # an idiom is no title


def test_more_like_a_card_asks_for_recommendations(session) -> None:  # type: ignore[no-untyped-def]
    first = session.send("I loved Star Wars")
    cards = [r.item_id for r in first.recommendations] or session.ranked(5)
    if first.kind != "recommendations":
        first = session.send("show me what you have")
        cards = [r.item_id for r in first.recommendations]
    more = session.send("more like the first one")
    assert more.kind == "recommendations"
    assert more.profile.feedback[cards[0]] == "liked"


def test_corrections_and_topic_switches(session, ml100k) -> None:  # type: ignore[no-untyped-def]
    session.send("I loved Alien, but nothing with horror")
    assert "genre:horror" in session.profile.disliked_entities
    switched = session.send("Actually I do like horror. Something from the 80s?")
    p = switched.profile
    assert "genre:horror" in p.liked_entities and "genre:horror" not in p.disliked_entities
    assert (p.constraints.year_min, p.constraints.year_max) == (1980, 1989)
    assert all(1980 <= ml100k.items[r.item_id].year <= 1989 for r in switched.recommendations)
    again = session.send("forget that, old classics please")
    assert again.profile.constraints.year_max == 1979 and again.profile.constraints.year_min is None


def test_greetings_and_chitchat_never_become_titles(session) -> None:  # type: ignore[no-untyped-def]
    for text in ("hi", "Hello!", "HellO! Hello", "Hi there", "thanks!", "lol ok",
                 "hi, any ideas for tonight?"):
        reply = session.send(text)
        assert not reply.unknown_titles, (text, reply.unknown_titles)
        assert not reply.profile.liked_items and not reply.profile.unknown_mentions


def test_dunno_moves_on_to_another_question(session) -> None:  # type: ignore[no-untyped-def]
    first = session.send("hi, I want to watch something tonight")
    assert first.kind == "question"
    second = session.send("dunno")
    assert second.kind == "question" and second.question_slot != first.question_slot


def test_observed_transcript_labels_suggestions_and_shows_nothing(session, ml100k) -> None:  # type: ignore[no-untyped-def]
    session.observe("assistant", "Hi, what kind of movies do you like?")
    session.observe("user", "I like sci-fi like Star Wars (1977)")
    session.observe("assistant", "Have you seen Alien (1979) or Blade Runner (1982)?")
    session.observe("user", "I have seen them both, those were good")
    p = session.profile
    assert [i.item_id for i in p.liked_items][:1] == ["50"]
    assert {"183", "89"} <= set(p.suggested_items)
    assert p.feedback.get("183") == "liked" and p.feedback.get("89") == "liked"
    assert not p.shown_items  # nothing was shown by us
    ranked = session.ranked(10)
    assert len(ranked) == 10 and not {"50", "183", "89"} & set(ranked)
    session.observe("assistant", "What about Aliens (1986)?")
    session.observe("user", "seen it, not my thing")
    assert session.profile.feedback.get("176") == "disliked"
    reply = session.recommend()
    assert reply.kind == "recommendations" and reply.recommendations
    assert "176" not in [r.item_id for r in reply.recommendations]
    assert [r.item_id for r in reply.recommendations][:3] == session.profile.shown_items[:3]


def test_observe_rejects_unknown_roles(session) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="role"):
        session.observe("system", "hello")


def test_a_card_the_user_has_not_seen_gets_no_verdict(session) -> None:  # type: ignore[no-untyped-def]
    first = session.send("I loved Toy Story, something funny please")
    cards = [r.item_id for r in first.recommendations]
    reply = session.send("I don't think I saw the second one you mentioned")
    assert cards[1] not in reply.profile.feedback  # neither liked nor seen
    assert cards[1] not in reply.profile.liked_ids()


def test_a_reaction_naming_a_person_goes_to_the_suggestion_with_that_person(
        redial_catalog) -> None:  # type: ignore[no-untyped-def]
    from agent.linking import EntityLinker
    from agent.profile import UserProfile
    from agent.reading import Reader
    from agent.updates import apply_reading

    linker = EntityLinker(redial_catalog)
    reader = Reader(linker)
    ids = {i.display_title: i.id for i in redial_catalog.items.values()}
    context = [ids["Elf (2003)"], ids["Trainwreck (2015)"]]
    profile = UserProfile()
    update = apply_reading(profile, reader.read("I love that movie with Will Ferrel",
                                                context_items=context), linker,
                           context_items=context, salient=context[-1])
    assert (ids["Elf (2003)"], "liked") in update.feedback
    assert all(item != ids["Trainwreck (2015)"] for item, _ in update.feedback)


def test_the_genre_asked_for_comes_before_look_alikes_of_a_liked_film(session, ml100k) -> None:  # type: ignore[no-untyped-def]
    reply = session.send("something scary, I loved Toy Story")
    assert reply.kind == "recommendations" and len(reply.recommendations) == 5
    assert "genre:horror" in reply.profile.liked_entities
    assert all("horror" in ml100k.items[r.item_id].genres for r in reply.recommendations)
    assert session.ranked(100)[:5] == [r.item_id for r in reply.recommendations]


def test_genre_first_keeps_the_tools_order_and_drops_nothing(ml100k) -> None:  # type: ignore[no-untyped-def]
    from agent.planner import genre_first
    from tools.base import Candidate

    ids = [i for i in list(ml100k.items)[:40]]
    cands = [Candidate(item_id=i, score=float(-n)) for n, i in enumerate(ids)]
    out = genre_first(cands, ml100k, {"comedy"})
    comedies = [c.item_id for c in cands if "comedy" in ml100k.items[c.item_id].genres]
    assert comedies and [c.item_id for c in out[:len(comedies)]] == comedies
    assert sorted(c.item_id for c in out) == sorted(ids)
    assert genre_first(cands, ml100k, set()) == cands
