"""Titles as shown: MovieLens' alternate names in trailing parentheses are left out."""

from __future__ import annotations

import pytest

from agent.reply import Recommendation
from catalog.models import Item
from catalog.text import main_title


@pytest.mark.parametrize(("title", "shown"), [
    ("Raiders of the Lost Ark (Indiana Jones and the Raiders of the Lost Ark)",
     "Raiders of the Lost Ark"),
    ("Fist of Fury (Chinese Connection, The) (Jing wu men)", "Fist of Fury"),
    ("Seven (a.k.a. Se7en)", "Seven"),
    ("Birdman: Or (The Unexpected Virtue of Ignorance)",
     "Birdman: Or (The Unexpected Virtue of Ignorance)"),
    ("(500) Days of Summer", "(500) Days of Summer"),
    ("Alien", "Alien"),
])
def test_main_title(title: str, shown: str) -> None:
    assert main_title(title) == shown


def test_cards_and_items_show_the_main_title_but_keep_the_full_one() -> None:
    item = Item(id="1", title="Seven (a.k.a. Se7en)", year=1995)
    assert item.shown_title == "Seven (1995)"
    assert item.display_title == "Seven (a.k.a. Se7en) (1995)"
    rec = Recommendation(item_id="1", title=item.title, year=1995, score=1.0,
                         justification="Seven is a dark thriller.")
    assert rec.display_title == "Seven (1995)"
    assert rec.line() == "Seven is a dark thriller."
    other = rec.model_copy(update={"justification": "A dark thriller."})
    assert other.line() == "Seven (1995): A dark thriller."
