"""Typed catalog records (items, interactions, triples) and the in-memory Catalog."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
from pydantic import BaseModel, Field

from catalog.text import main_title


class Item(BaseModel):
    """One recommendable item."""

    id: str
    title: str
    year: int | None = None
    genres: list[str] = Field(default_factory=list)
    text: str = Field("", description="Plot or description used for retrieval and evidence.")
    people: dict[str, list[str]] = Field(
        default_factory=dict, description="Role -> names, e.g. {'director': ['Ridley Scott']}."
    )
    tags: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)

    @property
    def display_title(self) -> str:
        """Title with the year in parentheses when known."""
        return f"{self.title} ({self.year})" if self.year else self.title

    @property
    def shown_title(self) -> str:
        """What a person sees: the main title (no trailing alternate names) and the year."""
        title = main_title(self.title)
        return f"{title} ({self.year})" if self.year else title


class Interaction(BaseModel):
    """A user's rating of an item."""

    user_id: str
    item_id: str
    rating: float
    timestamp: int | None = None


class Triple(BaseModel):
    """A knowledge-graph edge; item nodes are catalog item ids prefixed `item:`."""

    head: str
    relation: str
    tail: str


@dataclass
class Interactions:
    """Column-oriented ratings (fast to build CF models from).

    `timestamps` (int64 Unix seconds, one per rating) is optional: None when the source has
    none (or not for every rating). It does not enter the catalog's content hash: no
    artifact reads it.
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.ratings.shape[0]
        columns = (self.user_ids, self.item_ids, self.timestamps)
        if any(c is not None and c.shape[0] != n for c in columns):
            raise ValueError("Interactions columns differ in length")

    def __len__(self) -> int:
        return int(self.ratings.shape[0])

    def __iter__(self) -> Iterator[Interaction]:
        times = self.timestamps if self.timestamps is not None else [None] * len(self)
        for u, i, r, t in zip(self.user_ids, self.item_ids, self.ratings, times, strict=True):
            yield Interaction(user_id=str(u), item_id=str(i), rating=float(r),
                              timestamp=None if t is None else int(t))

    def select(self, rows: np.ndarray) -> Interactions:
        """The ratings at `rows` (a boolean mask or an index array), timestamps included."""
        times = self.timestamps[rows] if self.timestamps is not None else None
        return Interactions(self.user_ids[rows], self.item_ids[rows], self.ratings[rows], times)

    @classmethod
    def from_records(cls, records: list[Interaction]) -> Interactions:
        """Build columns from Interaction records (timestamps kept when every record has one)."""
        timed = bool(records) and all(r.timestamp is not None for r in records)
        return cls(
            np.array([r.user_id for r in records], dtype=object),
            np.array([r.item_id for r in records], dtype=object),
            np.array([r.rating for r in records], dtype=np.float32),
            np.array([r.timestamp for r in records], dtype=np.int64) if timed else None,
        )


@dataclass
class Catalog:
    """Everything the tools are built from: items, interactions and KG triples."""

    name: str
    items: dict[str, Item]
    interactions: Interactions
    triples: list[Triple] = field(default_factory=list)
    entity_names: dict[str, str] = field(default_factory=dict)
    source: str | None = field(default=None, compare=False)
    """What `--catalog` takes to load it again (a folder path); None means `name`."""
    _hash: str | None = field(default=None, repr=False)

    def content_hash(self) -> str:
        """A stable hash of the catalog's content; artifacts are cached under it."""
        if self._hash is None:
            self._hash = self.part_hash("items", "interactions", "triples")
        return self._hash

    def part_hash(self, *parts: str) -> str:
        """Hash of only some parts ('items', 'interactions', 'triples'): artifacts that read
        only items (the vector index) survive a change of interactions."""
        h = hashlib.sha256(self.name.encode())
        if "items" in parts:
            for item_id in sorted(self.items):
                h.update(self.items[item_id].model_dump_json().encode())
        if "interactions" in parts:
            h.update(np.ascontiguousarray(self.interactions.ratings).tobytes())
            h.update("\n".join(map(str, self.interactions.user_ids)).encode())
            h.update("\n".join(map(str, self.interactions.item_ids)).encode())
        if "triples" in parts:
            for t in self.triples:
                h.update(f"{t.head}\t{t.relation}\t{t.tail}\n".encode())
        return h.hexdigest()[:16]

    def genres(self) -> list[str]:
        """All genres that occur in the catalog, sorted."""
        return sorted({g for item in self.items.values() for g in item.genres})

    def popularity(self) -> dict[str, int]:
        """Number of ratings per item id."""
        ids, counts = np.unique(self.interactions.item_ids.astype(str), return_counts=True)
        return dict(zip(ids.tolist(), counts.tolist(), strict=True))


def without_users(catalog: Catalog, user_ids: set[str]) -> Catalog:
    """A copy of the catalog whose interactions exclude some users (held out for evaluation).

    Items, KG triples, entity names and `source` are shared with the original; the content hash
    is computed afresh (the interactions differ).
    """
    keep = ~np.isin(catalog.interactions.user_ids.astype(str), np.array(sorted(user_ids), dtype=str))
    inter = Interactions(catalog.interactions.user_ids[keep], catalog.interactions.item_ids[keep],
                         catalog.interactions.ratings[keep])
    return replace(catalog, interactions=inter, _hash=None)
