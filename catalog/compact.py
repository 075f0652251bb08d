"""The compact catalog folder (gzipped items JSONL, ratings TSV, triples TSV): write and read.

The embedded movielens-redial catalog ships in this form. Writing is deterministic (fixed
order, gzip with mtime 0 and a fixed level), so a regeneration from the same sources gives the
same bytes with the same zlib.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import numpy as np

from catalog.errors import DataError
from catalog.models import Catalog, Interactions, Item, Triple

ITEMS_FILE = "items.jsonl.gz"
RATINGS_FILE = "ratings.tsv.gz"
TRIPLES_FILE = "triples.tsv.gz"
DATA_FILES = (ITEMS_FILE, RATINGS_FILE, TRIPLES_FILE)
RATINGS_HEADER = "user_id\titem_id\trating\ttimestamp"
TRIPLES_HEADER = "head\trelation\ttail"


def _gzip(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def _field(value: object) -> str:
    text = str(value)
    if "\t" in text or "\n" in text or "\r" in text:
        raise ValueError(f"a tab or newline in a TSV field: {text!r}")
    return text


def write_compact(catalog: Catalog, folder: Path) -> list[Path]:
    """Write the catalog's items, ratings (with timestamps) and triples into `folder`.

    Returns:
        The paths written, in DATA_FILES order.

    Raises:
        ValueError: when the ratings have no timestamps or a field holds a tab or newline.
    """
    inter = catalog.interactions
    if inter.timestamps is None:
        raise ValueError("the compact format stores a timestamp with every rating")
    folder.mkdir(parents=True, exist_ok=True)
    items = "".join(json.dumps(item.model_dump(mode="json"), ensure_ascii=False,
                               separators=(",", ":")) + "\n" for item in catalog.items.values())
    ratings = [RATINGS_HEADER]
    for u, i, r, t in zip(inter.user_ids, inter.item_ids, inter.ratings, inter.timestamps,
                          strict=True):
        ratings.append(f"{_field(u)}\t{_field(i)}\t{float(r):g}\t{int(t)}")
    triples = [TRIPLES_HEADER]
    triples += [f"{_field(t.head)}\t{_field(t.relation)}\t{_field(t.tail)}"
                for t in catalog.triples]
    paths = []
    for name, text in ((ITEMS_FILE, items), (RATINGS_FILE, "\n".join(ratings) + "\n"),
                       (TRIPLES_FILE, "\n".join(triples) + "\n")):
        path = folder / name
        path.write_bytes(_gzip(text))
        paths.append(path)
    return paths


def _text(path: Path, fix: str) -> str:
    if not path.is_file():
        raise DataError(f"missing catalog file {path}", fix)
    try:
        return gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise DataError(f"damaged catalog file {path} ({exc})", fix) from exc


def _columns(path: Path, header: str, fix: str) -> list[list[str]]:
    """The columns of a TSV table (one split over the whole text: 100k rows in ~0.1 s)."""
    first, _, body = _text(path, fix).partition("\n")
    if first != header:
        raise DataError(f"{path}: the first line is not the header {header!r}", fix)
    width = header.count("\t") + 1
    n_rows = body.count("\n")
    fields = body.replace("\n", "\t").split("\t")[:-1] if body else []
    if len(fields) != n_rows * width or (body and not body.endswith("\n")):
        for n, line in enumerate(body.split("\n"), 2):
            if line.count("\t") != width - 1:
                raise DataError(f"{path}:{n}: {line.count(chr(9)) + 1} fields, expected {width}",
                                fix)
        raise DataError(f"{path}: the last line is not terminated", fix)
    return [fields[c::width] for c in range(width)]


def read_compact(folder: Path, name: str, fix: str) -> Catalog:
    """Load a compact catalog folder written by `write_compact`.

    Raises:
        DataError: naming the file (and line) that is missing, damaged or malformed; `fix`
            says what to do about it.
    """
    items: dict[str, Item] = {}
    path = folder / ITEMS_FILE
    for n, line in enumerate(_text(path, fix).splitlines(), 1):
        try:
            item = Item.model_validate_json(line)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise DataError(f"{path}:{n}: bad item ({str(exc).splitlines()[0]})", fix) from exc
        items[item.id] = item
    users, rated, stars, times = _columns(folder / RATINGS_FILE, RATINGS_HEADER, fix)
    try:
        interactions = Interactions(np.array(users, dtype=object), np.array(rated, dtype=object),
                                    np.array(stars, dtype=np.float32),
                                    np.array(times, dtype=np.int64))
    except ValueError as exc:
        raise DataError(f"{folder / RATINGS_FILE}: a rating or timestamp is not a number",
                        fix) from exc
    heads, relations, tails = _columns(folder / TRIPLES_FILE, TRIPLES_HEADER, fix)
    triples = [Triple(head=h, relation=r, tail=t)
               for h, r, t in zip(heads, relations, tails, strict=True)]
    return Catalog(name=name, items=items, interactions=interactions, triples=triples)
