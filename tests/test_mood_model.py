"""The learned mood -> genre model (agent/mood_model.py), its training and its place in the reader."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agent.linking import EntityLinker
from agent.mood_model import GATES, WEIGHTS, MoodModel, eligible, masked
from agent.reading import Reader, Reading
from agent.spans import Span
from evaluation.mood_model_train import TRAIN_LINES, fit_model, load_lines, targets


@pytest.fixture(scope="module")
def reader(redial_catalog) -> Reader:  # type: ignore[no-untyped-def]
    return Reader(EntityLinker(redial_catalog))


@pytest.fixture(scope="module")
def rules_only(redial_catalog) -> Reader:  # type: ignore[no-untyped-def]
    return Reader(EntityLinker(redial_catalog), use_scorer=False)


def _genres(reading: Reading) -> list[tuple[str, str]]:
    return sorted((s.value, s.label) for s in reading.spans if s.kind == "genre")


def _toy(reject_bias: float = -5.0) -> MoodModel:
    """Two genres over 2-d 'embeddings': axis 0 is comedy, axis 1 horror."""
    weights = np.array([[10.0, 0.0, -5.0], [0.0, 10.0, -5.0]])
    return MoodModel(["comedy", "horror"], weights, np.array([0.0, 0.0, reject_bias]), 0.5,
                     gate="none")


def _embed_as(vector: list[float]):  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        seen.extend(texts)
        return np.array([vector] * len(texts))
    return embed, seen


def test_the_committed_model_loads_and_fits_the_catalog(reader: Reader) -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert data["gate"] in GATES and data["meta"]["written_lines"] > 1000
    model = reader.mood
    assert model is not None and 0.0 < model.threshold < 1.0
    assert set(model.genres) <= reader.genres and {"comedy", "horror", "drama"} <= set(
        model.genres)
    assert model.weights.shape == (len(model.genres), 385)


def test_save_load_round_trip_and_a_damaged_file(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    model = _toy()
    path = tmp_path / "m.json"
    model.save(path)
    again = MoodModel.load(path)
    assert again is not None and again.genres == model.genres and again.gate == "none"
    assert np.allclose(again.weights, model.weights) and np.allclose(again.reject, model.reject)
    path.write_text('{"genres": ["comedy"], "dimensions": 3, "weights": "AAAA"}')
    assert MoodModel.load(path) is None
    assert "python -m evaluation.mood_model_train" in caplog.text
    assert MoodModel.load(tmp_path / "missing.json") is None


def test_an_unknown_gate_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown gate"):
        MoodModel(["comedy"], np.zeros((1, 3)), np.zeros(3), 0.5, gate="always")


def test_genres_are_added_only_where_the_lexicon_found_none() -> None:
    model = _toy()
    embed, seen = _embed_as([1.0, 0.0])
    reading = Reading(text="something to cheer me up")
    model.add_genres({"comedy", "horror"}, reading.text, reading, embed=embed)
    assert _genres(reading) == [("genre:comedy", "liked")]
    assert reading.spans[0].start == reading.spans[0].end == 0  # takes no word from the rules
    found = Reading(text="a scary comedy", spans=[Span("genre", "scary", 2, 7, "genre:horror")])
    model.add_genres({"comedy", "horror"}, found.text, found, embed=embed)
    assert _genres(found) == [("genre:horror", "liked")] and len(seen) == 1


def test_the_rejection_head_labels_the_genre_disliked() -> None:
    model = _toy(reject_bias=5.0)
    embed, _ = _embed_as([0.0, 1.0])
    reading = Reading(text="nothing that keeps me up at night")
    model.add_genres({"comedy", "horror"}, reading.text, reading, embed=embed)
    assert _genres(reading) == [("genre:horror", "disliked")]


def test_a_genre_the_catalog_lacks_is_not_added() -> None:
    embed, _ = _embed_as([1.0, 1.0])
    reading = Reading(text="both please")
    _toy().add_genres({"horror"}, reading.text, reading, embed=embed)
    assert _genres(reading) == [("genre:horror", "liked")]


def test_the_model_reads_titles_and_people_as_stand_ins() -> None:
    text = "I loved World War Z with Brad Pitt"
    reading = Reading(text=text, spans=[Span("title", "World War Z", 8, 19, "m1"),
                                        Span("person", "Brad Pitt", 25, 34, "person:Brad Pitt")])
    assert masked(text, reading) == "I loved that movie with that actor"
    embed, seen = _embed_as([0.0, 0.0])
    _toy().add_genres({"comedy"}, text, reading, embed=embed)
    assert seen == ["I loved that movie with that actor"]


def test_the_gates() -> None:
    story = "I was laughing the whole time when we saw it at the cinema last year"
    assert eligible(story, "none")
    assert not eligible(story, "wish")
    assert eligible("lol", "wish") and eligible("I want something that makes me laugh out loud "
                                                "the whole night through", "wish")
    assert not eligible("my brother told me about it at dinner last week and he is right",
                        "wish-or-movies")


@pytest.mark.parametrize(("text", "genre"), [
    ("i want to feel my heart race", "genre:thriller"),
    ("a crew pulling off a casino job", "genre:crime"),
    ("something that'll keep me up at night", "genre:horror"),
    ("wanna sob into my pillow tonight", "genre:drama"),
])
def test_moods_the_lexicon_misses(reader: Reader, rules_only: Reader, text: str,
                                  genre: str) -> None:
    assert _genres(rules_only.read(text)) == []
    assert _genres(reader.read(text)) == [(genre, "liked")]


@pytest.mark.parametrize("text", ["hi there", "thanks!", "have you seen heat",
                                  "I loved World War Z", "ok cool", "what's your name?"])
def test_no_genre_from_small_talk_and_titles(reader: Reader, text: str) -> None:
    assert _genres(reader.read(text)) == []


def test_the_reader_goes_on_when_the_model_fails(redial_catalog, monkeypatch,  # type: ignore[no-untyped-def]
                                                 caplog: pytest.LogCaptureFixture) -> None:
    reader = Reader(EntityLinker(redial_catalog))
    assert reader.mood is not None

    def broken(*args, **kw):  # type: ignore[no-untyped-def]
        raise OSError("model.safetensors is damaged")

    monkeypatch.setattr(reader.mood, "add_genres", broken)
    reading = reader.read("i want to feel my heart race, I liked Heat (1995)")
    assert reader.mood is None and "mood model switched off" in caplog.text
    assert "title" in [s.kind for s in reading.spans] and _genres(reading) == []


def test_training_separates_toy_data() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal([3, 0], 0.3, (40, 2)), rng.normal([0, 3], 0.3, (40, 2))])
    rows = [{"gold": {"liked_genres": ["comedy"], "disliked_genres": []}}] * 40 + \
        [{"gold": {"liked_genres": [], "disliked_genres": ["horror"]}}] * 40
    y, reject = targets(rows, ["comedy", "horror"])
    model = fit_model(x, y, reject, ["comedy", "horror"], l2=0.1, threshold=0.5)
    assert [g.genre for g in model.guesses(np.array([3.0, 0.0]))] == ["comedy"]
    horror = model.guesses(np.array([0.0, 3.0]))
    assert [g.genre for g in horror] == ["horror"] and horror[0].rejected > 0.5


def test_the_training_lines_are_well_formed(redial_catalog) -> None:  # type: ignore[no-untyped-def]
    rows = load_lines(TRAIN_LINES)
    genres = set(redial_catalog.genres())
    assert len(rows) > 1500
    assert len({r["text"].lower() for r in rows}) == len(rows)
    for r in rows:
        assert set(r["gold"]["liked_genres"]) | set(r["gold"]["disliked_genres"]) <= genres
