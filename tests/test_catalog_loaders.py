"""Each catalog loader on real data (ml-100k from the cache, movielens-redial from the data dir)
and the generic format, with the counts the datasets publish."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import Catalog, load_catalog
from catalog.errors import DataError


def test_ml100k_counts_and_knowledge_graph(ml100k: Catalog) -> None:
    assert len(ml100k.items) == 1_682 and len(ml100k.interactions) == 100_000
    assert len(set(ml100k.interactions.user_ids.tolist())) == 943
    assert set(ml100k.interactions.ratings.tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    star_wars = ml100k.items["50"]
    assert star_wars.display_title == "Star Wars (1977)" and "sci-fi" in star_wars.genres
    relations = {t.relation for t in ml100k.triples}
    assert {"director", "actor", "genre", "writer"} <= relations
    assert all(t.head.removeprefix("item:") in ml100k.items for t in ml100k.triples)
    directed = [t for t in ml100k.triples if t.head == "item:50" and t.relation == "director"]
    assert directed, "Star Wars has a director in the Freebase KG"


def test_movielens_redial_join_by_imdb_id(redial_catalog: Catalog) -> None:
    c = redial_catalog
    assert len(c.items) == 9_742 and len(c.interactions) == 100_836
    assert len(set(c.interactions.user_ids.tolist())) == 610
    joined = [i for i in c.items.values() if i.attributes.get("redial_name")]
    assert len(joined) == 4_041  # MovieLens latest-small items found in ReDial by IMDb id
    matrix = c.items["2571"]
    assert matrix.attributes["imdb_id"] == "tt0133093" and matrix.year == 1999
    assert "Lana Wachowski" in matrix.people["director"] and "Keanu Reeves" in matrix.people["star"]
    assert "Neo" in matrix.text
    assert len(c.triples) == 36_184
    assert any(i.tags for i in c.items.values())


def test_generic_format_roundtrip_and_bad_line(tmp_path: Path) -> None:
    folder = tmp_path / "books"
    folder.mkdir()
    items = [{"id": "b1", "title": "Dune", "year": 1965, "genres": ["sci-fi"]},
             {"id": "b2", "title": "Emma", "year": 1815, "genres": ["romance"]}]
    (folder / "items.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")
    (folder / "interactions.csv").write_text("user_id,item_id,rating\nu1,b1,5\nu2,b2,4\n")
    (folder / "triples.csv").write_text("head,relation,tail\nb1,author,Frank Herbert\n")
    c = load_catalog(str(folder), tmp_path / "cache")
    assert sorted(c.items) == ["b1", "b2"] and len(c.interactions) == 2
    assert c.triples[0].tail == "Frank Herbert" and c.source == str(folder.resolve())
    before = c.content_hash()
    (folder / "items.jsonl").write_text(json.dumps(items[0]) + "\n{not json\n")
    with pytest.raises(DataError) as err:
        load_catalog(str(folder), tmp_path / "cache")
    assert "items.jsonl:2" in err.value.one_line()
    (folder / "items.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")
    assert load_catalog(str(folder), tmp_path / "cache").content_hash() == before
