"""Loader for MovieLens latest-small joined with the ReDial catalog by IMDb id (read by path)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from catalog.errors import DataError
from catalog.models import Catalog, Interactions, Item, Triple
from catalog.text import normalize_genre, split_title_year, unsuffix_article

FIX = "pass --data-dir (or set CONVREC_DATA_DIR) to the folder holding ml-latest-small/ and redial/"
REDIAL_ROLES = ("director", "writer", "star")


def _need(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"missing data file {path}", FIX)
    return path


def _csv(path: Path) -> list[dict[str, str]]:
    with _need(path).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _json(path: Path) -> Any:
    try:
        with _need(path).open(encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise DataError(f"corrupt JSON in {path}: {exc}", FIX) from exc


def load_redial_info(data_dir: Path) -> dict[str, dict[str, Any]]:
    """ReDial's id2info.json keyed by IMDb id."""
    info = _json(data_dir / "redial" / "id2info.json")
    return {v["imdb_id"]: v for v in info.values() if v.get("imdb_id")}


def load_movielens_redial(data_dir: Path) -> Catalog:
    """Load MovieLens latest-small with ReDial plots, people and the named KG joined in.

    Item ids are MovieLens movieIds. Items that match ReDial by IMDb id carry its plot,
    directors, writers and stars; user tags become item tags.

    Raises:
        DataError: when a file is missing or malformed.
    """
    if not data_dir.is_dir():
        raise DataError(f"the data dir {data_dir} does not exist", FIX)
    ml = data_dir / "ml-latest-small"
    try:
        imdb_of = {r["movieId"]: "tt" + r["imdbId"].zfill(7) for r in _csv(ml / "links.csv")}
        redial = load_redial_info(data_dir)
        tags: dict[str, dict[str, int]] = defaultdict(dict)
        for r in _csv(ml / "tags.csv"):
            tag = r["tag"].strip().lower()
            if tag:
                tags[r["movieId"]][tag] = tags[r["movieId"]].get(tag, 0) + 1
        items: dict[str, Item] = {}
        for r in _csv(ml / "movies.csv"):
            mid = r["movieId"]
            title, year = split_title_year(r["title"])
            genres = [normalize_genre(g) for g in r["genres"].split("|")]
            genres = [g for g in genres if g and g != "(no genres listed)"]
            extra = redial.get(imdb_of.get(mid, ""))
            people: dict[str, list[str]] = {}
            text = ""
            attributes = {"original_title": r["title"], "imdb_id": imdb_of.get(mid, "")}
            if extra:
                people = {role: list(extra.get(role) or []) for role in REDIAL_ROLES}
                text = (extra.get("plot") or "").strip()
                attributes["redial_name"] = extra["name"]
                for g in extra.get("genre") or []:
                    if normalize_genre(g) not in genres:
                        genres.append(normalize_genre(g))
            ranked_tags = sorted(tags.get(mid, {}).items(), key=lambda kv: (-kv[1], kv[0]))
            items[mid] = Item(
                id=mid, title=unsuffix_article(title), year=year, genres=genres, text=text,
                people={k: v for k, v in people.items() if v},
                tags=[t for t, _ in ranked_tags[:10]], attributes=attributes,
            )
        ratings = _csv(ml / "ratings.csv")
        interactions = Interactions(
            np.array([r["userId"] for r in ratings], dtype=object),
            np.array([r["movieId"] for r in ratings], dtype=object),
            np.array([float(r["rating"]) for r in ratings], dtype=np.float32),
        )
    except (KeyError, ValueError) as exc:
        raise DataError(f"malformed MovieLens/ReDial file under {data_dir}: {exc}", FIX) from exc
    triples = _named_kg(data_dir, items)
    return Catalog(name="movielens-redial", items=items, interactions=interactions,
                   triples=triples)


def _named_kg(data_dir: Path, items: dict[str, Item]) -> list[Triple]:
    """ReDial's named KG (genre/star/director/writer edges) mapped onto MovieLens ids."""
    redial = data_dir / "redial"
    entity2id: dict[str, int] = _json(redial / "entity2id.json")
    relation2id: dict[str, int] = _json(redial / "relation2id.json")
    kg: dict[str, list[list[int]]] = _json(redial / "kg.json")
    entity2type: dict[str, str] = _json(redial / "entity2type.json")
    name_of = {v: k for k, v in entity2id.items()}
    relation_of = {v: k for k, v in relation2id.items()}
    item_by_redial_name = {
        it.attributes["redial_name"]: it.id for it in items.values() if "redial_name" in it.attributes
    }

    def node(entity: int) -> str | None:
        name = name_of.get(entity)
        if name is None:
            return None
        kind = entity2type.get(name, "")
        if kind == "movie":
            mid = item_by_redial_name.get(name)
            return f"item:{mid}" if mid else None
        if kind == "genre":
            return f"genre:{normalize_genre(name)}"
        return f"person:{name}"

    triples: list[Triple] = []
    seen: set[tuple[str, str, str]] = set()
    for head, edges in kg.items():
        h = node(int(head))
        if h is None:
            continue
        for rel, tail in edges:
            t = node(int(tail))
            if t is None or t == h:
                continue
            key = (h, relation_of[rel], t) if h.startswith("item:") else (t, relation_of[rel], h)
            if key[0].startswith("item:") and key not in seen:
                seen.add(key)
                triples.append(Triple(head=key[0], relation=key[1], tail=key[2]))
    return triples
