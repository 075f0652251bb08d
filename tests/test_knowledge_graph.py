"""Knowledge graph: building, caching, expansion and paths on known-answer and real data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from catalog import Catalog, Interactions, Item, Triple
from knowledge_graph import (
    EntityIndex,
    ExpansionSettings,
    KGExpander,
    build_graph,
    display_name,
    graph_key,
    hub_factor,
    load_or_build,
    normalize_name,
)
from knowledge_graph.graph import graph_path

ROOT = Path(__file__).resolve().parents[1]


def tiny_catalog() -> Catalog:
    """Six films: two share Ridley Scott, two share James Cameron, all share the genre 'film'."""

    def item(i: str, title: str, year: int, genres: list[str], **people: list[str]) -> Item:
        return Item(id=i, title=title, year=year, genres=["film", *genres], people=people)

    items = [
        item("1", "Alien", 1979, ["horror"], director=["Ridley Scott"],
             star=["Sigourney Weaver"]),
        item("2", "Blade Runner", 1982, ["sci-fi"], director=["Ridley Scott"],
             star=["Harrison Ford"]),
        item("3", "Aliens", 1986, ["action"], director=["James Cameron"],
             star=["Sigourney Weaver"]),
        item("4", "The Terminator", 1984, ["action"], director=["James Cameron"]),
        item("5", "Star Wars", 1977, ["sci-fi"], director=["George Lucas"],
             star=["Harrison Ford"]),
        item("6", "Amelie", 2001, ["comedy"], director=["Jean-Pierre Jeunet"]),
    ]
    items[0].tags = ["space"]
    items[4].tags = ["space"]
    triples = [
        Triple(head="item:1", relation="director", tail="person:Ridley Scott"),  # duplicate
        Triple(head="item:3", relation="prequel", tail="item:1"),
        Triple(head="item:4", relation="writer", tail="fb:m.0abc"),
        Triple(head="fb:m.0abc", relation="writer", tail="item:6"),  # entity first: reoriented
        Triple(head="item:999", relation="director", tail="person:Nobody"),  # not in catalog
        Triple(head="person:Ridley Scott", relation="born_in", tail="place:South Shields"),
    ]
    return Catalog(name="tiny", items={i.id: i for i in items},
                   interactions=Interactions.from_records([]), triples=triples)


@pytest.fixture()
def tiny() -> Catalog:
    return tiny_catalog()


@pytest.fixture()
def expander(tiny: Catalog) -> KGExpander:
    return KGExpander(build_graph(tiny))


def ids(results: list) -> list[str]:  # type: ignore[type-arg]
    return [r.item_id for r in results]


def test_nodes_carry_kind_and_display_name(tiny: Catalog) -> None:
    g = build_graph(tiny).graph
    assert g.nodes["item:1"] == {"kind": "item", "name": "Alien (1979)", "item_id": "1"}
    assert g.nodes["person:Ridley Scott"]["kind"] == "person"
    assert g.nodes["person:Ridley Scott"]["name"] == "Ridley Scott"
    assert g.nodes["genre:horror"] == {"kind": "genre", "name": "horror"}
    assert g.nodes["tag:space"]["kind"] == "tag"
    assert g.nodes["decade:1970s"]["name"] == "1970s"
    assert g.nodes["fb:m.0abc"] == {"kind": "entity", "name": ""}
    assert g.has_edge("item:1", "decade:1970s", key="decade")
    assert g.has_edge("item:1", "person:Sigourney Weaver", key="star")


def test_metadata_and_triple_edges_are_deduplicated(tiny: Catalog) -> None:
    kg = build_graph(tiny)
    assert list(kg.graph.get_edge_data("item:1", "person:Ridley Scott")) == ["director"]
    assert kg.item_degree("person:Ridley Scott") == 2
    assert kg.item_degree("genre:film") == 6


def test_triples_are_oriented_and_unknown_items_skipped(tiny: Catalog) -> None:
    kg = build_graph(tiny)
    assert kg.graph.has_edge("item:6", "fb:m.0abc", key="writer")
    assert not kg.graph.has_edge("fb:m.0abc", "item:6")
    assert "item:999" not in kg.graph and "person:Nobody" not in kg.graph
    assert kg.graph.has_edge("person:Ridley Scott", "place:South Shields")
    assert "place:South Shields" not in kg.entity_index  # not linked to an item: not scored
    assert kg.graph.has_edge("item:3", "item:1", key="prequel")
    assert len(kg.link_heads) == 1


def test_shared_director_is_linked_by_a_director_path(expander: KGExpander) -> None:
    results = expander.expand(["1"], k=10)
    by_id = {r.item_id: r for r in results}
    path = by_id["2"].path
    assert path.text == "Alien (1979) -director-> Ridley Scott <-director- Blade Runner (1982)"
    assert path.nodes == ("item:1", "person:Ridley Scott", "item:2")
    assert path.relations == ("director", "director")
    assert path.seed == "item:1" and path.seed_kind == "item"
    assert path.data()["nodes"] == ["item:1", "person:Ridley Scott", "item:2"]


def test_genre_hub_shared_by_all_items_ranks_below_the_director_link(
        expander: KGExpander) -> None:
    results = expander.expand(["1"], k=10)
    order = ids(results)
    # Amelie shares only the 'film' genre (with every item): reachable, but last.
    assert order[-1] == "6"
    assert order.index("2") < order.index("6")
    assert results[-1].path.relations == ("genre", "genre")
    assert results[-1].score < 0.1 * results[order.index("2")].score


def test_direct_item_relation_gives_a_one_hop_path(expander: KGExpander) -> None:
    by_id = {r.item_id: r for r in expander.expand(["1"], k=10)}
    assert by_id["3"].path.text == "Alien (1979) <-prequel- Aliens (1986)"
    assert ids(expander.expand(["1"], k=1)) == ["3"]  # prequel (1.2) beats a director (1.0)


def test_nameless_entity_is_named_by_its_relation(expander: KGExpander) -> None:
    by_id = {r.item_id: r for r in expander.expand(["4"], k=10)}
    assert by_id["6"].path.text == (
        "The Terminator (1984) -writer-> (a writer) <-writer- Amelie (2001)")
    assert by_id["6"].path.nodes[1] == "fb:m.0abc"


def test_seed_entities_score_their_items(expander: KGExpander) -> None:
    results = expander.expand(entities=["person:James Cameron"], k=10)
    assert sorted(ids(results)) == ["3", "4"]
    assert results[0].path.text in {"James Cameron <-director- Aliens (1986)",
                                    "James Cameron <-director- The Terminator (1984)"}
    assert results[0].path.seed_kind == "entity"


def test_seeds_disliked_and_excluded_are_never_returned(expander: KGExpander) -> None:
    got = ids(expander.expand(["1", "2"], disliked=["5"], excluded_ids={"3"}, k=10))
    assert not {"1", "2", "3", "5"} & set(got)
    assert got


def test_dislikes_subtract(expander: KGExpander) -> None:
    base = {r.item_id: r.score for r in expander.expand(["1"], k=10)}
    with_dislike = {r.item_id: r.score for r in expander.expand(["1"], disliked=["3"], k=10)}
    # The Terminator shares James Cameron with the disliked Aliens: it drops out or scores less.
    assert with_dislike.get("4", 0.0) < base["4"]
    assert with_dislike["2"] == pytest.approx(base["2"], rel=0.2)


def test_keep_and_candidate_set_are_honoured(expander: KGExpander) -> None:
    got = ids(expander.expand(["1"], k=10, keep=lambda i: i != "3"))
    assert "3" not in got and got[0] == "2"
    assert ids(expander.expand(["1"], k=10, candidate_ids={"4", "6"})) == ["4", "6"]


def test_unknown_ids_and_empty_inputs(expander: KGExpander) -> None:
    assert expander.expand([], k=10) == []
    assert expander.expand(["nope"], entities=["person:Nobody"], k=10) == []
    assert expander.expand(disliked=["1"], k=10) == []
    assert ids(expander.expand(["nope", "1"], k=10)) == ids(expander.expand(["1"], k=10))
    assert expander.expand(["1"], k=0) == []


def test_k_and_ties_are_deterministic(tiny: Catalog) -> None:
    kg = build_graph(tiny)
    prior = np.zeros(len(kg.item_ids), dtype=np.float32)
    prior[kg.item_index["4"]] = 10.0
    ex = KGExpander(kg, prior=prior)
    got = ex.expand(entities=["person:James Cameron"], k=1)
    assert ids(got) == ["4"]  # equal scores: the prior breaks the tie


def test_relation_weights_are_configurable(tiny: Catalog) -> None:
    weights = {"director": 0.0, "prequel": 0.0, "star": 1.0}
    ex = KGExpander(build_graph(tiny), ExpansionSettings(relation_weights=weights,
                                                         default_weight=0.0))
    results = ex.expand(["1"], k=10)
    assert ids(results) == ["3"]
    assert results[0].path.relations == ("star", "star")


def test_hub_factor_shrinks_with_degree() -> None:
    degrees = np.array([1, 10, 100, 1000])
    for mode in ("log", "idf"):
        f = hub_factor(degrees, 1000, mode)
        assert np.all(np.diff(f) < 0) and f.max() <= 1.0 and f.min() > 0
    assert np.all(hub_factor(degrees, 1000, "none") == 1.0)
    with pytest.raises(ValueError):
        hub_factor(degrees, 1000, "bogus")


def test_cache_is_keyed_and_building_twice_is_a_noop(tiny: Catalog, tmp_path: Path) -> None:
    kg, built = load_or_build(tiny, tmp_path)
    assert built and graph_path(tmp_path).is_file()
    mtime = os.stat(graph_path(tmp_path)).st_mtime_ns
    again, built_again = load_or_build(tiny, tmp_path)
    assert not built_again and os.stat(graph_path(tmp_path)).st_mtime_ns == mtime
    assert again.catalog_hash == graph_key(tiny) == kg.catalog_hash
    assert again.entity_ids == kg.entity_ids and again.item_index == kg.item_index
    assert set(again.graph.edges(keys=True)) == set(kg.graph.edges(keys=True))
    assert ids(KGExpander(again).expand(["1"], k=5)) == ids(KGExpander(kg).expand(["1"], k=5))


def test_corrupt_or_stale_cache_is_rebuilt(tiny: Catalog, tmp_path: Path) -> None:
    load_or_build(tiny, tmp_path)
    graph_path(tmp_path).write_bytes(b"not a pickle")
    kg, built = load_or_build(tiny, tmp_path)
    assert built and kg.item_degree("person:Ridley Scott") == 2
    changed = tiny_catalog()
    changed.items["6"].people["director"] = ["Ridley Scott"]
    kg2, built2 = load_or_build(changed, tmp_path)
    assert built2 and kg2.item_degree("person:Ridley Scott") == 3


def test_entity_index_links_names(tiny: Catalog) -> None:
    idx = EntityIndex.from_graph(build_graph(tiny))
    assert idx.lookup("Ridley Scott") == ["person:Ridley Scott"]
    assert idx.lookup("ridley  scot") == ["person:Ridley Scott"]  # fuzzy
    assert idx.lookup("Scott") == ["person:Ridley Scott"]  # surname
    assert idx.lookup("science fiction") == ["genre:sci-fi"]  # genre alias
    assert idx.lookup("comedies") == ["genre:comedy"]
    assert idx.lookup("action movies") == ["genre:action"]
    assert idx.lookup("70s") == ["decade:1970s"]
    assert idx.lookup("jean pierre jeunet") == ["person:Jean-Pierre Jeunet"]
    assert idx.lookup("space") == ["tag:space"]
    assert idx.lookup("space", kinds=["genre"]) == []
    assert idx.lookup("zzzz") == [] and idx.lookup("   ") == []
    assert idx.lookup("m.0abc") == []  # nameless entities are not linkable
    assert idx.display_name("person:James Cameron") == "James Cameron"


def test_display_name_and_normalisation(tiny: Catalog) -> None:
    kg = build_graph(tiny)
    assert display_name(kg, "person:George Lucas") == "George Lucas"
    assert display_name(kg, "fb:m.0abc") == "(a writer)"
    assert display_name(kg, "fb:m.0abc", "actor") == "(an actor)"
    assert normalize_name("  Amélie   Poulain! ") == "amelie poulain"
    assert normalize_name("Dan O'Bannon") == "dan obannon"


def test_knowledge_graph_does_not_import_agent_tools_or_textual() -> None:
    code = ("import sys, knowledge_graph; bad = sorted(m for m in sys.modules "
            "if m.split('.')[0] in {'agent', 'tools', 'textual', 'tui'}); print(bad); "
            "sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def synthetic_catalog(n_items: int, seed: int = 0) -> Catalog:
    """A random catalog shaped like movielens-redial (genres, people, tags, decades).

    Items 0 and 1 share a director nobody else has, so item 1 must top item 0's expansion.
    """
    rng = np.random.default_rng(seed)
    genres = [f"g{n}" for n in range(20)]
    n_people = n_items * 2
    items: dict[str, Item] = {}
    for i in range(n_items):
        people = {"director": [f"D{rng.integers(n_people)}"],
                  "writer": [f"W{w}" for w in rng.integers(n_people, size=2)],
                  "star": [f"S{s}" for s in rng.zipf(1.3, size=3) % n_people]}
        items[str(i)] = Item(
            id=str(i), title=f"Film {i}", year=int(rng.integers(1920, 2020)),
            genres=list(rng.choice(genres, size=int(rng.integers(1, 4)), replace=False)),
            people=people, tags=[f"t{t}" for t in rng.zipf(1.5, size=2) % 2000])
    items["0"].people["director"] = ["Unique Director"]
    items["1"].people["director"] = ["Unique Director"]
    return Catalog(name=f"synthetic-{n_items}", items=items,
                   interactions=Interactions.from_records([]))


def test_synthetic_10k_graph_finds_the_planted_director_link() -> None:
    kg = build_graph(synthetic_catalog(10_000))
    results = KGExpander(kg).expand(["0"], k=10)
    assert results[0].item_id == "1"
    assert results[0].path.nodes == ("item:0", "person:Unique Director", "item:1")
    assert "-director-> Unique Director <-director- Film 1 (" in results[0].path.text


# --- real data --------------------------------------------------------------------------


def test_redial_alien_reaches_ridley_scott_films(redial_catalog: Catalog) -> None:
    alien = [i.id for i in redial_catalog.items.values()
             if i.title == "Alien" and i.year == 1979]
    assert len(alien) == 1
    scott = {i.id for i in redial_catalog.items.values()
             if "Ridley Scott" in i.people.get("director", [])} - set(alien)
    assert len(scott) >= 5
    results = KGExpander(build_graph(redial_catalog)).expand(alien, k=10)
    hits = [r for r in results if r.item_id in scott]
    assert len(hits) >= 3  # e.g. Alien: Covenant, Prometheus, Blade Runner
    path = hits[0].path
    assert "Ridley Scott" in path.text and "director" in path.text
    assert path.nodes[1] == "person:Ridley Scott"
    assert path.text.startswith("Alien (1979) -director-> Ridley Scott <-director- ")


def test_redial_entity_seed_and_linking(redial_catalog: Catalog) -> None:
    kg = build_graph(redial_catalog)
    idx = EntityIndex.from_graph(kg)
    [scott] = idx.lookup("ridley scot")
    results = KGExpander(kg).expand(entities=[scott], k=20)
    assert results and all(
        "Ridley Scott" in redial_catalog.items[r.item_id].people.get("director", [])
        for r in results)


def test_ml100k_star_wars_expansion(ml100k: Catalog) -> None:
    """What the ml-100k Freebase KG supports for Star Wars (id 50).

    Its KG links Star Wars to The Empire Strikes Back (172) and Return of the Jedi (181) by no
    person: their Freebase directors, writers, producers and cast ids are all different (the
    KB4Rec linking is noisy), so they share only genres, language and country, and KG
    expansion from the liked item alone ranks them around 100th, not in the top 10.
    What the data does support: both are reachable by genre paths, and the five genres Star
    Wars has (action, adventure, romance, sci-fi, war) as seed entities rank the trilogy first.
    """
    kg = build_graph(ml100k)
    popularity = ml100k.popularity()
    prior = np.array([popularity.get(i, 0) for i in kg.item_ids], dtype=np.float32)
    ex = KGExpander(kg, prior=prior)
    results = ex.expand(["50"], k=len(ml100k.items))
    by_id = {r.item_id: r for r in results}
    assert {"172", "181"} <= set(by_id)
    assert "genre" in by_id["172"].path.relations
    top10 = results[:10]
    assert all(r.path.text.startswith("Star Wars (1977) -") for r in top10)
    genres = [f"genre:{g}" for g in ml100k.items["50"].genres]
    assert len(genres) == 5
    trilogy = ids(ex.expand(entities=genres, k=3))
    assert set(trilogy) == {"50", "172", "181"}
    # Naming the genres as well moves the sequels up (they still trail the cast links).
    alone = ids(results)
    with_genres = ids(ex.expand(["50"], entities=genres, k=len(ml100k.items)))
    for sequel in ("172", "181"):
        assert with_genres.index(sequel) < alone.index(sequel)
