"""The learned reaction reader (agent/reaction_model.py), its training and its place in the reader."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agent.linking import EntityLinker
from agent.reaction_model import CLASSES, WEIGHTS, ReactionModel, asked, masked
from agent.reading import Reader
from agent.spans import Reading, Span
from evaluation.reaction_model_train import TRAIN_LINES, fit_model, gold_label, load_lines


@pytest.fixture(scope="module")
def reader(redial_catalog) -> Reader:  # type: ignore[no-untyped-def]
    return Reader(EntityLinker(redial_catalog))


def _id(reader: Reader, title: str) -> str:
    item_id = reader.linker.link_title(title)
    assert item_id, title
    return item_id


def _toy(threshold: float = 0.5) -> ReactionModel:
    """Three reactions over 3-d 'embeddings': axis k is CLASSES[k]."""
    weights = np.hstack([10 * np.eye(3), np.full((3, 1), -5.0)])
    return ReactionModel(weights, threshold)


def _embed_as(vector: list[float]):  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        seen.extend(texts)
        return np.array([vector] * len(texts))
    return embed, seen


def test_the_committed_model_loads(reader: Reader) -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert data["classes"] == list(CLASSES) and data["meta"]["written_lines"] > 500
    model = reader.reactions
    assert model is not None and 0.0 < model.threshold < 1.0
    assert model.weights.shape == (len(CLASSES), 385)


def test_save_load_round_trip_and_a_damaged_file(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "r.json"
    _toy(0.6).save(path)
    back = ReactionModel.load(path)
    assert back is not None and back.threshold == 0.6
    assert np.allclose(back.weights, _toy().weights)
    path.write_text("{not json", encoding="utf-8")
    assert ReactionModel.load(path) is None
    assert "reaction_model_train" in caplog.text
    with pytest.raises(ValueError):
        ReactionModel(np.zeros((2, 4)), 0.5)


def test_the_best_reaction_above_the_threshold_or_none() -> None:
    model = _toy()
    assert model.choose(np.array([0.9, 0.2, 0.1])) == "liked"
    assert model.choose(np.array([0.2, 0.3, 0.7])) == "seen"
    assert model.choose(np.array([0.2, 0.3, 0.4])) is None
    assert model.choose(np.array([0.2, 0.3, 0.4]), threshold=0.35) == "seen"


def test_asked_only_where_the_rules_read_nothing_about_the_suggestion() -> None:
    reading = Reading(text="awe that was a cute one")
    assert asked(reading, ["1"]) and not asked(reading, [])
    reading.reaction = "liked"
    assert not asked(reading, ["1"])
    named = Reading(text="is it like Up?", spans=[Span("title", "Up", 11, 13, "1",
                                                       label="neutral")])
    assert not asked(named, ["1"]) and asked(named, ["2"])  # names the suggestion / asks
    judged = Reading(text="Up was cute", spans=[Span("title", "Up", 0, 2, "1", label="liked")])
    assert not asked(judged, ["2"])  # judges another film: about that one
    assert not asked(Reading(text="ok thanks, have a nice day"), ["1"])  # small talk
    assert not asked(Reading(text="I want a good movie tonight"), ["1"])  # a new wish


def test_the_suggestion_other_titles_and_people_are_stand_ins() -> None:
    text = "Up was fine but I loved Heat with Al Pacino"
    reading = Reading(text=text, spans=[Span("title", "Up", 0, 2, "1"),
                                        Span("title", "Heat", 24, 28, "2"),
                                        Span("person", "Al Pacino", 34, 43, "person:Al Pacino")])
    assert masked(text, reading, ["1"]) == \
        "that one was fine but I loved another movie with another actor"


def test_react_sets_the_reaction_the_model_reads() -> None:
    embed, seen = _embed_as([1.0, 0.0, 0.0])
    reading = Reading(text="awe that was a cute one")
    _toy().react(reading, ["1"], embed=embed)
    assert reading.reaction == "liked" and seen == ["awe that was a cute one"]
    quiet = Reading(text="what is it about?")
    _toy().react(quiet, ["1"], embed=_embed_as([0.0, 0.0, 0.0])[0])
    assert quiet.reaction is None
    untouched = Reading(text="hmm", reaction="disliked")
    embed, seen = _embed_as([1.0, 0.0, 0.0])
    _toy().react(untouched, ["1"], embed=embed)
    assert untouched.reaction == "disliked" and seen == []


@pytest.mark.parametrize("text", ["awe that was a cute one", "Yes, that's a great one!",
                                  "ooh adding that to my list"])
def test_reactions_the_rules_miss_label_the_suggestion(reader: Reader, text: str) -> None:
    item = _id(reader, "The Land Before Time (1988)")
    reading = reader.read(text, context_items=[item])
    assert reading.reaction == "liked"


@pytest.mark.parametrize("text", ["hi there", "what is it about?", "who is in it",
                                  "thanks, bye!", "I loved Heat (1995)"])
def test_no_reaction_from_questions_small_talk_and_other_titles(reader: Reader,
                                                                 text: str) -> None:
    item = _id(reader, "The Land Before Time (1988)")
    assert reader.read(text, context_items=[item]).reaction is None


def test_the_reader_goes_on_when_the_model_fails(redial_catalog, monkeypatch,  # type: ignore[no-untyped-def]
                                                 caplog: pytest.LogCaptureFixture) -> None:
    reader = Reader(EntityLinker(redial_catalog))
    assert reader.reactions is not None

    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("no embedding model")
    monkeypatch.setattr(reader.reactions, "react", broken)
    item = _id(reader, "The Land Before Time (1988)")
    reading = reader.read("awe that was a cute one", context_items=[item])
    assert reading.reaction is None and reader.reactions is None
    assert "reaction model switched off" in caplog.text


def test_training_separates_toy_data() -> None:
    rng = np.random.default_rng(0)
    centres = np.vstack([np.eye(4)[k] for k in range(4)])
    labels = np.repeat(np.arange(4), 30)
    x = centres[labels] + 0.05 * rng.standard_normal((len(labels), 4))
    labels[:3] = -1  # mixed verdicts are left out
    model = fit_model(x, labels, l2=0.1, threshold=0.5)
    chosen = [model.choose(p) for p in model.probabilities(centres)]
    assert chosen == ["liked", "disliked", "seen", None]


def test_gold_labels_of_dev_rows_and_written_lines() -> None:
    row = {"source": "redial-dev", "gold": {"liked_titles": ["Up (2009)"],
                                            "disliked_titles": [], "seen_titles": []}}
    assert gold_label(row, ["Up (2009)"]) == CLASSES.index("liked")
    assert gold_label(row, ["Heat (1995)"]) == len(CLASSES)
    row["gold"]["seen_titles"] = ["Heat (1995)"]
    assert gold_label(row, ["Up (2009)", "Heat (1995)"]) == -1
    assert gold_label({"source": "written", "reaction": "none"}, []) == len(CLASSES)


def test_the_training_lines_are_well_formed() -> None:
    rows = load_lines(TRAIN_LINES)
    assert len(rows) > 500
    assert {r["reaction"] for r in rows} == {*CLASSES, "none"}
    assert len({r["text"] for r in rows}) == len(rows)
