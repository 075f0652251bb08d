"""The co-mention tool: counts from dialogues (and from rating sequences), evidence, artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from catalog.errors import ArtifactError, DataError
from catalog.models import Catalog, Interactions, Item
from tools.base import ProfileInputs, ToolResources, ToolState
from tools.comention import (
    SOURCE_DIALOGUES,
    SOURCE_RATINGS,
    CoMentionTable,
    CoMentionTool,
    Conversation,
    active_dialogue_folder,
    catalog_resolver,
    install_dialogue_table,
    read_redial,
    table_from_conversations,
    table_from_ratings,
)

TITLES = {"alien": ("Alien", 1979, ["sci-fi", "horror"]), "aliens": ("Aliens", 1986, ["sci-fi"]),
          "blade": ("Blade Runner", 1982, ["sci-fi"]), "shining": ("The Shining", 1980, ["horror"]),
          "notebook": ("The Notebook", 2004, ["romance"])}


def small_catalog(timestamps: bool = True) -> Catalog:
    """Five films; u1 and u2 rate alien then aliens highly, u3 rates aliens before alien."""
    items = {i: Item(id=i, title=t, year=y, genres=g,
                     attributes={"redial_name": f"{t} ({y})"})
             for i, (t, y, g) in TITLES.items()}
    rows = [("u1", "alien", 5, 1), ("u1", "aliens", 5, 2), ("u1", "notebook", 1, 3),
            ("u2", "alien", 4, 10), ("u2", "blade", 2, 11), ("u2", "aliens", 4, 12),
            ("u3", "aliens", 5, 20), ("u3", "alien", 5, 21)]
    users, rated, ratings, times = zip(*rows, strict=True)
    inter = Interactions(np.array(users, dtype=object), np.array(rated, dtype=object),
                         np.array(ratings, dtype=np.float32),
                         np.array(times, dtype=np.int64) if timestamps else None)
    return Catalog(name="small", items=items, interactions=inter)


def conversations() -> list[Conversation]:
    """Aliens follows Alien in 3 conversations, Blade Runner in 1; The Shining follows horror."""
    convs = [Conversation(f"d{n}", [(["alien"], ["aliens"])]) for n in range(3)]
    convs.append(Conversation("d3", [(["alien"], ["blade"]), (["alien", "blade"], ["aliens"])]))
    convs.append(Conversation("d4", [(["genre:horror"], ["shining"])]))
    return convs


@pytest.fixture
def catalog() -> Catalog:
    return small_catalog()


def test_counts_are_conversations_not_mentions(catalog: Catalog) -> None:
    table = table_from_conversations(conversations(), catalog)
    row = table.seed_index["alien"]
    counts = dict(zip(table.item_ids, table.counts[row].toarray().ravel().tolist(), strict=True))
    assert counts["aliens"] == 4 and counts["blade"] == 1 and counts["alien"] == 0
    assert table.seed_totals[row] == 4
    assert table.item_prior("aliens") == 4 and table.item_prior("notebook") == 0
    assert table.source == SOURCE_DIALOGUES and table.n_conversations == 5


def test_tool_ranks_by_count_with_its_own_evidence(catalog: Catalog) -> None:
    tool = CoMentionTool(table=table_from_conversations(conversations(), catalog), catalog=catalog)
    result = tool.run_typed(ProfileInputs(liked_items=["alien"]), k=5)
    assert result.error is None
    assert [c.item_id for c in result.candidates] == ["aliens", "blade"]
    top = result.candidates[0].evidence[0]
    assert top.tool == "comention" and top.kind == "comention"
    assert top.text == "Aliens was recommended after Alien in 4 conversations."
    assert top.data["n_conversations"] == 4 and top.data["seed_id"] == "alien"
    assert top.data["n_seed_conversations"] == 4
    one = result.candidates[1].evidence[0]
    assert one.text == "Blade Runner was recommended after Alien in 1 conversation."


def test_entity_seeds_and_exclusions(catalog: Catalog) -> None:
    tool = CoMentionTool(table=table_from_conversations(conversations(), catalog), catalog=catalog)
    by_genre = tool.run_typed(ProfileInputs(entities=["genre:horror"]), k=5).candidates
    assert [c.item_id for c in by_genre] == ["shining"]
    assert by_genre[0].evidence[0].text.startswith("The Shining was recommended after horror")
    state = ToolState(excluded_ids={"aliens"})
    assert [c.item_id for c in tool.score(ProfileInputs(liked_items=["alien"]), 5, state)] == [
        "blade"]
    narrowed = tool.score(ProfileInputs(liked_items=["alien"]), 5,
                          ToolState(candidate_ids={"blade", "notebook"}))
    assert [c.item_id for c in narrowed] == ["blade"]
    assert tool.score(ProfileInputs(liked_items=["nope"]), 5, ToolState()) == []


def test_ratings_fallback_follows_time_order(catalog: Catalog) -> None:
    table = table_from_ratings(catalog)
    assert table.source == SOURCE_RATINGS
    a, b = table.seed_index["alien"], table.item_index["aliens"]
    assert table.counts[a, b] == 2  # u1 and u2 rated Aliens after Alien; u3 the other way
    assert table.counts[b, a] == 1
    assert table.counts[a, table.item_index["notebook"]] == 0  # a low rating never follows
    tool = CoMentionTool(table=table, catalog=catalog)
    top = tool.run_typed(ProfileInputs(liked_items=["alien"]), k=3).candidates[0]
    assert top.item_id == "aliens"
    assert top.evidence[0].text == "2 people rated Aliens 4+ soon after rating Alien 4+."
    assert top.evidence[0].data["n_users"] == 2


def test_read_redial_keeps_only_the_training_dialogues(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "d.jsonl"
    rows = [{"dialog_id": "1", "entity": ["Alien (1979)", "horror"], "rec": ["Aliens (1986)"]},
            {"dialog_id": "1", "entity": ["Alien (1979)", "Aliens (1986)"],
             "rec": ["Blade Runner (1982)", "Unknown Film (1999)"]},
            {"dialog_id": "2", "entity": ["Alien (1979)"], "rec": ["The Notebook (2004)"]}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    convs = read_redial(path, catalog_resolver(catalog), keep=lambda d: d != "2")
    assert [c.id for c in convs] == ["1"]
    assert convs[0].steps == [(["alien", "genre:horror"], ["aliens"]),
                              (["alien", "aliens"], ["blade"])]
    table = table_from_conversations(convs, catalog)
    assert table.meta["dialogue_ids"] == ["1"]
    assert "notebook" not in {table.item_ids[j] for j in table.counts.indices}
    with pytest.raises(DataError, match="missing dialogue file"):
        read_redial(tmp_path / "nope.jsonl", catalog_resolver(catalog))


def test_installed_dialogue_table_wins_over_the_ratings_fallback(tmp_path: Path,
                                                                 catalog: Catalog) -> None:
    resources = ToolResources(catalog=catalog, cache_dir=tmp_path)
    assert active_dialogue_folder(resources) is None
    assert CoMentionTool.create(resources).table.source == SOURCE_RATINGS  # no dialogues here
    assert "ratings" in CoMentionTool.check_artifacts(resources)
    folder = install_dialogue_table(resources, table_from_conversations(conversations(), catalog))
    assert active_dialogue_folder(resources) == folder
    tool = CoMentionTool.create(resources)
    assert tool.table.source == SOURCE_DIALOGUES
    assert "4 conversations" in tool.run_typed(ProfileInputs(liked_items=["alien"]), 1
                                               ).candidates[0].evidence[0].text
    loaded = CoMentionTable.load(folder, "fix")
    assert (loaded.counts != tool.table.counts).nnz == 0


def test_damaged_table_names_the_fix(tmp_path: Path, catalog: Catalog) -> None:
    resources = ToolResources(catalog=catalog, cache_dir=tmp_path)
    folder = install_dialogue_table(resources, table_from_conversations(conversations(), catalog))
    (folder / "comention_arrays.npz").write_bytes(b"truncated")
    with pytest.raises(ArtifactError, match="convrec train ranker"):
        CoMentionTool.create(resources)
