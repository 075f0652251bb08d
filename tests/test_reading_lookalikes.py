"""Everyday words that look like films or people, and reactions said of a whole group of suggestions."""

from __future__ import annotations

import pytest

from agent.linking import EntityLinker
from agent.profile import UserProfile
from agent.reading import Reader, Reading
from agent.updates import apply_reading


@pytest.fixture(scope="module")
def reader(redial_catalog) -> Reader:  # type: ignore[no-untyped-def]
    return Reader(EntityLinker(redial_catalog))


def _titles(reader: Reader, reading: Reading) -> list[str]:
    items = reader.linker.catalog.items
    return [items[s.value].display_title for s in reading.spans
            if s.kind in ("title", "card") and s.value]


def _people(reading: Reading) -> list[str]:
    return [s.value.split(":", 1)[1] for s in reading.of_kind("person")]


def _id(reader: Reader, title: str) -> str:
    item_id = reader.linker.link_title(title)
    assert item_id, title
    return item_id


def test_everyday_words_are_no_films(reader: Reader) -> None:
    for text in ["I like The Shining (1980) but not the others you mentioned",
                 "first contact with aliens type of story",
                 "I do love car movies despite not knowing a thing about cars",
                 "Hello, do you know any good haunted house movies?",
                 "Hey. I'm looking for a Girls night in movie.",
                 "Hello. I'm looking for some movies Absolutely. I wanna watch some comedy",
                 "Havent watched Princess Protection Program yet"]:
        read = reader.read(text)
        assert [t for t in _titles(reader, read) if "Shining" not in t] == [], text
        assert _people(read) == [], text


def test_cues_around_lower_case_everyday_word_titles(reader: Reader) -> None:
    assert _titles(reader, reader.read("i like leonardo dicaprio movies, titanic especially")) == [
        "Titanic (1997)"]
    read = reader.read("couldnt get into avatar at all")
    assert [(s.label, _titles(reader, read)) for s in read.of_kind("title")] == [
        ("disliked", ["Avatar (2009)"])]
    assert _titles(reader, reader.read("matrix is peak cinema")) == ["The Matrix (1999)"]
    assert _titles(reader, reader.read("my son is obsessed with a bugs life")) == [
        "A Bug's Life (1998)"]
    read = reader.read("I couldn't stop laughing at Superbad")
    assert [s.label for s in read.of_kind("title")] == ["liked"]


def test_typographic_apostrophes_read_as_plain_ones(reader: Reader) -> None:
    heat = _id(reader, "Heat (1995)")
    for text in ["Haven’t seen that one. What’s it about?", "I’ve never heard of that one",
                 "I don't think I've seen that one. Thanks!", "Ihaven't seen it"]:
        assert reader.read(text, context_items=[heat]).reaction is None, text
    assert reader.read("Schindler’s List is a masterpiece").spans[0].text == "Schindler's List"


def test_a_reaction_said_of_the_whole_group_reaches_the_unnamed_suggestions(reader: Reader) -> None:
    dark, iron = _id(reader, "The Dark Knight (2008)"), _id(reader, "Iron Man 3 (2013)")
    profile = UserProfile()
    read = reader.read("I have seen both, Iron man 3 is super cool", context_items=[dark, iron])
    update = apply_reading(profile, read, reader.linker, [dark, iron])
    assert (dark, "seen") in update.feedback
    assert [i.item_id for i in profile.liked_items] == [iron]

    die, weapon, speed = (_id(reader, t) for t in ("Die Hard 2 (1990)", "Lethal Weapon (1987)",
                                                   "Speed 2: Cruise Control (1997)"))
    profile = UserProfile()
    context = [die, weapon, speed]
    read = reader.read("I saw all of those. I loved all, but the last one too.",
                       context_items=context)
    update = apply_reading(profile, read, reader.linker, context)
    assert sorted(i for i, kind in update.feedback if kind == "liked") == sorted(context)

    profile = UserProfile()  # one named, no group word: the rest get nothing
    read = reader.read("Iron man 3 is super cool", context_items=[dark, iron])
    update = apply_reading(profile, read, reader.linker, [dark, iron])
    assert all(i != dark for i, _ in update.feedback)


def test_greetings_plot_nouns_and_kinds_of_film_name_no_film(reader: Reader) -> None:
    for text in ["heyy movie buddy", "Hi merry christmas, I need a drama",
                 "mobsters running the city and one cop trying to take them down",
                 "I hate disaster movies", "hitchcok is the master, show me his stuff",
                 "gladiator 2 (2024) was sick", "yes! super funny!", "I like romantics and comedies."]:
        assert _titles(reader, reader.read(text)) == [], text
    assert _titles(reader, reader.read("hey, have you seen goonies?")) == ["The Goonies (1985)"]


def test_series_numbers_years_and_the_main_title(reader: Reader) -> None:
    assert _titles(reader, reader.read("harry potter 3 tops all the others")) == [
        "Harry Potter and the Prisoner of Azkaban (2004)"]
    assert _titles(reader, reader.read("toy story 3 made me cry")) == ["Toy Story 3 (2010)"]
    read = reader.read("something like Donnie Brasco (1997) or Heat (1996)")
    assert _titles(reader, read) == ["Donnie Brasco (1997)", "Heat (1995)"]
    read = reader.read("i hated titanic, way too long")
    assert [(s.label, _titles(reader, read)) for s in read.of_kind("title")] == [
        ("disliked", ["Titanic (1997)"])]
    assert _people(reader.read("the rock movies for a lazy sunday pls")) == ["Dwayne Johnson"]


def test_last_week_points_at_no_card(reader: Reader) -> None:
    cards = [_id(reader, t) for t in ("Get Out (2017)", "A Quiet Place (2018)",
                                      "The Conjuring (2013)")]
    read = reader.read("watched the first one last week", context_items=cards)
    assert [s.value for s in read.of_kind("card")] == [cards[0]]
