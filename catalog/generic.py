"""Loader for the documented plain catalog format any domain can use (JSONL + CSV files).

A catalog folder holds:
  items.jsonl        one JSON object per line: {"id", "title", "year"?, "genres"?, "text"?,
                     "people"? {role: [names]}, "tags"?, "attributes"? {str: str}}
  interactions.csv   header `user_id,item_id,rating[,timestamp]`
  triples.csv        optional, header `head,relation,tail`; item nodes are written `item:<id>`
Files are read as UTF-8; bytes that are not UTF-8, and lone surrogates written as JSON escapes,
become U+FFFD.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pydantic import ValidationError

from catalog.errors import DataError
from catalog.models import Catalog, Interaction, Interactions, Item, Triple
from catalog.text import safe_data

FIX = "see the README section 'Bring your own catalog' for the items.jsonl/interactions.csv format"


def load_generic(folder: Path, name: str | None = None) -> Catalog:
    """Load a catalog folder in the generic format.

    Raises:
        DataError: naming the file and line that is missing or malformed.
    """
    items_path = folder / "items.jsonl"
    if not items_path.is_file():
        raise DataError(f"no items.jsonl in {folder}", FIX)
    items: dict[str, Item] = {}
    with items_path.open(encoding="utf-8-sig", errors="replace") as f:  # BOM ok, bad bytes: U+FFFD
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = Item.model_validate(safe_data(json.loads(line)))  # "\\ud800" escapes too
            except (json.JSONDecodeError, ValidationError) as exc:
                first = str(exc).splitlines()[0]
                raise DataError(f"{items_path}:{n}: bad item ({first})", FIX) from exc
            items[item.id] = item
    records: list[Interaction] = []
    inter_path = folder / "interactions.csv"
    if inter_path.is_file():
        records = [_row(Interaction, inter_path, n, r) for n, r in _csv(inter_path)]
    triples: list[Triple] = []
    triples_path = folder / "triples.csv"
    if triples_path.is_file():
        triples = [_row(Triple, triples_path, n, r) for n, r in _csv(triples_path)]
    return Catalog(name=name or folder.name, items=items,
                   interactions=Interactions.from_records(records), triples=triples,
                   source=str(folder.resolve()))


def _csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        return [(n, r) for n, r in enumerate(csv.DictReader(f), 2)]


def _row(model: type, path: Path, n: int, row: dict[str, str]):  # type: ignore[no-untyped-def]
    try:
        clean = {k: v for k, v in row.items() if v not in (None, "")}
        return model.model_validate(clean)
    except ValidationError as exc:
        raise DataError(f"{path}:{n}: bad row ({str(exc).splitlines()[0]})", FIX) from exc
