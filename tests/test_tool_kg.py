"""The kg_expansion tool: contract, constraints, state, caching, and real-data answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import Catalog, Interaction, Interactions, Item
from knowledge_graph import KnowledgeGraph
from knowledge_graph.graph import graph_path
from tools.base import (
    Constraints,
    ConvrecTool,
    InputKind,
    ProfileInputs,
    ToolResources,
    ToolResult,
    ToolState,
)
from tools.kg_expansion import SHARED_KEY, KGExpansionTool


def small_catalog() -> Catalog:
    """Five films: Alien and Blade Runner share Ridley Scott; every film is a 'drama'."""
    rows = [
        ("1", "Alien", 1979, ["horror"], "Ridley Scott"),
        ("2", "Blade Runner", 1982, ["sci-fi"], "Ridley Scott"),
        ("3", "Thelma & Louise", 1991, ["crime"], "Ridley Scott"),
        ("4", "Aliens", 1986, ["action"], "James Cameron"),
        ("5", "Titanic", 1997, ["romance"], "James Cameron"),
    ]
    items = {i: Item(id=i, title=t, year=y, genres=["drama", *g], people={"director": [d]})
             for i, t, y, g, d in rows}
    ratings = [Interaction(user_id="u1", item_id=i, rating=5.0) for i in ("2", "3", "3")]
    return Catalog(name="small", items=items, interactions=Interactions.from_records(ratings))


@pytest.fixture()
def resources(tmp_path: Path) -> ToolResources:
    return ToolResources(catalog=small_catalog(), cache_dir=tmp_path)


@pytest.fixture()
def tool(resources: ToolResources) -> KGExpansionTool:
    return KGExpansionTool.create(resources)


def liked(*item_ids: str, **kw: object) -> ProfileInputs:
    return ProfileInputs(liked_items=list(item_ids), **kw)  # type: ignore[arg-type]


def ids(candidates: list) -> list[str]:  # type: ignore[type-arg]
    return [c.item_id for c in candidates]


def test_declares_name_and_inputs(tool: KGExpansionTool) -> None:
    assert isinstance(tool, ConvrecTool)
    assert tool.name == "kg_expansion"
    assert KGExpansionTool.consumes == {InputKind.LIKED_ITEMS, InputKind.ENTITIES,
                                        InputKind.DISLIKED_ITEMS}
    assert "director" in tool.description


def test_director_link_ranks_first_with_path_evidence(tool: KGExpansionTool) -> None:
    got = tool.score(liked("1"), 10, ToolState())
    assert ids(got)[:2] == ["3", "2"]  # equal director scores: the more popular first
    ev = got[1].evidence[0]
    assert ev.tool == "kg_expansion" and ev.kind == "kg_path"
    assert ev.text == "Alien (1979) -director-> Ridley Scott <-director- Blade Runner (1982)"
    assert ev.data["nodes"] == ["item:1", "person:Ridley Scott", "item:2"]
    assert ev.data["relations"] == ["director", "director"]
    assert ev.data["seed"] == "item:1"
    # the drama hub links everything, so the Cameron films come last, by genre
    assert set(ids(got)[2:]) == {"4", "5"}
    assert got[-1].evidence[0].data["relations"] == ["genre", "genre"]
    assert got[0].score > 5 * got[-1].score


def test_entity_seed(tool: KGExpansionTool) -> None:
    got = tool.score(ProfileInputs(entities=["person:James Cameron"]), 10, ToolState())
    assert sorted(ids(got)) == ["4", "5"]
    assert got[0].evidence[0].text.startswith("James Cameron <-director- ")
    assert got[0].evidence[0].data["seed_kind"] == "entity"


def test_constraints_are_honoured(tool: KGExpansionTool) -> None:
    assert ids(tool.score(liked("1", constraints=Constraints(year_max=1986)), 10,
                          ToolState())) == ["2", "4"]
    got = ids(tool.score(liked("1", constraints=Constraints(genres_excluded=["sci-fi"])), 10,
                         ToolState()))
    assert "2" not in got and got[0] == "3"
    assert ids(tool.score(liked("1", constraints=Constraints(genres_any=["romance"])), 10,
                          ToolState())) == ["5"]
    assert "3" not in ids(tool.score(
        liked("1", constraints=Constraints(exclude_item_ids=["3"])), 10, ToolState()))


def test_state_candidates_and_exclusions(tool: KGExpansionTool) -> None:
    state = ToolState(candidate_ids={"2", "5", "1"})
    assert ids(tool.score(liked("1"), 10, state)) == ["2", "5"]
    state = ToolState(excluded_ids={"2", "3"})
    assert set(ids(tool.score(liked("1"), 10, state))) == {"4", "5"}


def test_never_returns_seeds_or_disliked(tool: KGExpansionTool) -> None:
    got = ids(tool.score(liked("1", "2", disliked_items=["4"]), 10, ToolState()))
    assert not {"1", "2", "4"} & set(got) and got[0] == "3"


def test_dislike_subtracts(tool: KGExpansionTool) -> None:
    base = {c.item_id: c.score for c in tool.score(liked("1"), 10, ToolState())}
    got = {c.item_id: c.score for c in
           tool.score(liked("1", disliked_items=["4"]), 10, ToolState())}
    assert got.get("5", 0.0) < base["5"]


def test_unknown_ids_ignored_and_empty_inputs(tool: KGExpansionTool) -> None:
    assert tool.score(ProfileInputs(), 10, ToolState()) == []
    assert tool.score(ProfileInputs(disliked_items=["1"]), 10, ToolState()) == []
    assert tool.score(ProfileInputs(liked_items=["zzz"], entities=["person:Nobody"]), 10,
                      ToolState()) == []
    assert ids(tool.score(liked("zzz", "1"), 10, ToolState())) == ids(
        tool.score(liked("1"), 10, ToolState()))
    assert len(tool.score(liked("1"), 2, ToolState())) == 2


def test_run_typed_and_langchain_invoke(tool: KGExpansionTool) -> None:
    result = tool.run_typed(liked("1"), k=3)
    assert isinstance(result, ToolResult) and result.error is None
    assert ids(result.candidates) == ["3", "2", "4"]
    message = tool.invoke({"type": "tool_call", "id": "call-1", "name": "kg_expansion",
                           "args": {"profile": {"liked_items": ["1"]}, "k": 2,
                                    "state": ToolState(excluded_ids={"3"})}})
    assert isinstance(message.artifact, ToolResult)
    assert ids(message.artifact.candidates) == ["2", "4"]
    assert "kg_expansion: 2 candidates" in message.content


def test_graph_is_cached_and_shared(resources: ToolResources) -> None:
    assert KGExpansionTool.build_artifacts(resources) is True
    path = graph_path(resources.artifact_dir("kg"))
    assert path.is_file()
    assert isinstance(resources.shared[SHARED_KEY], KnowledgeGraph)
    assert KGExpansionTool.build_artifacts(resources) is False
    fresh = ToolResources(catalog=small_catalog(), cache_dir=resources.cache_dir)
    mtime = path.stat().st_mtime_ns
    assert KGExpansionTool.build_artifacts(fresh) is False  # loaded from disk, not rebuilt
    assert path.stat().st_mtime_ns == mtime
    tool = KGExpansionTool.create(fresh)
    assert ids(tool.score(liked("1"), 2, ToolState())) == ["3", "2"]


def test_progress_bar_build(tmp_path: Path) -> None:
    res = ToolResources(catalog=small_catalog(), cache_dir=tmp_path, show_progress=True)
    tool = KGExpansionTool.create(res)
    assert ids(tool.score(liked("4"), 1, ToolState())) == ["5"]


# --- real data --------------------------------------------------------------------------


def test_redial_alien_finds_ridley_scott(redial_catalog: Catalog, tmp_path: Path) -> None:
    tool = KGExpansionTool.create(ToolResources(catalog=redial_catalog, cache_dir=tmp_path))
    [alien] = [i.id for i in redial_catalog.items.values()
               if i.title == "Alien" and i.year == 1979]
    got = tool.score(liked(alien), 10, ToolState())
    scott = [c for c in got
             if "Ridley Scott" in redial_catalog.items[c.item_id].people.get("director", [])]
    assert scott, [c.evidence[0].text for c in got]
    text = scott[0].evidence[0].text
    assert "Ridley Scott" in text and "director" in text
    assert alien not in ids(got)
    recent = tool.score(liked(alien, constraints=Constraints(year_min=2010)), 10, ToolState())
    assert recent and all((redial_catalog.items[c.item_id].year or 0) >= 2010 for c in recent)


def test_ml100k_star_wars(ml100k: Catalog, tmp_path: Path) -> None:
    """See tests/test_knowledge_graph.py: ml-100k's KG links 172/181 to 50 only by genre."""
    tool = KGExpansionTool.create(ToolResources(catalog=ml100k, cache_dir=tmp_path))
    genres = [f"genre:{g}" for g in ml100k.items["50"].genres]
    got = tool.score(ProfileInputs(entities=genres), 3, ToolState(excluded_ids={"50"}))
    assert set(ids(got[:2])) == {"172", "181"}
    assert all(c.evidence and c.evidence[0].kind == "kg_path" for c in got)
    from_item = tool.score(liked("50"), 10, ToolState())
    assert len(from_item) == 10 and "50" not in ids(from_item)
    # Shown paths run through named entities only: no "(an actor)" (issue 14).
    shown = [c.evidence[0] for c in from_item if c.evidence]
    assert shown and all(ev.text.startswith("Star Wars (1977) -") for ev in shown)
    assert all(all(ev.data["names"]) and "(a" not in ev.text for ev in shown)
