"""The labelled understanding set: its format, its names in the catalog, and the scorer's arithmetic."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from agent.profile import LinkedItem, UserProfile
from catalog import Catalog
from evaluation.understanding_eval import (
    FIELDS,
    Prediction,
    check_set,
    diff_profiles,
    load_set,
    row_split,
    run_understanding,
    sample_redial_turns,
    score,
)

SET = Path(__file__).parent / "data" / "understanding_set.jsonl"
EXTRA = Path(__file__).parent / "data" / "understanding_dev_extra.jsonl"
TEST_IDS = (135, "02f377e6d687282ba97c64e3a5c1052ac7b1bdca017be03d1ab9ac857a35e9ef")
"""The held-out test split as it was before the extra dev file: count and sha256 of its ids."""
FORCED = {"rd-858-0", "rd-858-12", "rd-10238-6", "rd-10238-8", "rd-10238-10"}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return load_set(SET)


def test_set_size_and_composition(rows: list[dict]) -> None:
    by_source = Counter(r["source"] for r in rows)
    tags = Counter(t for r in rows if r["source"] == "everyday" for t in r["tags"])
    assert len(rows) >= 220
    assert by_source["redial-dev"] >= 120 and by_source["everyday"] >= 80
    assert tags["chitchat"] >= 25 and tags["mood"] >= 30
    for tag in ("person", "era", "title", "negation", "reply"):
        assert tags[tag] >= 5, tag
    assert {r["gold"]["intent"] for r in rows} == {"prefs", "ask", "react", "chat"}
    assert any(turn.get("cards") for r in rows for turn in r["context"])


def test_every_gold_name_is_in_the_catalog(rows: list[dict], redial_catalog: Catalog) -> None:
    assert check_set(rows, redial_catalog) == []


def test_check_set_reports_bad_names(rows: list[dict], redial_catalog: Catalog) -> None:
    broken = json.loads(json.dumps(rows[:3]))
    broken[0]["gold"]["liked_titles"] = ["No Such Movie (1901)"]
    broken[1]["gold"]["liked_genres"] = ["funny"]
    broken[2]["gold"]["unknown_titles"] = ["The Matrix (1999)"]
    problems = check_set(broken, redial_catalog)
    assert len(problems) == 3, problems


def test_redial_rows_are_the_real_turns(rows: list[dict], shared_data: Path) -> None:
    """Each ReDial message and its context are the dialogue's own words; the sample is seeded."""
    path = shared_data / "redial" / "dev_dialogues.jsonl"
    sampled = {rid: (prev, text) for rid, prev, text in sample_redial_turns(path)}
    redial = {r["id"]: r for r in rows if r["source"] == "redial-dev"}
    assert set(redial) - FORCED == set(sampled)
    for rid, (prev, text) in sampled.items():
        row = redial[rid]
        assert row["text"] == text
        assert [t["text"] for t in row["context"]] == ([prev] if prev.strip() else [])


def _row(rid: str, gold: dict, tags: list[str], source: str = "everyday") -> dict:
    full: dict[str, object] = {"intent": "prefs", **{k: [] for k in FIELDS}, "year_min": None,
                               "year_max": None}
    full.update(gold)
    return {"id": rid, "source": source, "tags": tags, "context": [], "text": "x", "gold": full}


def _pred(intent: str, seconds: float = 1.0, calls: int = 1, **values: list[str]) -> Prediction:
    return Prediction(values={k: values.get(k, []) for k in FIELDS}, intent=intent,
                      seconds=seconds, wall_seconds=seconds, llm_calls=calls)


def test_score_known_answer() -> None:
    rows = [
        _row("a", {"liked_titles": ["A (1990)", "B (1991)"], "liked_genres": ["comedy"],
                   "neutral_titles": ["N (1999)"]}, ["mood"]),
        _row("b", {"intent": "chat"}, ["chitchat"]),
        _row("c", {"intent": "react", "disliked_titles": ["C (2000)"], "people": ["P Q"],
                   "year_min": 1990, "year_max": 1999}, ["reaction"], source="redial-dev"),
    ]
    preds = [
        _pred("prefs", 1.0, 1, liked_titles=["A (1990)", "N (1999)"],
              liked_genres=["comedy", "drama"]),
        _pred("prefs", 2.0, 0, liked_titles=["Hello (2004)"]),
        _pred("react", 3.0, 2, liked_titles=["C (2000)"], people=["P Q"]),
    ]
    preds[2].year_min, preds[2].year_max = 1990, 2000
    preds[1].unknown = ["Hello"]
    s = score(rows, preds)
    liked = s["fields"]["liked_titles"]  # tp A; fp N, Hello, C; fn B
    assert (liked["tp"], liked["fp"], liked["fn"]) == (1, 3, 1)
    assert liked["precision"] == pytest.approx(0.25) and liked["recall"] == pytest.approx(0.5)
    assert liked["f1"] == pytest.approx(2 / 6)
    assert s["fields"]["disliked_titles"]["recall"] == 0.0
    assert s["fields"]["disliked_titles"]["precision"] is None
    assert s["fields"]["liked_genres"]["precision"] == pytest.approx(0.5)
    assert s["fields"]["year_min"]["f1"] == 1.0
    assert (s["fields"]["year_max"]["fp"], s["fields"]["year_max"]["fn"]) == (1, 1)
    m = s["mentions"]  # gold A, B, C, P; produced A, (N allowed), Hello, C, P
    assert (m["tp"], m["fp"], m["fn"]) == (3, 1, 1)
    assert s["invented_title_rate_chitchat"] == 1.0 and s["invented_ids"] == ["b"]
    assert s["unknown_rate_chitchat"] == 1.0 and s["unknown_ids_chitchat"] == ["b"]
    assert s["mood_genre_recall"] == 1.0
    assert s["intent_accuracy"] == pytest.approx(2 / 3)
    assert s["intent_confusion"]["chat"] == {"prefs": 1}
    assert s["seconds_p50"] == 2.0 and s["llm_calls"] == 3


def test_diff_profiles_reads_items_feedback_entities_and_years(redial_catalog: Catalog) -> None:
    ids = {i.display_title: i.id for i in redial_catalog.items.values()}
    before = UserProfile(liked_items=[LinkedItem(item_id=ids["Heat (1995)"], title="Heat")])
    after = before.model_copy(deep=True)
    after.liked_items.append(LinkedItem(item_id=ids["Ronin (1998)"], title="Ronin"))
    after.feedback[ids["Jaws (1975)"]] = "seen"
    after.feedback[ids["Alien (1979)"]] = "disliked"
    after.liked_entities += ["genre:comedy", "person:Jim Carrey", "tag:space"]
    after.disliked_entities.append("genre:horror")
    after.constraints = after.constraints.model_copy(update={"year_min": 1990})
    pred = diff_profiles(before, after, redial_catalog)
    assert pred.values["liked_titles"] == ["Ronin (1998)"]
    assert pred.values["seen_titles"] == ["Jaws (1975)"]
    assert pred.values["disliked_titles"] == ["Alien (1979)"]
    assert pred.values["liked_genres"] == ["comedy"]
    assert pred.values["disliked_genres"] == ["horror"]
    assert pred.values["people"] == ["Jim Carrey"]
    assert (pred.year_min, pred.year_max) == (1990, None)


def test_scorer_runs_on_a_slice_with_the_scripted_backend(rows: list[dict], tmp_path: Path,
                                                         redial_catalog: Catalog,
                                                         real_home: Path,
                                                         shared_data: Path) -> None:
    from agent.settings import Settings
    from agent.testing import keyword_backend

    wanted = ["rd-16970-0", "rd-16970-2", "rd-16970-4", "ev-001", "ev-031", "ev-089",
              "ev-120"]
    picked = [r for r in rows if r["id"] in wanted]
    assert len(picked) == len(wanted)
    part = tmp_path / "slice.jsonl"
    part.write_text("".join(json.dumps(r) + "\n" for r in picked), encoding="utf-8")
    settings = Settings(backend="scripted", cache_dir=real_home, data_dir=shared_data)
    results = run_understanding(part, settings, backend=keyword_backend(redial_catalog),
                                catalog=redial_catalog, tools=["kg_expansion"])
    overall = results["overall"]
    assert overall["n"] == len(wanted) and overall["errors"] == 0
    assert [m["id"] for m in results["messages"]] == [r["id"] for r in picked]
    # The table's numbers are the arithmetic of the per-message answers it saved.
    preds = [_pred(m["intent"], m["seconds"], m["llm_calls"], **{k: m[k] for k in FIELDS})
             for m in results["messages"]]
    for p, m in zip(preds, results["messages"], strict=True):
        p.year_min, p.year_max, p.unknown = m["year_min"], m["year_max"], m["unknown"]
    again = score(picked, preds)
    for key in ("fields", "mentions", "invented_ids", "unknown_ids_chitchat", "intent_accuracy",
                "mood_genre_recall", "llm_calls"):
        assert again[key] == overall[key], key
    assert set(results["by_source"]) == {"redial-dev", "everyday"}
    assert results["by_source"]["everyday"]["n"] + results["by_source"]["redial-dev"]["n"] == 7
    titles = {i.display_title for i in redial_catalog.items.values()}
    assert all(t in titles for m in results["messages"] for t in m["liked_titles"])


def test_test_split_is_unchanged_and_extra_rows_are_dev(rows: list[dict],
                                                      redial_catalog: Catalog) -> None:
    extra = load_set(EXTRA)
    test_ids = sorted(r["id"] for r in rows + extra if row_split(r) == "test")
    assert (len(test_ids), hashlib.sha256("\n".join(test_ids).encode()).hexdigest()) == TEST_IDS
    assert len(extra) >= 100 and all(r["split"] == "dev" for r in extra)
    assert check_set(extra, redial_catalog) == []
    assert not {r["text"] for r in extra} & {r["text"] for r in rows}
    assert not {r["id"] for r in extra} & {r["id"] for r in rows}


def test_explicit_split_overrides_the_hash(redial_catalog: Catalog) -> None:
    hashed = {rid: row_split({"id": rid}) for rid in ("a", "b", "c", "d", "e", "f")}
    assert set(hashed.values()) == {"dev", "test"}
    for rid, split in hashed.items():
        other = "dev" if split == "test" else "test"
        assert row_split({"id": rid, "split": other}) == other
    broken = [{"id": "x", "source": "everyday", "tags": [], "context": [], "text": "hi",
               "split": "train", "gold": {"intent": "chat"}}]
    assert any("split" in p for p in check_set(broken, redial_catalog))
