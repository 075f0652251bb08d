"""A multi-turn dialogue on the REAL default model: reactions, a correction, a topic switch."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.real_model, pytest.mark.slow]


def test_reactions_corrections_and_a_topic_switch(real_agent, ml100k) -> None:  # type: ignore[no-untyped-def]
    session = real_agent.session("e2e-reactions")
    first = session.send("I loved Toy Story, something funny please")
    assert first.kind == "recommendations"
    assert "1" in [i.item_id for i in first.profile.liked_items]
    assert "genre:comedy" in first.profile.liked_entities
    for call in first.llm_calls:
        assert call.stage != "understanding" or call.valid_json
    cards = [r.item_id for r in first.recommendations]

    seen = session.send("seen the first one")
    assert seen.profile.feedback.get(cards[0]) == "seen"
    assert cards[0] not in [r.item_id for r in seen.recommendations]
    cards = [r.item_id for r in seen.recommendations]

    switched = session.send("not that one. Something from the 80s instead")
    p = switched.profile
    assert p.feedback.get(cards[0]) == "disliked"
    assert (p.constraints.year_min, p.constraints.year_max) == (1980, 1989)
    assert switched.recommendations
    assert all(1980 <= (ml100k.items[r.item_id].year or 0) <= 1989
               for r in switched.recommendations)

    corrected = session.send("Actually I don't like comedies, I prefer thrillers")
    p = corrected.profile
    assert "genre:comedy" in p.disliked_entities and "genre:comedy" not in p.liked_entities
    assert "genre:thriller" in p.liked_entities
    assert all("comedy" not in ml100k.items[r.item_id].genres for r in corrected.recommendations)
    assert not corrected.unknown_titles
