"""The learned title scorer (agent/span_scorer.py), its training and this wave's reading fixes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.linking import EntityLinker
from agent.reading import Reader, Reading
from agent.span_scorer import FEATURES, WEIGHTS, SpanScorer
from agent.understanding import clean_user_text
from evaluation.span_scorer_train import fit


@pytest.fixture(scope="module")
def reader(redial_catalog) -> Reader:  # type: ignore[no-untyped-def]
    return Reader(EntityLinker(redial_catalog))


@pytest.fixture(scope="module")
def rules_only(redial_catalog) -> Reader:  # type: ignore[no-untyped-def]
    return Reader(EntityLinker(redial_catalog), use_scorer=False)


def _titles(reader: Reader, reading: Reading) -> list[str]:
    items = reader.linker.catalog.items
    return [items[s.value].display_title for s in reading.spans
            if s.kind in ("title", "card") and s.value]


def _id(reader: Reader, title: str) -> str:
    return next(i.id for i in reader.linker.catalog.items.values() if i.display_title == title)


def test_the_committed_weights_load_and_name_the_codes_features(reader: Reader) -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES) and len(data["weights"]) == len(FEATURES)
    assert "dev" in data["trained_on"]
    assert reader.scorer is not None and 0.0 < reader.scorer.threshold < 1.0


def test_a_lower_case_typo_the_rules_pass_over(reader: Reader, rules_only: Reader) -> None:
    text = "jurrasic world was fun"
    assert _titles(rules_only, rules_only.read(text)) == []
    read = reader.read(text)
    assert _titles(reader, read) == ["Jurassic World (2015)"]
    assert read.of_kind("title")[0].label == "liked"


def test_a_year_before_the_title_picks_that_version(reader: Reader) -> None:
    assert _titles(reader, reader.read("I liked the 2016 Ghostbusters, is that weird")) == [
        "Ghostbusters (2016)"]


def test_look_alikes_stay_words(reader: Reader) -> None:
    for text in ("I am fine. Thank you for asking.",  # not Thank You for Smoking
                 "It's not really funny other than the car window breaking",  # Rear Window
                 "That was very good I havent seen that in a while yes and others also",
                 "lord of the rings return of the king was the best"):
        titles = _titles(reader, reader.read(text))
        assert "Thank You for Smoking (2006)" not in titles and "Rear Window (1954)" not in titles
        assert "The Others (2001)" not in titles, text
        assert "The Lord of the Rings: The Fellowship of the Ring (2001)" not in titles, text


def test_a_missing_or_damaged_weights_file_means_rules_only(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture
                                                            ) -> None:
    assert SpanScorer.load(tmp_path / "none.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"features": ["bias"], "weights": [1.0], "threshold": 0.5}))
    assert SpanScorer.load(bad) is None
    assert "span_scorer_train" in caplog.text


def test_fit_separates_what_a_feature_tells_apart() -> None:
    rng = np.random.default_rng(0)
    signal = rng.integers(0, 2, 400).astype(float)
    noise = rng.normal(size=400)
    x = np.column_stack([np.ones(400), signal, noise])
    y = (signal + 0.1 * rng.normal(size=400) > 0.5).astype(float)
    w = fit(x, y)
    assert w[1] > 3.0 and abs(w[2]) < 1.0


def test_url_escaped_punctuation_is_read_as_typed(reader: Reader) -> None:
    text = clean_user_text("Just watched Why Him%3F (2016) and Fist Fight (2017)")
    assert text.startswith("Just watched Why Him? (2016)")
    assert _titles(reader, reader.read(text)) == ["Why Him? (2016)", "Fist Fight (2017)"]
    assert clean_user_text("100% sure") == "100% sure"


def test_an_exclamation_is_no_partial_title(reader: Reader) -> None:
    assert _titles(reader, reader.read("Excellent!")) == []


def test_the_end_of_a_longer_unknown_title_is_not_another_film(reader: Reader) -> None:
    read = reader.read("I loved Bridesmaids (2011) and BearCity 2: The Proposal (2012)")
    assert _titles(reader, read) == ["Bridesmaids (2011)"]


def test_not_seen_yet_but_interested_is_a_liked_reaction(reader: Reader) -> None:
    lego = _id(reader, "The Lego Batman Movie (2017)")
    assert reader.read("not yet but it looks good", context_items=[lego]).reaction == "liked"
    assert reader.read("not yet", context_items=[lego]).reaction is None


def test_plural_reactions_to_cards(reader: Reader) -> None:
    cards = [_id(reader, t) for t in ("Inside Out (2015)", "Toy Story 3 (2010)", "Up (2009)")]
    read = reader.read("loved all three!", context_items=cards)
    assert (read.reaction, read.reaction_plural) == ("liked", True)
    read = reader.read("Ihave seen those great movies!", context_items=cards[:2])
    assert read.reaction in ("liked", "seen") and read.reaction_plural


def test_a_stated_year_links_a_film_the_catalog_has_undated(reader: Reader) -> None:
    read = reader.read("Also I like drama films I saw Ready Player One (2018) and liked it")
    assert _titles(reader, read) == ["Ready Player One"]
    assert _titles(reader, reader.read("I loved It (1990)")) == ["It (1990)"]


def test_genre_typos_in_a_message_about_movies(reader: Reader, rules_only: Reader) -> None:
    def genres(text: str) -> list[str]:
        return [s.value for s in reader.read(text).of_kind("genre")]

    # not about movies: the typo rule reads nothing (the mood model, which reads the whole
    # message, does read comedy here)
    assert [s.value for s in rules_only.read("I'm interested in comedys").of_kind("genre")] == []
    assert genres("looking for a comedy anmation movie") == ["genre:comedy", "genre:animation"]
    assert genres("any good thrilleres movies?") == ["genre:thriller"]
    for text in ("I've seen the trailer to that movie", "What sorts of movies are you into?",
                 "movies with a lot of emotions"):
        assert "genre:thriller" not in genres(text) and "genre:sport" not in genres(text)


def test_the_other_sides_titles_keep_the_order_they_were_named_in(reader: Reader) -> None:
    read = reader.read("Have you seen Ponyo yet? Did you go see A Wrinkle in Time yet?",
                       role="assistant")
    assert _titles(reader, read) == ["Ponyo (Gake no ue no Ponyo) (2008)",
                                     "A Wrinkle in Time (2018)"]


def test_a_first_name_after_with_is_the_person_not_the_film(reader: Reader) -> None:
    read = reader.read("something with keanu?")
    assert [s.value for s in read.of_kind("person")] == ["person:Keanu Reeves"]
    assert _titles(reader, read) == []


def test_holidays_and_short_look_alikes_name_no_film(reader: Reader) -> None:
    assert _titles(reader, reader.read("We are looking for some movies to watch for Easter")) == []
    assert _titles(reader, reader.read("I happened to watch The Take (2007) by chance")) == []


def test_interest_without_but(reader: Reader) -> None:
    notebook = _id(reader, "The Notebook (2004)")
    read = reader.read("I haven't seen that one before I heard a lot of great things about it "
                       "though", context_items=[notebook])
    assert read.reaction == "liked"
