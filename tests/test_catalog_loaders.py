"""Each catalog loader on real data and the generic format, with the counts the datasets publish."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from catalog import Catalog, Interaction, Interactions, load_catalog
from catalog.compact import DATA_FILES, RATINGS_FILE, write_compact
from catalog.errors import DataError
from catalog.movielens_redial import EMBEDDED_DIR, load_embedded

ROOT = Path(__file__).resolve().parents[1]


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
    times = c.interactions.timestamps
    assert times is not None and times.dtype == np.int64 and len(times) == len(c.interactions)
    # "created ... between March 29, 1996 and September 24, 2018" (MovieLens README.txt)
    assert 827_971_200 <= times.min() and times.max() < 1_537_833_600


def test_embedded_folder_is_small_licensed_and_complete() -> None:
    names = sorted(p.name for p in EMBEDDED_DIR.iterdir())
    assert names == sorted([*DATA_FILES, "README.txt", "ATTRIBUTION.md"])
    assert sum(p.stat().st_size for p in EMBEDDED_DIR.iterdir()) <= 10 * 1024 * 1024
    licence = (EMBEDDED_DIR / "README.txt").read_text(encoding="utf-8")
    assert "redistribute the data set, including transformations" in licence
    attribution = (EMBEDDED_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for needed in ("Harper", "Konstan", "CC BY 4.0", "Li,", "2018", "MIT", "Wang", "2023"):
        assert needed in attribution, needed


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_repository_size_allows_only_the_catalog_folder() -> None:
    """CI's size check: the embedded catalog folder (<= 10 MB) is the only data committed."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                             capture_output=True).stdout.decode().split("\0")
    files = [ROOT / f for f in tracked if f and (ROOT / f).is_file()]
    folder = [f for f in files if "/data/movielens-redial/" in f.as_posix()]
    assert sum(f.stat().st_size for f in folder) <= 10 * 1024 * 1024
    big = [f.name for f in files if f not in folder and f.stat().st_size > 2 * 1024 * 1024]
    assert not big, f"large tracked files (data, models and caches stay out of the repo): {big}"
    raw = {"ratings.csv", "kg.json", "id2info.json", "u.data", "ml-100k.inter", "ml-100k.kg",
           "ml-100k.item"}
    assert not [f for f in files if f.name in raw or f.suffix in (".gguf", ".safetensors")]


def test_regeneration_reproduces_the_committed_files(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "movielens-redial"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_catalog_data.py"),
                    "--data-dir", str(shared_data), "--out", str(out)],
                   check=True, capture_output=True, text=True)
    for name in [*DATA_FILES, "README.txt"]:
        new, committed = (out / name).read_bytes(), (EMBEDDED_DIR / name).read_bytes()
        if new != committed and name.endswith(".gz"):
            same = gzip.decompress(new) == gzip.decompress(committed)
            pytest.fail(f"{name}: the bytes differ; the content is "
                        f"{'the same (another zlib?)' if same else 'different'}")
        assert hashlib.sha256(new).hexdigest() == hashlib.sha256(committed).hexdigest(), name


def test_joined_and_embedded_catalogs_are_the_same(shared_data: Path,
                                                    redial_catalog: Catalog) -> None:
    joined = load_catalog("movielens-redial", Path("/nonexistent"), shared_data)
    assert joined.content_hash() == redial_catalog.content_hash()
    assert list(joined.items) == list(redial_catalog.items)
    assert np.array_equal(joined.interactions.timestamps, redial_catalog.interactions.timestamps)


def test_compact_roundtrip_gives_the_same_bytes(redial_catalog: Catalog, tmp_path: Path) -> None:
    for path in write_compact(redial_catalog, tmp_path):
        assert path.read_bytes() == (EMBEDDED_DIR / path.name).read_bytes(), path.name


@pytest.mark.parametrize("damage", ["missing", "truncated", "garbage", "bad-row"])
def test_damaged_embedded_file_names_file_and_fix(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "movielens-redial"
    shutil.copytree(EMBEDDED_DIR, folder)
    path = folder / RATINGS_FILE
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "garbage":
        path.write_bytes(b"not gzip at all")
    else:
        text = gzip.decompress(path.read_bytes()).decode().replace("\n1\t1\t4\t", "\n1\t1\t", 1)
        path.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(DataError) as err:
        load_embedded(folder)
    line = err.value.one_line()
    assert str(path) in line and "scripts/build_catalog_data.py" in line and "\n" not in line
    if damage == "bad-row":
        assert f"{path}:2: 3 fields, expected 4" in line


def test_interactions_timestamps_are_optional_and_kept_by_select() -> None:
    timed = Interactions.from_records([Interaction(user_id="u", item_id="a", rating=4, timestamp=7),
                                       Interaction(user_id="v", item_id="b", rating=2, timestamp=9)])
    assert timed.timestamps is not None and timed.timestamps.tolist() == [7, 9]
    assert [r.timestamp for r in timed] == [7, 9]
    later = timed.select(timed.timestamps > 8)
    assert later.user_ids.tolist() == ["v"] and later.timestamps.tolist() == [9]
    untimed = Interactions.from_records([Interaction(user_id="u", item_id="a", rating=4),
                                         Interaction(user_id="v", item_id="b", rating=2,
                                                     timestamp=9)])
    assert untimed.timestamps is None and untimed.select(np.array([1])).timestamps is None
    positional = Interactions(np.array(["u"], dtype=object), np.array(["a"], dtype=object),
                              np.array([4.0], dtype=np.float32))  # the three-column form
    assert positional.timestamps is None and [r.timestamp for r in positional] == [None]
    with pytest.raises(ValueError):
        Interactions(positional.user_ids, positional.item_ids, positional.ratings,
                     np.array([1, 2], dtype=np.int64))


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
