"""Moods, genres and tags the reader finds on the movielens-redial catalog, and what stays none."""

from __future__ import annotations

import pytest

from agent.linking import EntityLinker
from agent.reading import Reader, Reading, _reaction
from agent.reading_genres import lexicon_key, stem


@pytest.fixture(scope="module")
def reader(redial_catalog) -> Reader:  # type: ignore[no-untyped-def]
    return Reader(EntityLinker(redial_catalog))


def _genres(reading: Reading) -> list[tuple[str, str]]:
    return [(s.value, s.label) for s in reading.spans if s.kind == "genre"]


def test_inflections_of_lexicon_words_count_in_a_wish() -> None:
    assert stem("scared") == stem("scary") == stem("scares")
    assert lexicon_key("makes me cry") == "make me cry"
    assert lexicon_key("laughing") == "laugh"
    assert lexicon_key("laughing", wish=False) is None
    assert lexicon_key("moves") is None  # shares its stem with "moving" and everyday "move"


@pytest.mark.parametrize(("text", "genre"), [
    ("need a good laugh tonight", "genre:comedy"),
    ("i wanna be scared out of my mind", "genre:horror"),
    ("i want a movie that makes me cry", "genre:drama"),
    ("something like superbad but funnier", "genre:comedy"),
    ("my 6 yr old is bored, what can she watch", "genre:children"),
    ("something for our five-year-old", "genre:children"),
    ("lots of fighting and car chases and stuff blowing up", "genre:action"),
    ("bank robbery movies", "genre:crime"),
    ("aliens and spaceships", "genre:sci-fi"),
    ("a movie about some famous real person's life", "genre:biography"),
    # found in unlabelled ReDial requests
    ("I am looking for a fun family movie to watch with my young daughter.", "genre:family"),
    ("Im looking for a terror movie do you have any suggestions", "genre:horror"),
    ("Hi could you recommend a good Valentine's day movie to watch", "genre:romance"),
    ("a movie the whole fam can enjoy", "genre:family"),
    ("i need a movie that'll wreck me emotionally", "genre:drama"),
    ("something that keeps me on the edge of my couch", "genre:thriller"),
    ("need something that'll make me crack up", "genre:comedy"),
    ("what would cheer me up? rough day", "genre:comedy"),
    ("horses, saloons and shootouts", "genre:western"),
    ("one where they randomly break into song", "genre:musical"),
    ("a big journey thru space to other planets", "genre:sci-fi"),
    ("swords and sorcery stuff", "genre:fantasy"),
    ("something about a real rock band, their life story", "genre:music"),
    ("real footage about animals in the wild", "genre:documentary"),
])

def test_everyday_moods_reach_their_genre(reader: Reader, text: str, genre: str) -> None:
    assert (genre, "liked") in _genres(reader.read(text))


def test_a_genre_refused_by_the_words_after_it(reader: Reader) -> None:
    assert _genres(reader.read("musicals make me cringe")) == [("genre:musical", "disliked")]
    assert _genres(reader.read("nah, horror isnt my thing")) == [("genre:horror", "disliked")]


@pytest.mark.parametrize("text", [
    "I was laughing my ass off the whole movie, loved it",  # about a film seen, not a wish
    "ok how about Black Panther? one of those X-Men movies scared me",
    "my 16 year old wants a movie",
    "Love Disney.",  # a studio: a tag, no genre and no person
    "Yeah that one is good, not very funny though",  # "very funny" is a tag; it describes
    "haha ur funny",  # about the one they talk to
    "are you a real person or a robot lol",
])
def test_no_genre_where_none_is_asked_for(reader: Reader, text: str) -> None:
    reading = reader.read(text)
    assert _genres(reading) == []
    assert not reading.of_kind("person")


def test_disney_is_a_tag_and_never_a_person_or_unknown(reader: Reader) -> None:
    reading = reader.read("You know, I think I will check it out. Love Disney.")
    assert [s.value for s in reading.of_kind("tag")] == ["tag:disney"]
    assert reading.unknown == []


def test_chit_chat_names_no_title_and_no_tag(reader: Reader) -> None:
    reading = reader.read("eh its complicated, long story")
    assert reading.spans == []
    titled = reader.read("its complicated was fun")
    assert [reader.linker.catalog.items[s.value].display_title
            for s in titled.of_kind("title")] == ["It's Complicated (2009)"]


def test_a_lower_case_remake_the_catalog_lacks_is_unknown(reader: Reader) -> None:
    reading = reader.read("lion king (2019) was meh")
    assert not [s for s in reading.of_kind("title") if s.value]
    assert reading.unknown == ["lion king (2019)"]
    kept = reader.read("i liked the lion king (1994)")
    assert [reader.linker.catalog.items[s.value].display_title
            for s in kept.of_kind("title")] == ["The Lion King (1994)"]


@pytest.mark.parametrize(("text", "label"), [
    ("Oh yea, huge fan of that one", "liked"),
    ("not a huge fan of that one", "disliked"),
    ("Im not a fan of them", "disliked"),
    ("I have not seen that one yet. I will need to find it though.", "liked"),
    ("haven't seen it, I'll look into it", "liked"),
    ("I haven't seen it", None),
    # phrasings found in unlabelled ReDial turns after a suggestion
    ("Hmm I have not seen that one. I will be sure to check it out.", "liked"),
    ("Yes, a long time ago! Good movie.", "liked"),
    ("Oh yes! great movies!", "liked"),
    ("that was my favorite movie as a kid", "liked"),
    ("Yes! That was another great giant monster movie :)", "liked"),
    ("that was another film I really liked.", "liked"),
    ("Oh yes! I remember that movie! It was quite good!", "liked"),
    ("No, I can check that one out as well thanks", "liked"),
    ("Both look decent! I just added them to my watch list", "liked"),
    ("I need some good recommendations I didn't really like that one", "disliked"),
    ("a good movie for my kids?", None),  # asks; judges nothing
    ("Good movies from the 90s please", None),
    ("yes thats awesomely funny", "liked"),
    ("My name is Brian, so I will look into that movie", "liked"),
])
def test_whole_message_reactions(text: str, label: str | None) -> None:
    assert _reaction(text) == label
