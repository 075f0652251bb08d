"""CF model and CFScoringTool: known answers on tiny data, caching, and real MovieLens checks."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from catalog.errors import ArtifactError
from catalog.models import Catalog, Interactions, Item
from tools.base import Constraints, ProfileInputs, ToolResources, ToolState
from tools.cf_scoring import CFScoringTool
from tools.engines.cf_model import ARRAYS_FILE, CFModel, CFParams, is_built, load_or_build

# user -> items they rated 5 (fans); "x" is rated 2 by everyone who rated it.
TINY_FANS = {
    "u1": ["a", "b", "c"],
    "u2": ["a", "b"],
    "u3": ["a", "c"],
    "u4": ["b", "d"],
    "u5": ["d", "e"],
    "u6": ["d", "e"],
}
SCI_FI_ISH = {"sci-fi", "adventure", "action"}


def tiny_catalog() -> Catalog:
    """Six users, six items (f has no fans; x is only ever rated low)."""
    rows: list[tuple[str, str, float]] = []
    for user, liked in TINY_FANS.items():
        rows += [(user, item_id, 5.0) for item_id in liked] + [(user, "x", 2.0)]
    rows.append(("u1", "ghost", 5.0))  # an item that is not in the catalog
    users, items, ratings = zip(*rows, strict=True)
    catalog_items = {i: Item(id=i, title=f"Item {i.upper()}", year=2000 + n,
                             genres=["drama"] if i in "ce" else ["comedy"])
                     for n, i in enumerate("abcdefx")}
    return Catalog(name="tiny", items=catalog_items,
                   interactions=Interactions(np.array(users, dtype=object),
                                             np.array(items, dtype=object),
                                             np.array(ratings, dtype=np.float32)))


@pytest.fixture()
def tiny_resources(tmp_path: Path) -> ToolResources:
    """Resources over the tiny catalog with a fresh cache."""
    return ToolResources(catalog=tiny_catalog(), cache_dir=tmp_path / "cache")


@pytest.fixture()
def tiny_tool(tiny_resources: ToolResources) -> CFScoringTool:
    """The CF tool over the tiny catalog."""
    return CFScoringTool.create(tiny_resources)


def ids(tool: CFScoringTool, k: int = 10, state: ToolState | None = None,
        **profile: object) -> list[str]:
    """Item ids the tool returns for a profile."""
    return [c.item_id for c in tool.score(ProfileInputs.model_validate(profile), k,
                                          state or ToolState())]


def test_similarity_is_shrunk_cosine_over_fans() -> None:
    model = CFModel.build(tiny_catalog(), CFParams(shrink=1.0))
    i = model.index
    # a: u1 u2 u3; b: u1 u2 u4 -> 2 co-fans; cosine denominator sqrt(3*3) + shrink 1.
    assert model.similarities(i["a"], np.array([i["b"]]))[0] == pytest.approx(2 / (3 + 1))
    assert model.similarities(i["b"], np.array([i["a"]]))[0] == pytest.approx(2 / (3 + 1))
    assert model.similarities(i["a"], np.array([i["e"], i["x"], i["f"]])).tolist() == [0, 0, 0]
    assert model.n_fans[i["x"]] == 0 and model.n_fans[i["f"]] == 0
    assert "ghost" not in model.index


def test_scores_and_evidence_known_answer(tiny_tool: CFScoringTool) -> None:
    result = tiny_tool.score(ProfileInputs(liked_items=["a"]), 10, ToolState())
    # c (2 fans, both fans of a) beats b (3 fans, 2 of them fans of a); d shares no fan.
    assert [c.item_id for c in result] == ["c", "b"]
    assert result[0].score == pytest.approx(2 / (math.sqrt(3 * 2) + 10))
    assert result[1].score == pytest.approx(2 / (math.sqrt(3 * 3) + 10))
    top = result[1].evidence[0]
    assert top.kind == "cf_neighbour" and top.tool == "cf_scoring"
    assert top.data["seed_id"] == "a"
    assert (top.data["n_seed_fans"], top.data["n_both"]) == (3, 2)
    assert top.data["share"] == pytest.approx(2 / 3)
    assert top.text == "Of 3 people who rated Item A 4+, 67% (2) also rated Item B 4+."


def test_dislikes_push_similar_items_down(tiny_tool: CFScoringTool) -> None:
    liked_only = {c.item_id: c.score for c in
                  tiny_tool.score(ProfileInputs(liked_items=["b"]), 10, ToolState())}
    with_dislike = {c.item_id: c.score for c in tiny_tool.score(
        ProfileInputs(liked_items=["b"], disliked_items=["e"]), 10, ToolState())}
    assert with_dislike.get("d", 0.0) < liked_only["d"]
    assert with_dislike["a"] == pytest.approx(liked_only["a"])


def test_empty_only_disliked_and_unknown(tiny_tool: CFScoringTool) -> None:
    assert ids(tiny_tool) == []
    assert ids(tiny_tool, disliked_items=["a"]) == []
    assert ids(tiny_tool, liked_items=["nope", "ghost"]) == []
    assert ids(tiny_tool, liked_items=["nope", "a"]) == ids(tiny_tool, liked_items=["a"])
    assert ids(tiny_tool, liked_items=["f"]) == []  # an item nobody liked has no neighbours


def test_filters(tiny_tool: CFScoringTool) -> None:
    assert ids(tiny_tool, liked_items=["a", "b"]) == ["c", "d"]
    assert ids(tiny_tool, liked_items=["a"], disliked_items=["b"]) == ["c"]
    assert ids(tiny_tool, liked_items=["a"], state=ToolState(excluded_ids={"c"})) == ["b"]
    assert ids(tiny_tool, liked_items=["a"], state=ToolState(candidate_ids={"b", "e"})) == ["b"]
    assert ids(tiny_tool, liked_items=["a", "b"], k=1) == ["c"]
    no_drama = Constraints(genres_excluded=["drama"])
    assert ids(tiny_tool, liked_items=["a", "b"], constraints=no_drama) == ["d"]
    assert ids(tiny_tool, liked_items=["a"], constraints=Constraints(year_max=2001)) == ["b"]
    assert ids(tiny_tool, liked_items=["a"],
               constraints=Constraints(exclude_item_ids=["c"])) == ["b"]


def test_build_twice_is_a_noop_and_create_loads(tiny_resources: ToolResources,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert CFScoringTool.build_artifacts(tiny_resources) is True
    assert CFScoringTool.build_artifacts(tiny_resources) is False
    folder = tiny_resources.artifact_dir("cf")
    assert is_built(folder, CFParams())
    assert not is_built(folder, CFParams(n_neighbours=7))

    def no_build(*_: object, **__: object) -> CFModel:
        raise AssertionError("must load from the cache, not rebuild")

    monkeypatch.setattr(CFModel, "build", no_build)
    tool = CFScoringTool.create(tiny_resources)
    assert ids(tool, liked_items=["a", "b"]) == ["c", "d"]


def test_save_load_roundtrip(tmp_path: Path) -> None:
    model = CFModel.build(tiny_catalog())
    model.save(tmp_path)
    loaded = CFModel.load(tmp_path)
    assert loaded.item_ids == model.item_ids and loaded.params == model.params
    assert (loaded.neighbours != model.neighbours).nnz == 0
    assert (loaded.fans != model.fans).nnz == 0
    assert loaded.n_fans.tolist() == model.n_fans.tolist()


def test_corrupt_artifact_is_a_clear_error_and_gets_rebuilt(tmp_path: Path) -> None:
    catalog = tiny_catalog()
    CFModel.build(catalog).save(tmp_path)
    (tmp_path / ARRAYS_FILE).write_bytes(b"not a zip file")
    with pytest.raises(ArtifactError, match="corrupt CF model") as info:
        CFModel.load(tmp_path)
    assert "fix:" in str(info.value)
    model = load_or_build(catalog, tmp_path)
    assert CFModel.load(tmp_path).item_ids == model.item_ids
    with pytest.raises(ArtifactError, match="no CF model"):
        CFModel.load(tmp_path / "empty")


def test_progress_bar_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    resources = ToolResources(catalog=tiny_catalog(), cache_dir=tmp_path, show_progress=True)
    CFScoringTool.build_artifacts(resources)
    assert "CF neighbours" in capsys.readouterr().err
    quiet = ToolResources(catalog=tiny_catalog(), cache_dir=tmp_path / "q")
    CFScoringTool.build_artifacts(quiet)
    assert "CF neighbours" not in capsys.readouterr().err


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def ml_tool(ml100k: Catalog, tmp_path_factory: pytest.TempPathFactory) -> CFScoringTool:
    """The CF tool trained on real ml-100k."""
    cache = tmp_path_factory.mktemp("cf-ml100k")
    return CFScoringTool.create(ToolResources(catalog=ml100k, cache_dir=cache))


def fans_by_item(catalog: Catalog) -> dict[str, set[str]]:
    """Independent recomputation from the raw columns: item id -> users who rated it >= 4."""
    fans: dict[str, set[str]] = defaultdict(set)
    inter = catalog.interactions
    for user, item, rating in zip(inter.user_ids, inter.item_ids, inter.ratings, strict=True):
        if rating >= 4:
            fans[str(item)].add(str(user))
    return fans


def test_star_wars_fans_get_return_of_the_jedi(ml_tool: CFScoringTool, ml100k: Catalog) -> None:
    result = ml_tool.score(ProfileInputs(liked_items=["50", "172"]), 10, ToolState())
    top = [c.item_id for c in result]
    assert "181" in top[:5], [ml100k.items[i].title for i in top]
    genre_hits = sum(bool(SCI_FI_ISH & set(ml100k.items[i].genres)) for i in top)
    assert genre_hits >= 7, [(ml100k.items[i].title, ml100k.items[i].genres) for i in top]
    assert not {"50", "172"} & set(top)


def test_co_rating_evidence_matches_the_raw_data(ml_tool: CFScoringTool,
                                                 ml100k: Catalog) -> None:
    fans = fans_by_item(ml100k)
    result = ml_tool.score(ProfileInputs(liked_items=["50", "172", "no-such-id"],
                                         disliked_items=["1"]), 10, ToolState())
    assert len(result) == 10
    checked = 0
    for candidate in result:
        assert candidate.evidence
        for evidence in candidate.evidence:
            d = evidence.data
            seed_fans = fans[d["seed_id"]]
            n_both = len(seed_fans & fans[candidate.item_id])
            assert d["n_seed_fans"] == len(seed_fans)
            assert d["n_both"] == n_both
            assert d["share"] == pytest.approx(n_both / len(seed_fans))
            assert d["percent"] == round(100 * n_both / len(seed_fans))
            for number in (d["n_seed_fans"], d["n_both"], d["percent"]):
                assert str(number) in evidence.text
            assert ml100k.items[d["seed_id"]].title in evidence.text
            assert ml100k.items[candidate.item_id].title in evidence.text
            checked += 1
    assert checked >= 10


def test_most_contributing_seed_comes_first(ml_tool: CFScoringTool) -> None:
    result = ml_tool.score(ProfileInputs(liked_items=["50", "172"]), 10, ToolState())
    for candidate in result:
        sims = [e.data["similarity"] for e in candidate.evidence]
        assert sims == sorted(sims, reverse=True)
        assert sum(sims) == pytest.approx(candidate.score, rel=1e-5)


def test_larger_real_catalog(redial_catalog: Catalog, tmp_path: Path) -> None:
    tool = CFScoringTool.create(ToolResources(catalog=redial_catalog, cache_dir=tmp_path))
    # MovieLens movieIds: Star Wars IV (260), V (1196) -> VI (1210).
    top = ids(tool, k=5, liked_items=["260", "1196"])
    assert "1210" in top
    assert math.isfinite(tool.score(ProfileInputs(liked_items=["260"]), 1, ToolState())[0].score)
