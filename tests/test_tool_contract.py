"""The contract every registered tool passes, on a small known-answer "checkerboard" catalog."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from langchain_core.messages import ToolMessage
from pydantic import BaseModel

from catalog.models import Catalog, Interactions, Item, Triple
from tools.base import (
    Constraints,
    ConvrecTool,
    InputKind,
    ProfileInputs,
    ToolResources,
    ToolResult,
    ToolState,
)
from tools.registry import BUILTIN_TOOLS, ToolLoadError, ToolRegistry

SCIFI = [f"sf{i}" for i in range(12)]
ROMANCE = [f"ro{i}" for i in range(12)]
LIKED = ["sf0", "sf1"]
SCIFI_TEXT = ("A starship crew fights hostile alien robots on a distant planet in outer space; "
              "laser battles, spaceships and a galactic empire.")
ROMANCE_TEXT = ("Two strangers fall in love in Paris; a tender romantic story of a wedding, "
                "kisses, letters and heartbreak.")


def checkerboard_catalog() -> Catalog:
    """Two clusters no signal mixes: sci-fi (director Ann Vega) and romance (director Bo Lind).

    Thirty users are fans of every sci-fi item and rate romance 1; thirty others the reverse.
    Every tool's right answer for a sci-fi profile is obvious: sci-fi items only.
    """
    items: dict[str, Item] = {}
    triples: list[Triple] = []
    for n, (ids, genres, text, director, first_year) in enumerate((
        (SCIFI, ["sci-fi", "action"], SCIFI_TEXT, "Ann Vega", 1980),
        (ROMANCE, ["romance", "drama"], ROMANCE_TEXT, "Bo Lind", 1990),
    )):
        word = ("Star", "Love")[n]
        for i, item_id in enumerate(ids):
            items[item_id] = Item(id=item_id, title=f"{word} Story {i}", year=first_year + i,
                                  genres=genres, text=text, people={"director": [director]},
                                  tags=[genres[0]])
            triples.append(Triple(head=f"item:{item_id}", relation="director",
                                  tail=f"person:{director}"))
            triples += [Triple(head=f"item:{item_id}", relation="genre", tail=f"genre:{g}")
                        for g in genres]
    rows: list[tuple[str, str, float]] = []
    for u in range(60):
        fan_of, other = (SCIFI, ROMANCE) if u < 30 else (ROMANCE, SCIFI)
        rows += [(f"u{u}", item_id, 5.0) for item_id in fan_of]
        rows += [(f"u{u}", item_id, 1.0) for item_id in other[u % 3::3]]
    users, rated, ratings = zip(*rows, strict=True)
    interactions = Interactions(np.array(users, dtype=object), np.array(rated, dtype=object),
                                np.array(ratings, dtype=np.float32))
    names = {"person:Ann Vega": "Ann Vega", "person:Bo Lind": "Bo Lind"}
    names.update({f"genre:{g}": g for g in ("sci-fi", "action", "romance", "drama")})
    return Catalog(name="checkerboard", items=items, interactions=interactions,
                   triples=triples, entity_names=names)


def full_profile(tool: ConvrecTool, **changes: object) -> ProfileInputs:
    """A sci-fi profile filling every input the tool consumes."""
    fields: dict[str, object] = {}
    if InputKind.FREE_TEXT in tool.consumes:
        fields["free_text"] = "a space adventure with alien robots and laser battles"
    if InputKind.LIKED_ITEMS in tool.consumes:
        fields["liked_items"] = list(LIKED)
    if InputKind.ENTITIES in tool.consumes:
        fields["entities"] = ["person:Ann Vega", "genre:sci-fi"]
    fields.update(changes)
    return ProfileInputs.model_validate(fields)


TOOL_NAMES = ToolRegistry().names()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The known-answer catalog."""
    return checkerboard_catalog()


@pytest.fixture(scope="module", params=TOOL_NAMES)
def tool(request: pytest.FixtureRequest, catalog: Catalog,
         tmp_path_factory: pytest.TempPathFactory) -> ConvrecTool:
    """Each registered tool, created through the registry on the known-answer catalog."""
    name: str = request.param
    registry = ToolRegistry()
    try:
        registry.get(name)
    except ToolLoadError as exc:
        module = BUILTIN_TOOLS.get(name, "").partition(":")[0]
        if module and importlib.util.find_spec(module) is None:
            pytest.xfail(f"built-in {name} is not written yet ({module} missing): {exc}")
        raise
    cache: Path = tmp_path_factory.mktemp(f"contract-{name}")
    return registry.create(name, ToolResources(catalog=catalog, cache_dir=cache))


def run(tool: ConvrecTool, profile: ProfileInputs, k: int = 5,
        state: ToolState | None = None) -> ToolResult:
    """Run through the typed entry point and insist there was no error."""
    result = tool.run_typed(profile, k, state)
    assert result.error is None, result.error
    assert result.tool == tool.name
    return result


def test_identity(tool: ConvrecTool) -> None:
    assert tool.name in TOOL_NAMES
    assert tool.description.strip()
    assert tool.consumes and tool.consumes <= set(InputKind)


def test_args_schema_hides_injected_state(tool: ConvrecTool) -> None:
    schema = tool.args_schema
    assert isinstance(schema, type) and issubclass(schema, BaseModel)
    assert {"profile", "k", "state"} <= set(schema.model_fields)
    llm_facing = tool.tool_call_schema.model_json_schema()["properties"]
    assert {"profile", "k"} <= set(llm_facing)
    assert "state" not in llm_facing


def test_invoke_returns_content_and_artifact(tool: ConvrecTool) -> None:
    args = {"profile": full_profile(tool).model_dump(), "k": 3}
    content, artifact = tool._run(**args)
    assert isinstance(content, str) and tool.name in content
    assert isinstance(artifact, ToolResult) and artifact.candidates
    message = tool.invoke({"name": tool.name, "args": args, "id": "call-1", "type": "tool_call"})
    assert isinstance(message, ToolMessage)
    assert isinstance(message.content, str)
    assert isinstance(message.artifact, ToolResult)
    assert message.artifact.model_dump() == artifact.model_dump()
    assert isinstance(tool.invoke(args), str)  # a plain call gives the LLM-facing text only


def test_artifact_shape(tool: ConvrecTool, catalog: Catalog) -> None:
    result = run(tool, full_profile(tool), k=8)
    scores = [c.score for c in result.candidates]
    assert result.candidates
    assert scores == sorted(scores, reverse=True)
    ids = [c.item_id for c in result.candidates]
    assert len(ids) == len(set(ids))
    for candidate in result.candidates:
        assert candidate.item_id in catalog.items
        assert candidate.evidence, f"{candidate.item_id} has no evidence"
        for evidence in candidate.evidence:
            assert evidence.tool == tool.name
            assert evidence.kind and evidence.text.strip()


def test_known_answer_is_the_liked_cluster(tool: ConvrecTool) -> None:
    result = run(tool, full_profile(tool), k=5)
    top = [c.item_id for c in result.candidates]
    assert len(top) >= 3
    assert all(item_id in SCIFI for item_id in top), top


def test_empty_profile_gives_empty_list(tool: ConvrecTool) -> None:
    assert run(tool, ProfileInputs(), k=5).candidates == []


def test_unknown_ids_do_not_crash(tool: ConvrecTool, catalog: Catalog) -> None:
    profile = ProfileInputs(free_text="zzzz qqqq", liked_items=["no-such-item", ""],
                            disliked_items=["nope"], entities=["person:Nobody", "junk"])
    result = run(tool, profile, k=5)
    assert all(c.item_id in catalog.items for c in result.candidates)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_k_is_respected(tool: ConvrecTool, k: int) -> None:
    assert 1 <= len(run(tool, full_profile(tool), k=k).candidates) <= k


def test_constraints_are_respected(tool: ConvrecTool, catalog: Catalog) -> None:
    constraints = Constraints(year_min=1984, year_max=1989, genres_excluded=["drama"],
                              exclude_item_ids=["sf5"])
    result = run(tool, full_profile(tool, constraints=constraints), k=10)
    assert result.candidates
    assert all(constraints.allows(catalog.items[c.item_id]) for c in result.candidates)


def test_state_narrows_and_excludes(tool: ConvrecTool) -> None:
    inside = {"sf6", "sf7", "ro3"}
    narrowed = run(tool, full_profile(tool), k=10, state=ToolState(candidate_ids=inside))
    assert narrowed.candidates
    assert {c.item_id for c in narrowed.candidates} <= inside
    excluded = {"sf2", "sf3"}
    result = run(tool, full_profile(tool), k=10, state=ToolState(excluded_ids=excluded))
    assert result.candidates
    assert not {c.item_id for c in result.candidates} & excluded


def test_injected_state_reaches_the_tool_through_invoke(tool: ConvrecTool) -> None:
    args = {"profile": full_profile(tool).model_dump(), "k": 10,
            "state": ToolState(excluded_ids={"sf2", "sf3"})}
    message = tool.invoke({"name": tool.name, "args": args, "id": "call-2", "type": "tool_call"})
    ids = {c.item_id for c in message.artifact.candidates}
    assert ids and not ids & {"sf2", "sf3"}


def test_failures_come_back_as_results(tool: ConvrecTool,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("index exploded")

    monkeypatch.setattr(type(tool), "score", boom)
    result = tool.run_typed(full_profile(tool), 5)
    assert result.candidates == []
    assert result.error and "index exploded" in result.error
