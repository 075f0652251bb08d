"""The reader's refining rules on the movielens-redial catalog, and what must stay no title."""

from __future__ import annotations

import pytest

from agent.linking import EntityLinker
from agent.reading import Reader, Reading


@pytest.fixture(scope="module")
def reader(redial_catalog) -> Reader:  # type: ignore[no-untyped-def]
    return Reader(EntityLinker(redial_catalog))


def _titles(reader: Reader, reading: Reading) -> list[tuple[str, str]]:
    items = reader.linker.catalog.items
    return [(items[s.value].display_title, s.label) for s in reading.spans
            if s.kind in ("title", "card") and s.value]


def _id(reader: Reader, title: str) -> str:
    item_id = reader.linker.link_title(title)
    assert item_id, title
    return item_id


def test_loose_words_name_the_suggestion_in_context(reader: Reader) -> None:
    homecoming = _id(reader, "Spider-Man: Homecoming (2017)")
    read = reader.read("I like all spiderman movies", context_items=[homecoming])
    assert [s.value for s in read.of_kind("title")] == [homecoming]
    home2 = _id(reader, "Home Alone 2: Lost in New York (1992)")
    read = reader.read("Home alone 2 was ok i guess", context_items=[home2])
    assert [s.value for s in read.of_kind("title")] == [home2]
    remake = _id(reader, "Death Wish (2018)")
    read = reader.read("not a fan of death wish", context_items=[remake])
    assert [(s.value, s.label) for s in read.of_kind("title")] == [(remake, "disliked")]
    # without that context the same words are no title
    assert not reader.read("I like all spiderman movies").of_kind("title")


def test_a_number_after_a_title_picks_the_sequel(reader: Reader) -> None:
    assert _titles(reader, reader.read("I liked the godfather 2")) == [
        ("The Godfather: Part II (1974)", "liked")]
    assert _titles(reader, reader.read("star wars episode 5 is the best")) == [
        ("Star Wars: Episode V - The Empire Strikes Back (1980)", "liked")]
    assert _titles(reader, reader.read("I liked the hangover 2")) == [
        ("The Hangover Part II (2011)", "liked")]
    # a number that is no sequel is left alone
    assert _titles(reader, reader.read("I watched Titanic 2 times")) == [
        ("Titanic (1997)", "seen")]


def test_titles_joined_to_a_found_title_are_titles(reader: Reader) -> None:
    got = _titles(reader, reader.read("i really liked the dark knight and inception"))
    assert got == [("The Dark Knight (2008)", "liked"), ("Inception (2010)", "liked")]
    names = [t for t, _ in _titles(reader, reader.read("I liked Alien, Aliens and Predator"))]
    assert names == ["Alien (1979)", "Aliens (1986)", "Predator (1987)"]
    # an everyday word after "and" is not a film
    assert [t for t, _ in _titles(reader, reader.read("I loved Inception and it was long"))] \
        == ["Inception (2010)"]


def test_new_and_original_pick_among_same_named_films(reader: Reader) -> None:
    text = "I haven't seen the new Death Wish but the original Death Wish was good"
    got = [t for t, _ in _titles(reader, reader.read(text))]
    assert got == ["Death Wish (2018)", "Death Wish (1974)"]


def test_possessive_and_lower_case_surnames(reader: Reader) -> None:
    assert [s.value for s in reader.read("I love Tarantino's movies").of_kind("person")] == [
        "person:Quentin Tarantino"]
    assert [s.value for s in reader.read("I love spielberg's films").of_kind("person")] == [
        "person:Steven Spielberg"]
    assert [s.value for s in reader.read("something by kubrick").of_kind("person")] == [
        "person:Stanley Kubrick"]
    # a first name inside a full name is no film ("Julia" of Julia Roberts)
    read = reader.read("Sandra Bullock, Julia Roberts and Meg Ryan")
    assert not read.of_kind("title")
    assert [s.value for s in read.of_kind("person")] == [
        "person:Sandra Bullock", "person:Julia Roberts", "person:Meg Ryan"]


def test_the_other_side_names_titles_without_years(reader: Reader) -> None:
    read = reader.read("Have you had a chance to see Anchorman yet?", role="assistant")
    assert [(t, label) for t, label in _titles(reader, read)] == [
        ("Anchorman: The Legend of Ron Burgundy (2004)", "suggested")]
    read = reader.read("I would suggest The Notebook or maybe Titanic", role="assistant")
    assert [t for t, _ in _titles(reader, read)] == ["The Notebook (2004)", "Titanic (1997)"]
    for text in ("Good morning! What are you in the mood for tonight?",
                 "Great choice! You will love it. Enjoy", "Sure. Have a Nice Day",
                 "Do you like Comedy or Action?"):
        assert not reader.read(text, role="assistant").spans, text


def test_card_groups_and_interest_in_unseen_titles(reader: Reader) -> None:
    cards = [_id(reader, t) for t in ("Toy Story (1995)", "Finding Nemo (2003)",
                                      "Monsters, Inc. (2001)")]
    read = reader.read("seen the first two, the third looks good", context_items=cards)
    assert [(s.value, s.label) for s in read.of_kind("card")] == [
        (cards[0], "seen"), (cards[1], "seen"), (cards[2], "liked")]
    read = reader.read("the last two look fun", context_items=cards)
    assert [s.value for s in read.of_kind("card")] == cards[1:]
    read = reader.read("I haven't seen Interstellar yet, but it looks good")
    assert _titles(reader, read) == [("Interstellar (2014)", "liked")]
    assert _titles(reader, reader.read("I haven't seen Interstellar")) == [
        ("Interstellar (2014)", "unseen")]
    assert _titles(reader, reader.read("I didn't like the notebook")) == [
        ("The Notebook (2004)", "disliked")]


def test_yes_to_have_you_seen_is_seen_whatever_follows(reader: Reader) -> None:
    anchorman = _id(reader, "Anchorman: The Legend of Ron Burgundy (2004)")
    read = reader.read("Yes Im not a big fan of Will Ferrel", context_items=[anchorman],
                       question="Have you had a chance to see Anchorman yet?")
    assert read.reaction == "seen"
    assert [(s.value, s.label) for s in read.of_kind("person")] == [
        ("person:Will Ferrell", "disliked")]


def test_numbers_and_cues_that_are_no_titles(reader: Reader) -> None:
    assert [t for t, _ in _titles(reader, reader.read("I've seen frozen like 10 times"))] == [
        "Frozen (2013)"]  # no film "10"
    assert [t for t, _ in _titles(reader, reader.read("my favorite movie is elf"))] == [
        "Elf (2003)"]
    assert _titles(reader, reader.read("I watched It last week")) == [("It (2017)", "seen")]
    for text in ("I saw it with my wife and kids", "I liked it and the sequel too",
                 "Sounds good and thanks again", "no thanks, I have seen that one and the other"):
        assert not reader.read(text).of_kind("title"), text


def test_subtitles_misspelt_titles_and_named_everyday_words(reader: Reader) -> None:
    assert [t for t, _ in _titles(reader, reader.read("I loved Fury Road"))] == [
        "Mad Max: Fury Road (2015)"]
    assert [t for t, _ in _titles(reader, reader.read("return of the king was epic"))] == [
        "The Lord of the Rings: The Return of the King (2003)"]
    # a misspelt long title beats one of its words that is a film on its own
    assert [t for t, _ in _titles(reader, reader.read("the shawshenk redemption is great"))] == [
        "The Shawshank Redemption (1994)"]
    assert [t for t, _ in _titles(reader, reader.read("i really like the movie get out"))] == [
        "Get Out (2017)"]
    assert not reader.read("i really like to get out more").of_kind("title")


@pytest.mark.parametrize(("text", "reaction"), [
    ("I have not seen it but I've heard good things", "liked"),
    ("Yes! one of my favorites", "liked"),
    ("I have, it's one of my favorite movies", "liked"),
    ("That was a great movie", "liked"),
    ("I'll have to check that out", "liked"),
    ("I did not like that one", "disliked"),
    ("No I haven't, what's it about?", None),
    ("yes", "seen"),
])
def test_reactions_in_words_to_a_suggestion(reader: Reader, text: str,
                                            reaction: str | None) -> None:
    matrix = _id(reader, "The Matrix (1999)")
    read = reader.read(text, context_items=[matrix], question="Have you seen The Matrix (1999)?")
    assert read.reaction == reaction


def test_a_shortened_first_name_before_a_known_surname(reader: Reader) -> None:
    assert [s.value for s in reader.read("leo dicaprio is great").of_kind("person")] == [
        "person:Leonardo DiCaprio"]
    assert not reader.read("the dicaprio thing").of_kind("person")


def test_lower_case_title_judged_after_it(reader: Reader) -> None:
    """'<title> is/was <judgement>' marks a lower-case title, everyday words included."""
    read = reader.read("honestly mean girls was totally overrated")
    assert _titles(reader, read) == [("Mean Girls (2004)", "disliked")]
    read = reader.read("inception is a classic")
    assert _titles(reader, read) == [("Inception (2010)", "liked")]
    # a pronoun before a judgement is no film "It"
    read = reader.read("I loved Heat (1995) It was a great movie")
    assert _titles(reader, read) == [("Heat (1995)", "liked")]


def test_stated_year_picks_the_nearest_film_of_that_title(reader: Reader) -> None:
    read = reader.read("Something like Cinderella (1948) please")
    assert [t for t, _ in _titles(reader, read)] == ["Cinderella (1950)"]
    read = reader.read("Something like Cinderella (1930) please")  # nothing within 5 years
    assert _titles(reader, read) == []


def test_remake_after_the_title_is_the_newest(reader: Reader) -> None:
    read = reader.read("the ghostbusters remake was awful")
    assert [t for t, _ in _titles(reader, read)] == ["Ghostbusters (2016)"]


def test_words_that_are_no_titles_or_people(reader: Reader) -> None:
    for text in ("We threw a party for my brother", "Anything with Japanese actors is great",
                 "Fast 8 was fun"):
        read = reader.read(text)
        assert not read.of_kind("person"), text
        assert all(s.value != reader.linker.link_title("The Party (1968)")
                   for s in read.of_kind("title")), text
        assert ("Japanese Story (2003)", "liked") not in _titles(reader, read), text
    read = reader.read("How was your Monday?", role="assistant")
    assert _titles(reader, read) == []


def test_reactions_in_everyday_words(reader: Reader) -> None:
    heat = _id(reader, "Heat (1995)")
    for text, label in (("Yes. I'm not a big fan", "disliked"),
                        ("yeah really good movie", "liked"),
                        ("a true classic, mine too", "liked"),
                        ("I haven't. I should watch it", "liked"),
                        ("Give me more like that one", "liked"),
                        ("We have watched just about all of them", "seen")):
        assert reader.read(text, context_items=[heat]).reaction == label, text
    assert reader.read("Not a big fan of Tom Hanks", context_items=[heat]).reaction != "disliked"


def test_a_whole_list_of_titles_after_a_taste_verb(reader: Reader) -> None:
    read = reader.read("we love disney stuff like up and inside out")
    assert [t for t, _ in _titles(reader, read)] == ["Up (2009)", "Inside Out (2015)"]
    for text in ("I like dogs and cats", "i love action and comedy movies",
                 "ive seen it like a million times"):
        assert _titles(reader, reader.read(text)) == [], text


def test_more_reactions_to_a_suggestion(reader: Reader) -> None:
    heat = _id(reader, "Heat (1995)")
    for text, label in (("ugh no, too sappy for me", "disliked"),
                        ("that movie was way too long", "disliked"),
                        ("I'll give it a try", "liked"),
                        ("it's one of the best movies ever", "liked")):
        assert reader.read(text, context_items=[heat]).reaction == label, text


def test_lower_case_word_after_a_place_phrase_is_no_title(reader: Reader) -> None:
    for text in ("You may like that one if you liked all the others.",
                 "I heard a song on the radio"):
        assert _titles(reader, reader.read(text)) == [], text
    assert [t for t, _ in _titles(reader, reader.read("I loved the others"))] == \
        ["The Others (2001)"]


def test_reactions_accepting_or_refusing_a_suggestion(reader: Reader) -> None:
    heat = _id(reader, "Heat (1995)")
    for text, label in (("Okay, I will do that. Do you have one more?", "liked"),
                        ("I may have to watch that!", "liked"),
                        ("I did. That was just as awesome.", "liked"),
                        ("Another great movie! Suggest another please.", "liked"),
                        ("Lol! I love the old ones! Great movie.", "liked"),
                        ("That's not bad at all.", "liked"),
                        ("yes i enjoyed that one", "liked"),
                        ("No, it does not look good.", "disliked")):
        assert reader.read(text, context_items=[heat]).reaction == label, text
    assert reader.read("I want a good movie tonight", context_items=[heat]).reaction is None


def test_one_everyday_title_after_a_past_taste_verb(reader: Reader) -> None:
    read = reader.read("i enjoyed get out, it was creepy")
    assert [t for t, _ in _titles(reader, read)] == ["Get Out (2017)"]
    for text in ("I watched last night", "I loved every minute of it", "I watched with my wife",
                 "we enjoyed hanging out"):
        assert _titles(reader, reader.read(text)) == [], text
    read = reader.read("I'm a big fan of scorsese")
    assert [s.value for s in read.of_kind("person")] == ["person:Martin Scorsese"]


def test_lower_case_words_after_for_are_a_purpose(reader: Reader) -> None:
    assert [t for t, _ in _titles(reader, reader.read("anything like shrek but for grown ups"))] \
        == ["Shrek (2001)"]
    assert [t for t, _ in _titles(reader, reader.read("i loved grown ups"))] == ["Grown Ups (2010)"]
