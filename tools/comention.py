"""Co-mention tool: titles that real conversations recommended after the liked ones were mentioned.

The artifact is a count table, seed x item: in how many conversations item was recommended after
seed (a movie, genre or person) had come up on either side. It is built from dialogues (ReDial
JSONL, by `convrec train ranker`, which installs it as the catalog's active table) and cached by
content hash under the cache dir; no dialogue is ever stored in the repository. Where no dialogue
table is installed (a user's machine), the table is built from the catalog's own ratings
instead: items a user rated highly soon after rating a seed highly ("rated after"), so the tool
works on any catalog with interactions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from catalog.errors import ArtifactError, DataError
from catalog.models import Catalog
from catalog.text import normalize_genre
from tools.base import (
    Candidate,
    ConvrecTool,
    Evidence,
    InputKind,
    ProfileInputs,
    ToolResources,
    ToolState,
    build_fix,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
META_FILE = "comention_meta.json"
ARRAYS_FILE = "comention_arrays.npz"
ACTIVE_FILE = "active.json"
KIND = "comention"
SOURCE_DIALOGUES = "dialogues"
SOURCE_RATINGS = "ratings"
POSITIVE_RATING = 4.0
RATING_WINDOW = 20
"""A highly rated item 'follows' a seed when it is among the user's next 20 high ratings."""
TRAIN_FIX = "convrec train ranker (rebuilds the dialogue table), or delete the folder"


@dataclass
class Conversation:
    """One conversation as the table reads it.

    Attributes:
        id: The dialogue id.
        steps: In order, (seed keys mentioned so far, item ids recommended next); seed keys are
            item ids or entity ids ('genre:horror', 'person:Robert De Niro').
    """

    id: str
    steps: list[tuple[list[str], list[str]]] = field(default_factory=list)


class CoMentionTable:
    """Sparse seed x item counts of conversations in which the item followed the seed.

    Args:
        seeds: Seed keys in row order (item ids and entity ids).
        item_ids: Catalog item ids in column order.
        counts: CSR int32 matrix (len(seeds) x len(item_ids)).
        seed_totals: Conversations in which each seed came up.
        item_totals: Conversations in which each item was recommended (or rated highly).
        meta: source ('dialogues' or 'ratings'), n_conversations, source_hash, description.
    """

    def __init__(self, seeds: list[str], item_ids: list[str], counts: sp.csr_matrix,
                 seed_totals: np.ndarray, item_totals: np.ndarray, meta: dict[str, Any]) -> None:
        self.seeds = seeds
        self.item_ids = item_ids
        self.seed_index = {s: i for i, s in enumerate(seeds)}
        self.item_index = {item: i for i, item in enumerate(item_ids)}
        self.counts = counts
        self.seed_totals = seed_totals
        self.item_totals = item_totals
        self.meta = meta

    @property
    def source(self) -> str:
        """'dialogues' or 'ratings'."""
        return str(self.meta.get("source", SOURCE_RATINGS))

    @property
    def n_conversations(self) -> int:
        """Conversations (or users' rating histories) the counts come from."""
        return int(self.meta.get("n_conversations", 0))

    def rows_of(self, keys: Iterable[str]) -> list[int]:
        """Row indices of the known seed keys (unknown ones are skipped), de-duplicated."""
        return list(dict.fromkeys(self.seed_index[k] for k in keys if k in self.seed_index))

    def item_prior(self, item_id: str) -> int:
        """In how many conversations the item was recommended (0 when unknown)."""
        j = self.item_index.get(item_id)
        return int(self.item_totals[j]) if j is not None else 0

    # ------------------------------------------------------------------ persistence

    def save(self, folder: Path) -> None:
        """Write arrays, then metadata (which marks completion), each atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (ARRAYS_FILE + ".part.npz")
        np.savez(tmp, indptr=self.counts.indptr, indices=self.counts.indices,
                 data=self.counts.data, seed_totals=self.seed_totals,
                 item_totals=self.item_totals)
        os.replace(tmp, folder / ARRAYS_FILE)
        meta = {**self.meta, "format_version": FORMAT_VERSION, "seeds": self.seeds,
                "item_ids": self.item_ids}
        tmp_meta = folder / (META_FILE + ".part")
        tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp_meta, folder / META_FILE)

    @classmethod
    def load(cls, folder: Path, fix: str) -> CoMentionTable:
        """Load a saved table.

        Raises:
            ArtifactError: when a file is missing, of another format, or corrupt.
        """
        arrays, meta_path = folder / ARRAYS_FILE, folder / META_FILE
        if not meta_path.is_file() or not arrays.is_file():
            raise ArtifactError(f"no co-mention table in {folder}", fix)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"corrupt co-mention table in {folder}: {exc}", fix) from exc
        if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(f"co-mention table in {folder} has another format", fix)
        if not zipfile.is_zipfile(arrays):
            raise ArtifactError(f"corrupt co-mention table in {folder}: {ARRAYS_FILE} is not "
                                "an .npz archive (truncated?)", fix)
        try:
            seeds = [str(s) for s in meta.pop("seeds")]
            item_ids = [str(i) for i in meta.pop("item_ids")]
            with np.load(arrays, allow_pickle=False) as z:
                counts = sp.csr_matrix((z["data"], z["indices"], z["indptr"]),
                                       shape=(len(seeds), len(item_ids)))
                seed_totals, item_totals = z["seed_totals"], z["item_totals"]
            counts.check_format(full_check=False)
        except (OSError, EOFError, zipfile.BadZipFile, KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"corrupt co-mention table in {folder}: {exc}", fix) from exc
        return cls(seeds, item_ids, counts, seed_totals, item_totals, meta)


# ---------------------------------------------------------------------- building


def table_from_conversations(conversations: Sequence[Conversation], catalog: Catalog,
                             description: str = "") -> CoMentionTable:
    """Count, per (seed, item), the conversations in which the item was recommended after the
    seed came up (each conversation counts once per pair; an item never follows itself).

    Items outside the catalog are ignored; seeds may be any key.
    """
    pairs: set[tuple[str, str, str]] = set()
    seed_convs: dict[str, set[str]] = {}
    item_convs: dict[str, set[str]] = {}
    for conv in conversations:
        for seeds, recs in conv.steps:
            for s in seeds:
                seed_convs.setdefault(s, set()).add(conv.id)
            for r in recs:
                if r not in catalog.items:
                    continue
                item_convs.setdefault(r, set()).add(conv.id)
                pairs.update((s, r, conv.id) for s in seeds if s != r)
    digest = hashlib.sha256()
    for conv in sorted(conversations, key=lambda c: c.id):
        digest.update(json.dumps([conv.id, conv.steps]).encode())
    meta = {"source": SOURCE_DIALOGUES, "n_conversations": len(conversations),
            "source_hash": digest.hexdigest()[:16], "description": description,
            "dialogue_ids": sorted(c.id for c in conversations)}
    return _assemble(pairs, seed_convs, item_convs, catalog, meta)


def table_from_ratings(catalog: Catalog, positive: float = POSITIVE_RATING,
                       window: int = RATING_WINDOW) -> CoMentionTable:
    """The fallback table: per user, the high ratings in time order (file order without
    timestamps); an item follows a seed when it is among the user's next `window` high ratings.

    Each user counts once per pair (a user rates an item once).
    """
    inter = catalog.interactions
    item_ids = sorted(catalog.items)
    code = {item: i for i, item in enumerate(item_ids)}
    items = np.array([code.get(str(i), -1) for i in inter.item_ids], dtype=np.int64)
    keep = np.flatnonzero((inter.ratings >= positive) & (items >= 0))
    _, users = np.unique(inter.user_ids[keep].astype(str), return_inverse=True)
    times = getattr(inter, "timestamps", None)
    t = np.asarray(times)[keep] if times is not None else np.zeros(len(keep), dtype=np.int64)
    order = np.lexsort((keep, t, users))
    users, items = users[order], items[keep][order]
    rows, cols = [], []
    for d in range(1, window + 1):
        same = np.flatnonzero(users[:-d] == users[d:])
        rows.append(items[same])
        cols.append(items[same + d])
    r, c = np.concatenate(rows), np.concatenate(cols)
    off = r != c
    counts = sp.csr_matrix((np.ones(int(off.sum()), dtype=np.int32), (r[off], c[off])),
                           shape=(len(item_ids), len(item_ids)), dtype=np.int32)
    counts.sum_duplicates()
    counts.sort_indices()
    fans = np.bincount(items, minlength=len(item_ids)).astype(np.int32)
    meta = {"source": SOURCE_RATINGS, "n_conversations": int(users.max() + 1) if len(users) else 0,
            "source_hash": catalog.part_hash("items", "interactions"),
            "description": f"high ratings (>= {positive:g}) within the user's next {window}",
            "positive": positive, "window": window}
    return CoMentionTable(item_ids, item_ids, counts, fans, fans, meta)


def _assemble(pairs: set[tuple[str, str, str]], seed_convs: dict[str, set[str]],
              item_convs: dict[str, set[str]], catalog: Catalog,
              meta: dict[str, Any]) -> CoMentionTable:
    seeds = sorted(seed_convs)
    item_ids = sorted(catalog.items)
    s_index = {s: i for i, s in enumerate(seeds)}
    i_index = {item: i for i, item in enumerate(item_ids)}
    rows = np.fromiter((s_index[s] for s, _, _ in pairs), dtype=np.int64, count=len(pairs))
    cols = np.fromiter((i_index[r] for _, r, _ in pairs), dtype=np.int64, count=len(pairs))
    counts = sp.csr_matrix((np.ones(len(pairs), dtype=np.int32), (rows, cols)),
                           shape=(len(seeds), len(item_ids)), dtype=np.int32)
    counts.sum_duplicates()
    counts.sort_indices()
    seed_totals = np.array([len(seed_convs[s]) for s in seeds], dtype=np.int32)
    item_totals = np.array([len(item_convs.get(i, ())) for i in item_ids], dtype=np.int32)
    return CoMentionTable(seeds, item_ids, counts, seed_totals, item_totals, meta)


Resolver = Callable[[str], str | None]
"""A ReDial entity name -> an item id, 'genre:x' or 'person:x', or None."""


def catalog_resolver(catalog: Catalog) -> Resolver:
    """A simple resolver: exact ReDial name or 'Title (Year)', a catalog genre, a person."""
    names: dict[str, str] = {}
    for item in sorted(catalog.items.values(), key=lambda i: i.id):
        for name in (item.attributes.get("redial_name"), item.display_title):
            if name:
                names.setdefault(name, item.id)
    genres = set(catalog.genres())
    people = {n for item in catalog.items.values() for ns in item.people.values() for n in ns}

    def resolve(name: str) -> str | None:
        if name in names:
            return names[name]
        genre = normalize_genre(name)
        if genre in genres:
            return f"genre:{genre}"
        return f"person:{name}" if name in people else None
    return resolve


def read_redial(path: Path | str, resolve: Resolver,
                keep: Callable[[str], bool] | None = None) -> list[Conversation]:
    """Conversations from ReDial JSONL samples (`dialog_id`, `entity`, `rec` per line).

    Each sample is one step: the entities mentioned so far (both sides) are the seeds, the
    titles the recommender suggested next are the recommended items.

    Args:
        path: The JSONL file.
        resolve: Maps entity and title names to seed keys / item ids.
        keep: Keep only the dialogues whose id it accepts (e.g. the training folds).

    Raises:
        DataError: when the file is missing or a line is not JSON.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing dialogue file {path}",
                        "pass --dialogues pointing at ReDial JSONL (e.g. dev_dialogues.jsonl)")
    convs: dict[str, Conversation] = {}
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{n} is not valid JSON: {exc}",
                                "check the file is ReDial JSONL") from exc
            dialog = str(row.get("dialog_id", n))
            if keep is not None and not keep(dialog):
                continue
            seeds = [k for e in row.get("entity") or [] if (k := resolve(str(e)))]
            recs = [k for r in row.get("rec") or [] if (k := resolve(str(r)))]
            convs.setdefault(dialog, Conversation(dialog)).steps.append(
                (list(dict.fromkeys(seeds)), list(dict.fromkeys(recs))))
    return list(convs.values())


# ---------------------------------------------------------------------- where tables live


def dialogue_root(resources: ToolResources) -> Path:
    """The folder of a catalog's dialogue tables: keyed by its items only, so a copy of the
    catalog with other interactions (evaluation users held out) finds the same table."""
    catalog = resources.catalog
    return (resources.cache_dir / "artifacts" / f"{catalog.name}-{catalog.part_hash('items')}"
            / KIND)


def install_dialogue_table(resources: ToolResources, table: CoMentionTable) -> Path:
    """Save a dialogue table under its content hash and make it the catalog's active one."""
    root = dialogue_root(resources)
    folder = root / f"dialogues-{table.meta['source_hash']}"
    table.save(folder)
    tmp = root / (ACTIVE_FILE + ".part")
    tmp.write_text(json.dumps({"folder": folder.name}), encoding="utf-8")
    os.replace(tmp, root / ACTIVE_FILE)
    return folder


def active_dialogue_folder(resources: ToolResources) -> Path | None:
    """The installed dialogue table's folder, or None when none is installed.

    Raises:
        ArtifactError: when the pointer file is unreadable.
    """
    pointer = dialogue_root(resources) / ACTIVE_FILE
    if not pointer.is_file():
        return None
    try:
        name = json.loads(pointer.read_text(encoding="utf-8"))["folder"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"unreadable {pointer}: {exc}", TRAIN_FIX) from exc
    return dialogue_root(resources) / str(name)


def ratings_folder(resources: ToolResources) -> Path:
    """The fallback table's folder (keyed by items and interactions)."""
    return resources.artifact_dir(KIND) / SOURCE_RATINGS


def load_table(resources: ToolResources, build: bool = True) -> CoMentionTable:
    """The active dialogue table, else the ratings table (built on first use when `build`).

    Raises:
        ArtifactError: when an installed table is damaged, or (without `build`) missing.
    """
    folder = active_dialogue_folder(resources)
    if folder is not None:
        return CoMentionTable.load(folder, TRAIN_FIX)
    folder = ratings_folder(resources)
    fix = build_fix(resources.catalog, rebuild=True)
    if not build and not (folder / META_FILE).is_file():
        raise ArtifactError(f"co-mention table not built in {folder}",
                            build_fix(resources.catalog))
    if (folder / META_FILE).is_file() or not build:
        try:
            return CoMentionTable.load(folder, fix)
        except ArtifactError:
            if not build:
                raise
            log.warning("rebuilding the damaged co-mention table in %s", folder)
    table = table_from_ratings(resources.catalog)
    table.save(folder)
    return table


# ---------------------------------------------------------------------- the tool


class CoMentionTool(ConvrecTool):
    """Recommend what people went on to recommend after the user's liked titles came up.

    Scores each item by the number of conversations in which it was recommended after a liked
    movie (or a liked genre or person) was mentioned, summed over the seeds. Evidence names the
    seed and the count ("recommended after Alien in 12 conversations"); Evidence.data holds the
    counts.
    """

    name: str = "comention"
    description: str = (
        "Co-mention in real conversations: recommend the titles people suggested after the "
        "user's liked movies, genres or people were mentioned.")
    consumes: ClassVar[frozenset[InputKind]] = frozenset(
        {InputKind.LIKED_ITEMS, InputKind.ENTITIES})

    table: CoMentionTable
    catalog: Catalog
    damping: float = 0.0
    """Each seed's counts are divided by (conversations mentioning it) ** damping (0: raw
    counts, which did best on an inner split of the ReDial training folds)."""
    entity_weight: float = 1.0
    """Weight of genre / person seeds against movie seeds."""
    max_evidence: int = 2

    @classmethod
    def create(cls, resources: ToolResources) -> CoMentionTool:
        """Open the installed dialogue table, else the ratings table (built on first use)."""
        return cls(table=load_table(resources), catalog=resources.catalog)

    @classmethod
    def build_artifacts(cls, resources: ToolResources) -> bool:
        """Build the ratings table unless a dialogue table is installed or it is cached."""
        if active_dialogue_folder(resources) is not None:
            return False
        if (ratings_folder(resources) / META_FILE).is_file():
            return False
        table_from_ratings(resources.catalog).save(ratings_folder(resources))
        return True

    @classmethod
    def check_artifacts(cls, resources: ToolResources) -> str:
        """Verify the table the tool would open, without building it."""
        table = load_table(resources, build=False)
        return (f"co-mention table ({table.source}): {table.counts.nnz:,} pairs from "
                f"{table.n_conversations:,} {_unit(table)}")

    def score(self, profile: ProfileInputs, k: int, state: ToolState) -> list[Candidate]:
        """Up to k items that followed the profile's liked items and entities, best first.

        Liked and disliked items, `state.excluded_ids` and items outside `state.candidate_ids`
        are never returned; constraints apply; unknown ids are ignored.
        """
        table = self.table
        item_rows = table.rows_of(profile.liked_items)
        entity_rows = table.rows_of(e for e in profile.entities if e not in profile.liked_items)
        rows = item_rows + [r for r in entity_rows if r not in item_rows]
        if not rows:
            return []
        weights = np.array([1.0 if r in item_rows else self.entity_weight for r in rows])
        weights /= np.maximum(table.seed_totals[rows], 1) ** self.damping
        sub = table.counts[rows].toarray()
        scores = weights @ sub
        blocked = set(profile.liked_items) | set(profile.disliked_items) | state.excluded_ids
        order = np.flatnonzero(scores > 0)
        order = order[np.lexsort((order, -table.item_totals[order], -scores[order]))]
        chosen: list[int] = []
        for j in order.tolist():
            item_id = table.item_ids[j]
            item = self.catalog.items.get(item_id)
            if item is None or item_id in blocked:
                continue
            if state.candidate_ids is not None and item_id not in state.candidate_ids:
                continue
            if not profile.constraints.allows(item):
                continue
            chosen.append(j)
            if len(chosen) == k:
                break
        return [self._candidate(j, float(scores[j]), rows, sub) for j in chosen]

    def _candidate(self, j: int, score: float, rows: list[int], sub: np.ndarray) -> Candidate:
        table, items = self.table, self.catalog.items
        item_id = table.item_ids[j]
        title = items[item_id].title
        column = sub[:, j]
        evidence: list[Evidence] = []
        for pos in np.lexsort((np.arange(len(rows)), -column))[: self.max_evidence].tolist():
            n = int(column[pos])
            if n <= 0:
                break
            seed = table.seeds[rows[pos]]
            seed_title = _seed_title(seed, self.catalog)
            data = {"seed_id": seed, "seed_title": seed_title, "item_title": title,
                    "source": table.source, "n_seed_conversations": int(
                        table.seed_totals[rows[pos]]),
                    "n_item_conversations": int(table.item_totals[j])}
            if table.source == SOURCE_DIALOGUES:
                data["n_conversations"] = n
                times = "conversation" if n == 1 else "conversations"
                text = f"{title} was recommended after {seed_title} in {n} {times}."
            else:
                data["n_users"] = n
                data["min_rating"] = float(table.meta.get("positive", POSITIVE_RATING))
                people = "person" if n == 1 else "people"
                r = f"{data['min_rating']:g}"
                text = f"{n} {people} rated {title} {r}+ soon after rating {seed_title} {r}+."
            evidence.append(Evidence(tool=self.name, kind=KIND, text=text, data=data))
        return Candidate(item_id=item_id, score=score, evidence=evidence)


def _seed_title(seed: str, catalog: Catalog) -> str:
    if seed in catalog.items:
        return catalog.items[seed].title
    return seed.split(":", 1)[1] if ":" in seed else seed


def _unit(table: CoMentionTable) -> str:
    return "conversations" if table.source == SOURCE_DIALOGUES else "users' rating histories"
