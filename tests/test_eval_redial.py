"""Known answers of the ReDial protocol: per-pair recall, unmapped misses, genre names, readers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.profile import LinkedItem, UserProfile
from catalog.models import Catalog, Interactions, Item
from evaluation.cli import main
from evaluation.readers import OracleReader, TranscriptReader, context_roles
from evaluation.redial import (
    TitleMapper,
    load_records,
    load_samples,
    record,
    run_redial,
    score_sample,
    select_shard,
)
from evaluation.redial_summary import summarize_records
from evaluation.report import write_redial_report

ITEMS = [  # id, title, year, genres, director
    ("1", "Starfall Odyssey", 1994, ["sci-fi", "adventure"], "Ada Lane"),
    ("2", "Laughing Harbor", 1988, ["comedy"], "Bo Reyes"),
    ("3", "Midnight Orchard", 2003, ["drama", "romance"], "Cy Moreau"),
    ("4", "Iron Canyon", 1971, ["western", "war"], "Di Vega"),
    ("5", "Romance", 1999, ["romance"], "Ed Nakamura"),
    ("6", "The War", 1994, ["drama", "war"], "Flo Grant"),
    ("7", "The Family", 2013, ["comedy", "crime"], "Gil Ortiz"),
    ("8", "Paper Lanterns", 1999, ["animation", "family"], "Hal Kim"),
    ("9", "Hal Kim", 2005, ["documentary"], "Ivy Stone"),  # a film named like a person
]
RATINGS = {"1": 6, "3": 5, "2": 4, "4": 3, "5": 2, "6": 1}  # popularity: 1, 3, 2, 4, 5, 6, ...


def tiny_catalog() -> Catalog:
    items = {i: Item(id=i, title=t, year=y, genres=g, people={"director": [d]},
                     text=f"A film called {t}.", attributes={"redial_name": f"{t} ({y})"})
             for i, t, y, g, d in ITEMS}
    rows = [(f"u{u}", item) for item, n in RATINGS.items() for u in range(n)]
    inter = Interactions(np.array([r[0] for r in rows], dtype=object),
                         np.array([r[1] for r in rows], dtype=object),
                         np.ones(len(rows), dtype=np.float32))
    return Catalog(name="tiny", items=items, interactions=inter)


@pytest.fixture
def catalog() -> Catalog:
    return tiny_catalog()


def _dialogues(path: Path) -> Path:
    rows = [
        {"dialog_id": "d1", "turn_id": 2,
         "context": ["", "Hi, what do you like?", "I loved Starfall Odyssey (1994), any romance?"],
         "entity": ["romance", "Starfall Odyssey (1994)"],
         "rec": ["Laughing Harbor (1988)", "Unknown Film (2001)"]},
        {"dialog_id": "d2", "turn_id": 2,
         "context": ["", "Have you seen Iron Canyon (1971)?", "Something like Iron Canyon"],
         "entity": ["Iron Canyon (1971)"], "rec": ["Iron Canyon (1971)"]},
        {"dialog_id": "d3", "turn_id": 2, "context": ["", "Hi", "anything"],
         "entity": [], "rec": ["Nowhere Movie (1950)"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_genre_and_person_names_never_map_to_films(catalog: Catalog) -> None:
    mapper = TitleMapper(catalog, {"scary": "genre", "Zed Quinn": "person"})
    for genre in ("romance", "Romance", "war", "family", "War", "sci-fi", "scary", "horror"):
        assert mapper.map(genre) is None, genre
    assert mapper.map("Hal Kim") is None and mapper.map("Zed Quinn") is None  # people
    assert mapper.map("Romance (1999)") == "5" and mapper.map("The War (1994)") == "6"
    assert mapper.map("Hal Kim (2005)") == "9"  # with its year it is the film
    assert mapper.map("Paper Lanterns") == "8"  # a unique non-genre title still maps
    assert mapper.map("Starfall Odyssey (1995)") is None  # wrong year


def test_no_sample_dropped_and_unmapped_targets_are_counted(catalog: Catalog,
                                                            tmp_path: Path) -> None:
    samples, counts = load_samples(_dialogues(tmp_path / "d.jsonl"), catalog)
    assert [s.dialog_id for s in samples] == ["d1", "d2", "d3"]
    assert counts["pairs"] == 4 and counts["pairs_unmapped"] == 2
    assert counts["samples_without_mappable_target"] == 1
    assert samples[0].mentioned == ["1"]  # "romance" is a genre, not Romance (1999)
    assert samples[0].target_ids == ["2", None] and samples[0].target_new == [True, True]
    assert samples[1].target_new == [False]  # Iron Canyon was mentioned before
    assert counts["pairs_new"] == 3 and counts["samples_without_new_target"] == 1


def test_a_sample_whose_only_target_is_unmappable_is_a_miss(catalog: Catalog,
                                                            tmp_path: Path) -> None:
    samples, _ = load_samples(_dialogues(tmp_path / "d.jsonl"), catalog)
    everything = sorted(catalog.items)
    assert score_sample(everything, samples[2], [1, 20]) == {
        "all": {"pairs": 1, "hits": {1: 0, 20: 0}}, "new": {"pairs": 1, "hits": {1: 0, 20: 0}}}


def test_ranking_every_mappable_target_scores_the_mappable_share(catalog: Catalog,
                                                                 tmp_path: Path) -> None:
    samples, counts = load_samples(_dialogues(tmp_path / "d.jsonl"), catalog)
    recs = [record("perfect", s, [i for i in s.target_ids if i], 0.0) for s in samples]
    res = summarize_records(recs, [1, 10], n_boot=200)
    share = (counts["pairs"] - counts["pairs_unmapped"]) / counts["pairs"]
    assert share == 0.5
    assert res["methods"]["perfect"]["recall"]["all"]["10"]["value"] == share
    new_share = (counts["pairs_new"] - 2) / counts["pairs_new"]  # two new pairs are unmapped
    assert res["methods"]["perfect"]["recall"]["new"]["10"]["value"] == pytest.approx(new_share)


def test_popularity_hand_computed_all_and_new_targets(catalog: Catalog, tmp_path: Path) -> None:
    res = run_redial(_dialogues(tmp_path / "d.jsonl"), catalog=catalog, ks=[1, 2, 5],
                     methods=["popularity"], show_progress=False, tools={})
    pop = res["methods"]["popularity"]["recall"]
    # ranking 1, 3, 2, 4, 5: d1's target 2 at rank 3, d2's target 4 at rank 4, 2 unmapped
    assert {k: v["value"] for k, v in pop["all"].items()} == {"1": 0.0, "2": 0.0, "5": 0.5}
    # new: d1 without its mentioned item 1 -> 3, 2, ...: target 2 at rank 2; d2 has no new
    # target; d1's unknown film and d3's are misses -> 1 of 3
    assert {k: v["value"] for k, v in pop["new"].items()} == pytest.approx(
        {"1": 0.0, "2": 1 / 3, "5": 1 / 3})
    est = pop["all"]["5"]
    assert est["lo"] <= est["value"] <= est["hi"] and est["groups"] == 3
    assert res["config"]["split"] == "d.jsonl" and "popularity" in res["reads"]
    md = write_redial_report(res, tmp_path / "rep").read_text()
    assert "none dropped" in md and "ReDial test (original split)" in md
    assert (tmp_path / "rep" / "redial_recall.png").is_file()


def test_oracle_reader_reads_both_sides(catalog: Catalog, tmp_path: Path) -> None:
    samples, _ = load_samples(_dialogues(tmp_path / "d.jsonl"), catalog)
    inputs = OracleReader(catalog).inputs(samples[1])
    assert "Have you seen Iron Canyon" in inputs.free_text  # the recommender's turn too
    assert "Something like Iron Canyon" in inputs.free_text
    assert inputs.liked_items == ["4"]
    assert OracleReader(catalog).inputs(samples[0]).entities == ["genre:romance"]


class FakeSession:
    """The transcript API (observe, ranked, profile) over a dumb keyword reader."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.seen: list[tuple[str, str]] = []
        self.profile = UserProfile()

    def observe(self, role: str, text: str) -> None:
        assert role in ("user", "assistant")
        self.seen.append((role, text))
        for item in self.catalog.items.values():
            if item.title in text and role == "user":
                self.profile.liked_items.append(LinkedItem(item_id=item.id, title=item.title))

    def ranked(self, k: int = 10) -> list[str]:
        liked = {i.item_id for i in self.profile.liked_items}
        return [i for i in sorted(self.catalog.items) if i not in liked][:k]


def test_transcript_reader_feeds_both_sides_and_continues_a_dialogue(catalog: Catalog) -> None:
    from evaluation.redial import Sample

    made: list[FakeSession] = []

    def new(uid: str) -> Any:
        made.append(FakeSession(catalog))
        return made[-1]

    base = ["", "Hi, what do you like?", "I loved Starfall Odyssey", "Try Laughing Harbor",
            "Seen it. Something like Iron Canyon?"]
    assert context_roles(base[:3]) == [("assistant", base[1]), ("user", base[2])]
    reader = TranscriptReader(new)
    first = Sample("d1", 2, base[:3], ["x"], [None], [True], [])
    second = Sample("d1", 4, base, ["x"], [None], [True], [])
    reader.read(first)
    session = reader.read(second)
    assert len(made) == 1 and reader.observed == 4  # continued: only the two new turns
    assert session.seen == [("assistant", base[1]), ("user", base[2]), ("assistant", base[3]),
                            ("user", base[4])]
    assert [i.item_id for i in session.profile.liked_items] == ["1", "4"]
    other = Sample("d2", 2, ["Hello", "Anything with Romance"], ["x"], [None], [True], [])
    assert reader.read(other).seen == [("assistant", "Hello"), ("user", "Anything with Romance")]
    assert len(made) == 2


def test_shards_split_by_dialogue(catalog: Catalog, tmp_path: Path) -> None:
    samples, _ = load_samples(_dialogues(tmp_path / "d.jsonl"), catalog)
    parts = [select_shard(samples, (i, 2)) for i in range(2)]
    assert [s.dialog_id for s in parts[0]] == ["d1", "d3"] and len(parts[1]) == 1
    with pytest.raises(ValueError, match="shard"):
        select_shard(samples, (2, 2))


def test_cli_records_and_from_records(catalog: Catalog, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("catalog.loading.load_catalog", lambda *a, **k: catalog)
    rec = tmp_path / "runs" / "r.jsonl"
    assert main(["redial", "--dialogues", str(_dialogues(tmp_path / "d.jsonl")),
                 "--methods", "popularity,random", "--k", "1,5", "--records", str(rec),
                 "--cache-dir", str(tmp_path / "c"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "popularity" in printed and "unmappable (always missed) 2" in printed
    assert len(load_records([rec])) == 6  # 2 methods x 3 samples
    with rec.open("a") as f:
        f.write('{"method": "torn')  # an interrupted last line is skipped
    out = tmp_path / "s.json"
    assert main(["redial", "--from-records", str(rec), "--k", "1,5", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["methods"]["popularity"]["recall"]["all"]["5"]["value"] == 0.5
    assert "fused - popularity" not in data["paired"]  # fused was not run
    assert main(["redial", "--dialogues", str(tmp_path / "d.jsonl"), "--shard", "x",
                 "--cache-dir", str(tmp_path / "c")]) == 2


def test_agent_and_fused_transcript_read_the_same_transcript(catalog: Catalog,
                                                             tmp_path: Path) -> None:
    """The real agent's observe path on the scripted backend, both transcript methods."""
    from agent.settings import Settings
    from agent.testing import keyword_backend

    settings = Settings(cache_dir=tmp_path / "cache", backend="scripted",
                        justify_with_llm=False)
    res = run_redial(_dialogues(tmp_path / "d.jsonl"), catalog=catalog, ks=[1, 10],
                     settings=settings, backend=keyword_backend(catalog), show_progress=False,
                     methods=["fused", "agent", "fused+transcript"])
    assert not res["skipped_methods"]
    assert res["transcript_turns_observed"] == 6  # both sides of three 2-turn contexts
    assert {m: v["samples"] for m, v in res["methods"].items()} == {
        "fused": 3, "agent": 3, "fused+transcript": 3}
    for m in res["methods"].values():  # nothing can beat the mappable share (2 of 4)
        assert m["recall"]["all"]["10"]["value"] <= 0.5
    assert res["paired"]["agent - fused+transcript"]["samples"] == 3
    assert "transcript reader" in res["reads"]["agent"]


def _install_trained(cache: Path, catalog: Catalog, dialogue_ids: list[str],
                     folds: tuple[int, int, int] | None = None) -> None:
    """Stand-ins for what `convrec train ranker` installs: the pointer and meta files only."""
    from tools.engines.ranker import ranker_root

    root = ranker_root(cache, catalog)
    table = root.parent / "comention" / "dialogues-x"
    table.mkdir(parents=True)
    (table.parent / "active.json").write_text(json.dumps({"folder": "dialogues-x"}))
    (table / "comention_meta.json").write_text(json.dumps(
        {"source": "dialogues", "dialogue_ids": dialogue_ids}))
    if folds is not None:
        (root / "v1").mkdir(parents=True)
        (root / "active.json").write_text(json.dumps({"folder": "v1"}))
        n, fold, seed = folds
        (root / "v1" / "ranker_meta.json").write_text(json.dumps(
            {"training": {"source": "redial", "n_folds": n, "validation_fold": fold,
                          "fold_seed": seed}}))


def test_dialogues_the_trained_artifacts_saw_are_not_scored(catalog: Catalog,
                                                            tmp_path: Path) -> None:
    from agent.settings import Settings
    from evaluation.held_out import fold_of, trained_on

    settings = Settings(backend="scripted", cache_dir=tmp_path / "cache")
    path = _dialogues(tmp_path / "d.jsonl")

    def scored(**kw: Any) -> dict[str, Any]:
        return run_redial(path, catalog=catalog, ks=[5], methods=["popularity"], tools={},
                          show_progress=False, settings=settings, **kw)

    assert scored()["config"]["held_out_of_trained_artifacts"] is None  # nothing installed
    assert scored()["methods"]["popularity"]["samples"] == 3
    _install_trained(settings.resolved_cache_dir(), catalog, ["d1"])
    res = scored()
    assert res["methods"]["popularity"]["samples"] == 2  # d1 was in the co-mention table
    held = res["config"]["held_out_of_trained_artifacts"]
    assert held["samples_before"] == 3 and held["samples_kept"] == 2
    from evaluation.report import redial_table
    assert "held out: 2 of 3 samples scored" in redial_table(res)
    assert scored(held_out_only=False)["methods"]["popularity"]["samples"] == 3
    # a ranker trained on every fold but one: only that fold's dialogues stay
    fold = fold_of("d2", 2, 7)
    _install_trained(tmp_path / "cache2", catalog, [], folds=(2, fold, 7))
    trained = trained_on(tmp_path / "cache2", catalog)
    kept = {d for d in ("d1", "d2", "d3") if not trained.seen(d)}
    assert "d2" in kept and kept == {d for d in ("d1", "d2", "d3") if fold_of(d, 2, 7) == fold}
