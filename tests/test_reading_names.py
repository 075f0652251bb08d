"""The reader's rules for names as people type them (agent/reading_names.py), and their look-alikes."""

from __future__ import annotations

import pytest

from agent.linking import EntityLinker
from agent.reading import Reader, Reading


@pytest.fixture(scope="module")
def reader(redial_catalog) -> Reader:  # type: ignore[no-untyped-def]
    return Reader(EntityLinker(redial_catalog))


def _titles(reader: Reader, reading: Reading) -> list[str]:
    items = reader.linker.catalog.items
    return [items[s.value].display_title for s in reading.spans
            if s.kind in ("title", "card") and s.value]


def _people(reading: Reading) -> list[str]:
    return [s.value.split(":", 1)[1] for s in reading.of_kind("person")]


def test_a_franchise_stands_for_its_best_known_film(reader: Reader) -> None:
    assert _titles(reader, reader.read("i love the bourne movies")) == [
        "The Bourne Identity (2002)"]
    assert _titles(reader, reader.read("the toy story ones were a hit")) == ["Toy Story (1995)"]
    assert _titles(reader, reader.read("the lord of the rings trilogy is my favourite")) == [
        "The Lord of the Rings: The Fellowship of the Ring (2001)"]
    read = reader.read("Indiana Jones movies were great")
    assert _titles(reader, read) == [
        "Raiders of the Lost Ark (Indiana Jones and the Raiders of the Lost Ark) (1981)"]
    assert _people(read) == []  # no Tommy Lee Jones
    read = reader.read("not a fan of the transformers movies at all")
    assert [(s.label, _titles(reader, read)) for s in read.of_kind("title")] == [
        ("disliked", ["Transformers (2007)"])]


def test_kinds_of_film_are_no_franchise(reader: Reader) -> None:
    for text in ("I hate disaster movies", "the christmas movies are my thing",
                 "I like Marvel movies", "the spy movies were fun", "all the old movies"):
        assert _titles(reader, reader.read(text)) == [], text


def test_lower_case_sequel_numbers(reader: Reader) -> None:
    assert _titles(reader, reader.read("men in black 2 was kind of dumb")) == [
        "Men in Black II (a.k.a. MIIB) (a.k.a. MIB 2) (2002)"]
    assert _titles(reader, reader.read("shrek part 2 is my favourite")) == ["Shrek 2 (2004)"]
    assert _titles(reader, reader.read("toy story 2 was even better than the first")) == [
        "Toy Story 2 (1999)"]
    assert _titles(reader, reader.read("i didn't like back to the future part 3")) == [
        "Back to the Future Part III (1990)"]
    assert _titles(reader, reader.read("I have 2 kids and we watched it 3 times")) == []


def test_nicknames_name_the_actor(reader: Reader) -> None:
    assert _people(reader.read("anything with the Rock in it")) == ["Dwayne Johnson"]
    assert _people(reader.read("RDJ was perfect as iron man")) == ["Robert Downey Jr."]
    assert _people(reader.read("arnie's action films from the 80s")) == [
        "Arnold Schwarzenegger"]
    assert _people(reader.read("i'd watch anything with Marky Mark")) == ["Mark Wahlberg"]
    # "the rock" without a person cue is the film, never the actor
    assert "Dwayne Johnson" not in _people(reader.read("I loved the rock, great movie"))
    assert _people(reader.read("I listen to rock music")) == []


def test_misspelt_names(reader: Reader) -> None:
    read = reader.read("Matthew McConnehey, Sandra Bullock Julia Styles")
    assert _people(read) == ["Matthew McConaughey", "Sandra Bullock", "Julia Stiles"]
    assert _titles(reader, read) == []  # not the film "Julia"
    assert _people(reader.read("something by scorcese please")) == ["Martin Scorsese"]
    assert _people(reader.read("denzel is my guy")) == ["Denzel Washington"]
    # a first name is no surname typo ("robert" is not Julia Roberts)
    read = reader.read("I liked Sherlock Holmes (2010) with Robert Downey, Jr.")
    assert "Julia Roberts" not in _people(read)
    assert _people(reader.read("movies with nicolas cage please")) == ["Nicolas Cage"]
    # lower case, or an everyday first name: a well-known person and a close surname only
    assert _people(reader.read("something with will ferel")) == ["Will Ferrell"]
    assert _people(reader.read("I also saw The House (2017) with Will Ferral.")) == [
        "Will Ferrell"]
    for text in ("I will tell you later", "we will watch it", "I will follow up"):
        assert _people(reader.read(text)) == [], text


def test_one_word_typos_and_titles_too(reader: Reader) -> None:
    assert _titles(reader, reader.read("I loved gladiater and braveheart")) == [
        "Gladiator (2000)", "Braveheart (1995)"]
    assert _titles(reader, reader.read("already seen the prestige, loved it. memento too")) == [
        "The Prestige (2006)", "Memento (2000)"]
    # no other title in the message: the word is a word
    assert _titles(reader, reader.read("I keep every ticket stub as a memento too")) == []


def _id(reader: Reader, title: str) -> str:
    ids = [i.id for i in reader.linker.catalog.items.values() if i.display_title == title]
    assert ids, title
    return ids[0]


def test_context_titles_leave_people_and_longer_titles_alone(reader: Reader) -> None:
    crazy = _id(reader, "Eight Crazy Nights (Adam Sandler's Eight Crazy Nights) (2002)")
    read = reader.read("No I haven't but I love Adam Sandler!", context_items=[crazy])
    assert _people(read) == ["Adam Sandler"] and _titles(reader, read) == []
    robin = _id(reader, "Batman & Robin (1997)")
    read = reader.read("Is it anything like Batman Begins ?", context_items=[robin])
    assert _titles(reader, read) == ["Batman Begins (2005)"]


def test_context_titles_by_their_last_word_or_judged_everyday_words(reader: Reader) -> None:
    hulk = _id(reader, "The Incredible Hulk (2008)")
    read = reader.read("Lol! I love the Hulk! Great movie.", context_items=[hulk])
    assert _titles(reader, read) == ["The Incredible Hulk (2008)"]
    heat, collateral = _id(reader, "Heat (1995)"), _id(reader, "Collateral (2004)")
    read = reader.read("heat is great but i prefer collateral", context_items=[heat, collateral])
    assert _titles(reader, read) == ["Heat (1995)", "Collateral (2004)"]
    # an everyday word that is not judged stays a word
    read = reader.read("the heat in here is unbearable", context_items=[heat])
    assert _titles(reader, read) == []


def test_typos_of_the_short_name_before_a_colon(reader: Reader) -> None:
    assert _titles(reader, reader.read("terminater 2 is a classic")) == [
        "Terminator 2: Judgment Day (1991)"]
    assert _titles(reader, reader.read("i loved pirates of the carribean")) == [
        "Pirates of the Caribbean: The Curse of the Black Pearl (2003)"]
    # a person named in a title's short name stays a person
    read = reader.read("I love Kevin Hart! He is so funny")
    assert _people(read) == ["Kevin Hart"] and _titles(reader, read) == []


def test_reactions_people_type(reader: Reader) -> None:
    from agent import lexicon as lx

    for text in ("oh that would work", "I think that would be great!", "I do like that movie!",
                 "I found it so funny too", "That sounds really good"):
        assert lx.REACT_LIKED.search(text), text
    for text in ("that would not work for me", "I found it on netflix"):
        assert not lx.REACT_LIKED.search(text), text


def test_interest_in_the_next_sentence(reader: Reader) -> None:
    suspects = _id(reader, "The Usual Suspects (1995)")
    read = reader.read("I haven't seen Usual Suspects yet, actually. I really should.",
                       context_items=[suspects])
    assert [(s.value, s.label) for s in read.of_kind("title")] == [(suspects, "liked")]
    read = reader.read("I haven't seen Usual Suspects yet. Any others?", context_items=[suspects])
    assert [(s.value, s.label) for s in read.of_kind("title")] == [(suspects, "unseen")]


def test_yes_to_a_question_about_a_person_with_a_comment(reader: Reader) -> None:
    read = reader.read("Yes I am He is hilarious", question="Are you a bill murray fan?")
    assert [(s.value, s.label) for s in read.of_kind("person")] == [
        ("person:Bill Murray", "liked")]


def test_a_context_title_by_its_last_words(reader: Reader) -> None:
    nest = _id(reader, "One Flew Over the Cuckoo's Nest (1975)")
    read = reader.read("But I've seen Cuckoo's nest. Love that one.", context_items=[nest])
    assert _titles(reader, read) == ["One Flew Over the Cuckoo's Nest (1975)"]
    read = reader.read("a bird built a nest on our roof", context_items=[nest])
    assert _titles(reader, read) == []


def test_interjections_and_my_top_three_are_no_titles_or_cards(reader: Reader) -> None:
    assert _titles(reader, reader.read("Oh okay. Wait, didn't he write the Da vinci code?")) == [
        "The Da Vinci Code (2006)"]
    assert _titles(reader, reader.read("Mission impossible is amazing!!1 Others?")) == [
        "Mission: Impossible (1996)"]
    assert _titles(reader, reader.read("I loved The Others, so creepy")) == ["The Others (2001)"]
    crazy = _id(reader, "Eight Crazy Nights (Adam Sandler's Eight Crazy Nights) (2002)")
    read = reader.read("Mrs Doubtfire is in my top 3", context_items=[crazy])
    assert not read.of_kind("card")
    assert reader.read("the top one looks good", context_items=[crazy]).of_kind("card")


def test_an_actor_great_in_a_lower_case_title(reader: Reader) -> None:
    read = reader.read("matthew mcconaughy was great in interstellar")
    assert _titles(reader, read) == ["Interstellar (2014)"]
    assert _people(read) == ["Matthew McConaughey"]


def test_verbs_and_praise_at_a_sentence_start_are_no_titles(reader: Reader) -> None:
    alien = _id(reader, "Alien (1979)")
    read = reader.read("Saw that and liked it. Sigourney Weaver was great.", context_items=[alien])
    assert "Saw (2004)" not in _titles(reader, read)
    assert _titles(reader, reader.read("Perfect!! That's exactly what I was looking for.")) == []
    assert _titles(reader, reader.read("I loved Saw, so gory")) == ["Saw (2004)"]


def test_judged_lower_case_titles_and_preferences(reader: Reader) -> None:
    assert _titles(reader, reader.read("gone girl was so twisted, loved it")) == [
        "Gone Girl (2014)"]
    assert _titles(reader, reader.read("seen it, but I'd rather watch predator")) == [
        "Predator (1987)"]
    read = reader.read("iron man 2 was a letdown")
    assert [(s.label, _titles(reader, read)) for s in read.of_kind("title")] == [
        ("disliked", ["Iron Man 2 (2010)"])]
    up, coco = _id(reader, "Up (2009)"), _id(reader, "Coco (2017)")
    read = reader.read("coco was beautiful, up too", context_items=[up, coco])
    assert sorted(_titles(reader, read)) == ["Coco (2017)", "Up (2009)"]
    assert _titles(reader, reader.read("the weather was so nice today")) == []


def test_more_names_a_little_off(reader: Reader) -> None:
    assert _people(reader.read("stephen spielburg is the best director ever")) == [
        "Steven Spielberg"]
    assert _people(reader.read("Leo was great in titanic")) == ["Leonardo DiCaprio"]
    assert _people(reader.read("Leo was born in July")) == []
    from agent import lexicon as lx

    assert lx.REACT_SEEN.search("I did. They're okay.")
    assert lx.REACT_LIKED.search("no I haven't been meaning to see it")


def test_look_alikes_found_by_reading_unlabelled_turns_stay_words(reader: Reader) -> None:
    """Each of these once produced a title or person in a scan of unlabelled dev turns."""
    for text in ("Hey! I like christian movies",
                 "Hello, I like science fiction and fantasy movies.", "I like vampire movies",
                 "I'm looking for some French films tonight",
                 "I really enjoy movies with meaning", "Being from England, that one is nostalgic",
                 "my friends from school always joke about it",
                 "My name is Brian, so I will look into that movie",
                 "I like history and sometimes love stories"):
        read = reader.read(text)
        assert _titles(reader, read) == [] and _people(read) == [], text
    assert _people(reader.read("like i was saying, speilberg is the man!")) == [
        "Steven Spielberg"]


def test_a_reaction_is_not_read_from_a_clause_about_a_person(reader: Reader) -> None:
    anchor = _id(reader, "Anchorman 2: The Legend Continues (2013)")
    read = reader.read("Will Ferrell is one of my favorite actors!", context_items=[anchor])
    assert read.reaction is None and _people(read) == ["Will Ferrell"]
    mind = _id(reader, "A Beautiful Mind (2001)")
    read = reader.read("I have not seen that but I heard Russel Crowe is great in it.",
                       context_items=[mind])
    assert read.reaction == "liked"  # "in it": the clause judges the film as well


def test_plural_praise_nope_with_interest_and_function_words(reader: Reader) -> None:
    from agent import lexicon as lx

    assert lx.REACT_LIKED.search("I love both of those.")
    assert lx.REACT_LIKED.search("Those are both good!")
    assert not lx.REACT_LIKED.search("I love all the goals and drama")
    justice = _id(reader, "Justice League (2017)")
    assert reader.read("Nope, I will try that one.", context_items=[justice]).reaction == "liked"
    assert reader.read("Nope, not my thing.", context_items=[justice]).reaction == "disliked"
    read = reader.read("not very funny though Despite having Jim Carrey in it!")
    assert _titles(reader, read) == []


def test_short_first_names_run_together_titles_and_jlo(reader: Reader) -> None:
    assert _people(reader.read("any movie with sam l jackson")) == ["Samuel L. Jackson"]
    assert _people(reader.read("J.Lo will forever be a favorite of mine")) == ["Jennifer Lopez"]
    assert _titles(reader, reader.read("Slapshot is super fun")) == ["Slap Shot (1977)"]
    heat = _id(reader, "Heat (1995)")
    read = reader.read("seen heat, loved it, and casino too", context_items=[heat])
    assert _titles(reader, read) == ["Heat (1995)", "Casino (1995)"]


def test_a_liked_reaction_goes_to_the_one_unseen_suggestion_named(reader: Reader) -> None:
    from agent.profile import UserProfile
    from agent.updates import apply_reading

    valley = _id(reader, "Valley Girl (1983)")
    treasure = _id(reader, "National Treasure (2004)")
    context = [valley, treasure]
    read = reader.read("I haven't seen Valley Girl I like that idea", context_items=context)
    update = apply_reading(UserProfile(), read, reader.linker, context, salient=treasure)
    assert update.feedback == [(valley, "liked")]


def test_him_or_her_is_the_one_person_the_other_side_named(reader: Reader) -> None:
    other = reader.read("Do you like any Brad Pitt movies? Maybe Agatha Christy mysteries",
                        role="assistant")
    named = [s.value for s in other.of_kind("person")]
    assert named == ["person:Brad Pitt", "person:Agatha Christie"]
    assert all(s.label == "neutral" for s in other.of_kind("person"))
    read = reader.read("I love him but that movie was way too long",
                       context_people=["person:Leonardo DiCaprio"])
    assert [(s.value, s.label) for s in read.of_kind("person")] == [
        ("person:Leonardo DiCaprio", "liked")]
    assert read.reaction == "disliked"  # the film, not him
    # two people named, or a person in the message itself: no guess
    assert not reader.read("I love him", context_people=named).of_kind("person")
    assert _people(reader.read("I like her and Tom Hanks",
                               context_people=["person:Agatha Christie"])) == ["Tom Hanks"]
    assert not reader.read("I love him").of_kind("person")


def test_observed_transcript_resolves_him_to_the_named_person(redial_catalog, real_home,
                                                              tmp_path) -> None:  # type: ignore[no-untyped-def]
    from agent.settings import Settings
    from evaluation.understanding_eval import build_agent

    settings = Settings(backend="scripted", cache_dir=real_home)
    agent, _ = build_agent(settings, None, redial_catalog, ["kg_expansion"], tmp_path)
    session = agent.session("pronoun")
    session.observe("assistant", "Ya that one is under the radar! Do you like any Brad Pitt "
                                 "movies?")
    session.observe("user", "I love him (super sexy!)")
    assert "person:Brad Pitt" in session.profile.liked_entities
    session.observe("assistant", "What about Titanic (1997)?")
    session.observe("user", "I love him")  # nobody named this time
    assert [e for e in session.profile.liked_entities if e.startswith("person:")] == [
        "person:Brad Pitt"]


def test_w_for_with_and_lower_case_title_words_after_a_taste_verb(reader: Reader) -> None:
    assert _people(reader.read("got anything w keanu?")) == ["Keanu Reeves"]
    assert _titles(reader, reader.read("i loved shawshank")) == ["The Shawshank Redemption (1994)"]
    assert _titles(reader, reader.read("the shawshank prison was cold")) == []
    assert _titles(reader, reader.read("I like cinematography of the film Star Wars")) == [
        "Star Wars: Episode IV - A New Hope (1977)"]  # no Visions of Light: ... Cinematography


def test_the_end_of_an_unknown_title_names_no_other_film(reader: Reader) -> None:
    read = reader.read("Full Metal Village (2006) sorry Full Metal Jacket (1987)", role="assistant")
    assert _titles(reader, read) == ["Full Metal Jacket (1987)"]


def test_the_others_are_the_suggestions_the_message_does_not_name(reader: Reader) -> None:
    ids = [reader.linker.link_title(t) for t in ("Alien (1979)", "Aliens (1986)",
                                                  "Predator (1987)")]
    items = reader.linker.catalog.items

    def labelled(text: str) -> list[tuple[str, str]]:
        read = reader.read(text, context_items=ids)
        return [(items[s.value].display_title, s.label) for s in read.spans
                if s.kind in ("title", "card") and s.value]

    assert labelled("aliens is a classic, seen the others") == [
        ("Aliens (1986)", "liked"), ("Alien (1979)", "seen"), ("Predator (1987)", "seen")]
    assert labelled("loved the first, the others were meh") == [
        ("Alien (1979)", "liked"), ("Aliens (1986)", "disliked"), ("Predator (1987)", "disliked")]
    assert labelled("seen alien, the other two are new to me") == [
        ("Alien (1979)", "seen"), ("Aliens (1986)", "unseen"), ("Predator (1987)", "unseen")]
    # no suggestions in context: "The Others" stays the film
    assert _titles(reader, reader.read("I loved The Others (2001)")) == ["The Others (2001)"]


def test_two_titles_with_years_in_a_row_stay_apart(reader: Reader) -> None:
    read = reader.read("Have you seen Jane (1915) Dawson City: Frozen Time (2016)", role="assistant")
    assert _titles(reader, read) == []  # neither is in the catalog; "Frozen" is no Frozen (2013)
    assert read.unknown == ["Jane (1915)", "Dawson City: Frozen Time (2016)"]


def test_interest_right_after_an_unseen_title_is_liked(reader: Reader) -> None:
    wick = reader.linker.link_title("John Wick (2014)")
    read = reader.read("I did not see John Wick (2014) I'll have to check that one out.",
                       context_items=[wick])
    assert [(s.value, s.label) for s in read.of_kind("title")] == [(wick, "liked")]
    never = reader.read("I have not seen John Wick (2014) and I will never watch it",
                        context_items=[wick])
    assert [s.label for s in never.of_kind("title")] == ["unseen"]


def test_a_reaction_about_films_of_its_own_is_not_about_the_suggestion(reader: Reader) -> None:
    holiday = reader.linker.link_title("The Holiday (2006)")
    read = reader.read("I have already seen Monster-in-Law (2005) and Not Another Happy Ending "
                       "(2013)", context_items=[holiday])
    assert read.reaction is None
    both = reader.read("I loved both of those movies and Indiana Jones movies were great.",
                       context_items=[holiday])
    assert both.reaction == "liked"  # "those" are the suggestions
    assert reader.read("I loved Five Dances. It was great").unknown == ["Five Dances"]


@pytest.mark.parametrize(("text", "person"), [
    ("hitchcock movies", "Alfred Hitchcock"),  # Hitchcock (2012) is also a film
    ("scorsese is my fav director", "Martin Scorsese"),
    ("jlaw is so good", "Jennifer Lawrence"),
    ("i'd watch anything with sly stallone", "Sylvester Stallone"),
    ("i love leo dicaprio", "Leonardo DiCaprio"),
])
def test_short_names_and_whose_films(reader: Reader, text: str, person: str) -> None:
    assert _people(reader.read(text)) == [person]


@pytest.mark.parametrize(("text", "people"), [
    ("kubrick fan here", ["Stanley Kubrick"]),
    ("villeneuve or fincher, im easy", ["David Fincher", "Denis Villeneuve"]),
    ("i'll watch literally anything hanks is in", ["Tom Hanks"]),
    ("old black and white classics", []),  # surnames that are everyday words need a cue
    ("it was filmed close to where I live", []),
    ("a christmas tradition in my house", []),
])
def test_lower_case_surnames_no_common_word_spells(reader: Reader, text: str,
                                                   people: list[str]) -> None:
    assert sorted(_people(reader.read(text))) == people


def test_franchise_words_before_movies_stay_films(reader: Reader) -> None:
    assert _people(reader.read("bond movies")) == []
    assert _people(reader.read("harry potter movies")) == []


def test_pet_first_names_and_nicknames_beside_a_cue(reader: Reader) -> None:
    assert _people(reader.read("sandy bullock always makes me smile")) == ["Sandra Bullock"]
    assert _people(reader.read("the rock is a good actor")) == ["Dwayne Johnson"]
    assert sorted(_people(reader.read("i like stuff with kevin hart and the rock"))) == [
        "Dwayne Johnson", "Kevin Hart"]
    assert _people(reader.read("arnolds movies are my guilty pleasure")) == [
        "Arnold Schwarzenegger"]
    assert sorted(_people(reader.read("I'm a big fan of both Leo and of Tom Hanks"))) == [
        "Leonardo DiCaprio", "Tom Hanks"]
    read = reader.read("I loved The Rock and Con Air")  # the film, not the actor
    assert _people(read) == [] and "The Rock (1996)" in _titles(reader, read)


def test_a_rare_lower_case_word_names_its_film_without_a_cue(reader: Reader) -> None:
    assert _titles(reader, reader.read("goonies never gets old")) == ["The Goonies (1985)"]
    assert _titles(reader, reader.read("shawshank is the best")) == [
        "The Shawshank Redemption (1994)"]
    assert _titles(reader, reader.read("i liked the increidbles alot")) == [
        "The Incredibles (2004)"]
    for text in ["I cherish that memory", "something hilarious to watch with my roommates",
                 "a pickpocket stole my phone", "loved Shining, it still creeps me out"]:
        assert [t for t in _titles(reader, reader.read(text)) if "Shining" not in t] == [], text
