"""The learned ranker: features, training on a known signal, artifacts, planner fallback to RRF."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from agent.planner import planner_ranker, run_plan
from agent.settings import Settings, load_settings
from catalog.errors import ArtifactError, UserFacingError
from catalog.models import Catalog, Interactions, Item
from tools.base import (
    Candidate,
    ConvrecTool,
    Evidence,
    InputKind,
    ProfileInputs,
    ToolResult,
    ToolState,
)
from tools.engines.fusion import fuse
from tools.engines.ranker import (
    FeatureBuilder,
    LearnedRanker,
    LogisticModel,
    install_ranker,
    load_ranker,
    train_lambdarank,
)

N_ITEMS = 120


def popularity_catalog() -> Catalog:
    """Items i0..i119: item i has i+1 ratings (so popularity is a known, distinct signal)."""
    items = {f"i{i}": Item(id=f"i{i}", title=f"Film {i}", year=1950 + i % 60,
                           genres=["drama"] if i % 2 else ["comedy", "drama"],
                           people={"director": [f"Director {i % 7}"]})
             for i in range(N_ITEMS)}
    rows = [(f"u{u}", f"i{i}") for i in range(N_ITEMS) for u in range(i + 1)]
    users, rated = zip(*rows, strict=True)
    inter = Interactions(np.array(users, dtype=object), np.array(rated, dtype=object),
                         np.full(len(rows), 4.0, dtype=np.float32))
    return Catalog(name="popular", items=items, interactions=inter)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return popularity_catalog()


def result(tool: str, ids: list[str]) -> ToolResult:
    """A tool result listing ids best first, scores falling."""
    return ToolResult(tool=tool, candidates=[Candidate(item_id=i, score=1.0 - n / 100)
                                             for n, i in enumerate(ids)])


def synthetic_group(rng: random.Random) -> tuple[ProfileInputs, list[ToolResult], str]:
    """Two tools rank 30 random candidates at random; the most popular one is the target."""
    pool = rng.sample([f"i{i}" for i in range(N_ITEMS)], 30)
    target = max(pool, key=lambda i: int(i[1:]))
    kg = pool[:]
    rng.shuffle(kg)
    cf = rng.sample(pool, 15)
    return ProfileInputs(liked_items=["i0"]), [result("kg_expansion", kg),
                                               result("cf_scoring", cf)], target


def test_features_of_a_known_candidate(catalog: Catalog) -> None:
    builder = FeatureBuilder(catalog, priors={"i10": 3})
    results = [result("kg_expansion", ["i10", "i11"]), result("cf_scoring", ["i11", "i10"]),
               ToolResult(tool="comention", candidates=[Candidate(
                   item_id="i10", score=2.0, evidence=[Evidence(
                       tool="comention", kind="comention", text="x",
                       data={"n_conversations": 7})])])]
    inputs = ProfileInputs(liked_items=["i5", "i31"], entities=["genre:comedy",
                                                                "person:Director 3"])
    x = builder.matrix(inputs, results, ["i10", "i11", "unknown"])
    f = {name: x[0, c] for name, c in builder.col.items()}
    assert f["kg_expansion:rank_inv"] == 1.0 and f["cf_scoring:rank_inv"] == 0.5
    assert f["cf_scoring:score_rel"] == pytest.approx(0.99)
    assert f["rrf"] == pytest.approx(1 / 61 + 1 / 62 + 1 / 61)
    assert f["n_tools"] == 3 and f["comention_count"] == 7
    assert f["log_prior"] == pytest.approx(math.log1p(3))
    assert f["log_pop"] == pytest.approx(math.log1p(11))
    assert f["year"] == 1960  # i10; the liked films are from 1955 and 1981
    assert f["year_dist_min"] == 5 and f["year_dist_mean"] == pytest.approx(8)
    assert f["genre_share_liked"] == 0.5  # comedy drama against liked dramas
    assert f["genre_entity_hits"] == 1  # comedy
    assert f["person_entity_hits"] == 1  # Director 3 directed i10
    assert f["people_shared_liked"] == 1  # and i31
    assert f["q_liked"] == 2 and f["q_genres"] == 1 and f["q_people"] == 1
    second = {name: x[1, c] for name, c in builder.col.items()}
    assert second["genre_share_liked"] == 1.0 and second["genre_entity_hits"] == 0
    assert second["log_prior"] == 0 and second["comention_count"] == 0
    assert np.isnan(x[2, builder.col["log_pop"]])  # an id outside the catalog


def _fit_and_score(kind: str, catalog: Catalog) -> tuple[float, float]:
    rng = random.Random(7)
    train = [synthetic_group(rng) for _ in range(150)]
    test = [synthetic_group(rng) for _ in range(60)]
    builder = FeatureBuilder(catalog)
    xs, ys, sizes = [], [], []
    for inputs, res, target in train:
        ids = [c.item_id for c in fuse(res)]
        xs.append(builder.matrix(inputs, res, ids))
        ys.append(np.array([float(i == target) for i in ids]))
        sizes.append(len(ids))
    x, y = np.vstack(xs), np.concatenate(ys)
    model = (LogisticModel.fit(x, y) if kind == "logistic"
             else train_lambdarank(x, y, sizes, rounds=60))
    ranker = LearnedRanker(kind, model, builder)  # type: ignore[arg-type]
    learned = rrf = 0
    for inputs, res, target in test:
        fused = fuse(res)
        rrf += fused[0].item_id == target
        learned += ranker.rerank(inputs, res, fused)[0].item_id == target
    return learned / len(test), rrf / len(test)


@pytest.mark.parametrize("kind", ["logistic", "lambdarank"])
def test_training_learns_a_signal_rrf_cannot_see(kind: str, catalog: Catalog) -> None:
    learned, rrf = _fit_and_score(kind, catalog)
    assert rrf < 0.25  # the tools rank at random: fusion finds the target by chance only
    assert learned >= 0.8


def test_rerank_keeps_candidates_and_the_tail_order(catalog: Catalog) -> None:
    rng = random.Random(1)
    inputs, res, _ = synthetic_group(rng)
    builder = FeatureBuilder(catalog)
    ids = [c.item_id for c in fuse(res)]
    x = builder.matrix(inputs, res, ids)
    model = LogisticModel(np.zeros(x.shape[1]), 0.0, np.zeros(x.shape[1]), np.ones(x.shape[1]))
    model.coef[builder.col["log_pop"]] = 1.0
    fused = fuse(res)
    ranked = LearnedRanker("logistic", model, builder, pool=10).rerank(inputs, res, fused)
    assert sorted(c.item_id for c in ranked) == sorted(c.item_id for c in fused)
    head = [int(c.item_id[1:]) for c in ranked[:10]]
    assert head == sorted(head, reverse=True)  # by popularity inside the pool
    assert [c.item_id for c in ranked[10:]] == [c.item_id for c in fused[10:]]
    assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)
    assert ranked[0].evidence == next(c for c in fused if c.item_id == ranked[0].item_id).evidence


class FixedTool(ConvrecTool):
    """A tool that always proposes the same ids (for planner tests)."""

    name: str = "kg_expansion"
    description: str = "fixed"
    consumes: ClassVar[frozenset[InputKind]] = frozenset({InputKind.LIKED_ITEMS})
    ids: list[str]

    def score(self, profile: ProfileInputs, k: int, state: ToolState) -> list[Candidate]:
        return [Candidate(item_id=i, score=1.0 / (n + 1),
                          evidence=[Evidence(tool=self.name, kind="x", text=i)])
                for n, i in enumerate(self.ids[:k])]


def test_planner_falls_back_to_rrf_without_an_artifact(tmp_path: Path, catalog: Catalog) -> None:
    tools = {"kg_expansion": FixedTool(ids=["i1", "i50", "i99", "i7"]),
             "cf_scoring": FixedTool(name="cf_scoring", ids=["i99", "i2"])}
    inputs = ProfileInputs(liked_items=["i0"])
    assert load_ranker(tmp_path, catalog) is None
    assert planner_ranker("learned", tmp_path, catalog) is None
    plain = run_plan(tools, catalog, inputs, {"i7"})
    expected = [c.item_id for c in fuse([tools[n].run_typed(inputs, 100) for n in tools])]
    assert [c.item_id for c in plain.candidates] == [i for i in expected if i != "i7"]
    assert "ranker" not in plain.timings
    builder = FeatureBuilder(catalog)
    n = len(builder.names)
    model = LogisticModel(np.zeros(n), 0.0, np.zeros(n), np.ones(n))
    model.coef[builder.col["log_pop"]] = 1.0
    folder = install_ranker(tmp_path, catalog, LearnedRanker("logistic", model, builder))
    assert folder.parent.name == "ranker"
    assert planner_ranker("rrf", tmp_path, catalog) is None  # the setting switches it off
    ranker = planner_ranker("learned", tmp_path, catalog)
    assert ranker is not None
    learned = run_plan(tools, catalog, inputs, {"i7"}, ranker=ranker)
    assert [c.item_id for c in learned.candidates] == ["i99", "i50", "i2", "i1"]
    assert "ranker" in learned.timings
    again = load_ranker(tmp_path, catalog)
    assert again is not None and again.kind == "logistic"
    assert np.allclose(again.scores(inputs, plain.results, ["i1", "i2"]),
                       ranker.scores(inputs, plain.results, ["i1", "i2"]))


def test_lambdarank_artifact_round_trip_and_damage(tmp_path: Path, catalog: Catalog) -> None:
    rng = random.Random(3)
    builder = FeatureBuilder(catalog, priors={"i3": 2})
    groups = [synthetic_group(rng) for _ in range(40)]
    xs, ys, sizes = [], [], []
    for inputs, res, target in groups:
        ids = [c.item_id for c in fuse(res)]
        xs.append(builder.matrix(inputs, res, ids))
        ys.append(np.array([float(i == target) for i in ids]))
        sizes.append(len(ids))
    model = train_lambdarank(np.vstack(xs), np.concatenate(ys), sizes, rounds=10)
    ranker = LearnedRanker("lambdarank", model, builder, meta={"priors": {"i3": 2}})
    folder = install_ranker(tmp_path, catalog, ranker)
    loaded = load_ranker(tmp_path, catalog)
    assert loaded is not None and loaded.kind == "lambdarank"
    inputs, res, _ = groups[0]
    ids = [c.item_id for c in fuse(res)]
    assert np.allclose(loaded.scores(inputs, res, ids), ranker.scores(inputs, res, ids))
    assert loaded.features.log_prior[loaded.features.items.index["i3"]] == pytest.approx(
        math.log1p(2))
    assert set(loaded.importance()) == set(builder.names)
    (folder / "model.txt").write_text("tree\nnot a model", encoding="utf-8")
    with pytest.raises(ArtifactError, match="convrec train ranker"):
        load_ranker(tmp_path, catalog)


def test_ranker_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().ranker == "learned"
    monkeypatch.setenv("CONVREC_RANKER", "rrf")
    assert load_settings().ranker == "rrf"
    monkeypatch.setenv("CONVREC_RANKER", "magic")
    with pytest.raises(UserFacingError, match="ranker"):
        load_settings()
