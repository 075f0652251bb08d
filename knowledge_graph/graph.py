"""Build the knowledge graph from catalog metadata and triples; cache it by content hash."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import numpy as np

from catalog.errors import ArtifactError
from catalog.models import Catalog, Item

log = logging.getLogger(__name__)

GRAPH_VERSION = 1
"""Bump when the graph layout changes; older cache files are then rebuilt."""

ITEM_PREFIX = "item:"
NAMED_PREFIXES = ("person", "genre", "tag", "decade")
"""Node prefixes whose remainder is the display name (`person:Ridley Scott`)."""

_T = TypeVar("_T")


@dataclass
class KnowledgeGraph:
    """The catalog's knowledge graph plus the item-entity edge lists expansion is built from.

    Attributes:
        graph: A MultiDiGraph; edges point item -> entity (or item -> item for relations such
            as `sequel`), keyed by relation name. Nodes carry `kind` and `name`.
        item_ids: Catalog item ids in row order (`item_index[id]` is the row).
        entity_ids: Non-item node ids that some item links to, in column order.
        relations: Relation names; `edge_relations` indexes into it.
        edge_items: Row of each item-entity edge.
        edge_entities: Column of each item-entity edge.
        edge_relations: Relation of each item-entity edge.
        link_heads: Row of the head of each item-item edge.
        link_tails: Row of the tail of each item-item edge.
        link_relations: Relation of each item-item edge.
        catalog_hash: `graph_key` of the catalog the graph was built from.
    """

    graph: nx.MultiDiGraph
    item_ids: list[str]
    entity_ids: list[str]
    relations: list[str]
    edge_items: np.ndarray
    edge_entities: np.ndarray
    edge_relations: np.ndarray
    link_heads: np.ndarray
    link_tails: np.ndarray
    link_relations: np.ndarray
    catalog_hash: str
    item_index: dict[str, int] = field(init=False, repr=False)
    entity_index: dict[str, int] = field(init=False, repr=False)
    entity_degrees: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.item_index = {item_id: n for n, item_id in enumerate(self.item_ids)}
        self.entity_index = {node: n for n, node in enumerate(self.entity_ids)}
        # Items per entity (an entity linked by two relations to one item counts once).
        pairs = np.unique(self.edge_items.astype(np.int64) * max(len(self.entity_ids), 1)
                          + self.edge_entities)
        self.entity_degrees = np.bincount(pairs % max(len(self.entity_ids), 1),
                                          minlength=len(self.entity_ids)).astype(np.int32)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for derived in ("item_index", "entity_index", "entity_degrees"):
            state.pop(derived, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def name(self, node: str) -> str:
        """The node's display name ('' for nameless entities such as Freebase ids)."""
        data = self.graph.nodes.get(node)
        return str(data.get("name", "")) if data else ""

    def kind(self, node: str) -> str:
        """The node's kind: 'item', 'person', 'genre', 'tag', 'decade', 'entity', ..."""
        data = self.graph.nodes.get(node)
        return str(data.get("kind", "")) if data else ""

    def item_degree(self, entity: str) -> int:
        """How many items link to the entity (0 when unknown)."""
        col = self.entity_index.get(entity)
        return 0 if col is None else int(self.entity_degrees[col])

    def summary(self) -> str:
        """One line describing the graph's size."""
        return (f"{len(self.item_ids)} items, {len(self.entity_ids)} entities, "
                f"{len(self.edge_items)} item-entity edges, {len(self.link_heads)} item-item "
                f"edges, {len(self.relations)} relations")


def graph_key(catalog: Catalog) -> str:
    """Hash of what the graph is built from: items, triples and entity names (not ratings).

    A change of interactions (e.g. evaluation users held out) keeps the cached graph valid.
    """
    h = hashlib.sha256(f"kg-v{GRAPH_VERSION}\n{catalog.name}\n".encode())
    for item_id in sorted(catalog.items):
        h.update(catalog.items[item_id].model_dump_json().encode())
    for t in catalog.triples:
        h.update(f"{t.head}\t{t.relation}\t{t.tail}\n".encode())
    h.update(json.dumps(catalog.entity_names, sort_keys=True).encode())
    return h.hexdigest()[:16]


def item_node(item_id: str) -> str:
    """The graph node id of a catalog item."""
    return f"{ITEM_PREFIX}{item_id}"


def decade_of(year: int) -> str:
    """The decade label of a year: 1979 -> '1970s'."""
    return f"{year // 10 * 10}s"


def node_kind(node: str) -> str:
    """The kind of a node from its id prefix ('fb:' and unprefixed ids are 'entity')."""
    prefix, sep, _ = node.partition(":")
    if not sep or prefix == "fb":
        return "entity"
    return prefix


def node_name(node: str, entity_names: dict[str, str]) -> str:
    """A display name for a non-item node: the catalog's name, else the id's remainder.

    Freebase ids (`fb:m.xxx`) and unprefixed ids have no name unless the catalog gives one.
    """
    if node in entity_names:
        return entity_names[node]
    prefix, sep, rest = node.partition(":")
    if sep and prefix != "fb":
        return rest
    return ""


def metadata_edges(item: Item) -> Iterator[tuple[str, str, str]]:
    """The (item node, relation, entity node) edges that an item's metadata gives."""
    head = item_node(item.id)
    for genre in item.genres:
        yield head, "genre", f"genre:{genre}"
    for role, names in item.people.items():
        for person in names:
            if person.strip():
                yield head, role, f"person:{person.strip()}"
    for tag in item.tags:
        yield head, "tag", f"tag:{tag}"
    if item.year:
        yield head, "decade", f"decade:{decade_of(item.year)}"


def _progress(iterable: Iterable[_T], show: bool, total: int, desc: str) -> Iterable[_T]:
    if not show:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency, but a bar is never worth a crash
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit="rec", leave=False)


def build_graph(catalog: Catalog, show_progress: bool = False) -> KnowledgeGraph:
    """Build the knowledge graph of a catalog.

    Item nodes are `item:<id>`; metadata adds genre, person (relation = role), tag and decade
    nodes; every catalog triple is added too. An edge that both metadata and a triple give is
    kept once (edges are keyed by relation). Triples naming items that are not in the catalog
    are skipped; triples between two non-item nodes stay in the graph but are not used for
    scoring.

    Args:
        catalog: The catalog to build from.
        show_progress: Show progress bars.

    Returns:
        The graph with its item-entity edge lists.
    """
    g = nx.MultiDiGraph()
    for item in catalog.items.values():
        g.add_node(item_node(item.id), kind="item", name=item.display_title, item_id=item.id)

    def add(head: str, relation: str, tail: str) -> None:
        if head == tail:
            return
        for node in (head, tail):
            if node not in g:
                g.add_node(node, kind=node_kind(node), name=node_name(node, catalog.entity_names))
        g.add_edge(head, tail, key=relation, relation=relation)

    items = _progress(catalog.items.values(), show_progress, len(catalog.items), "KG metadata")
    for item in items:
        for edge in metadata_edges(item):
            add(*edge)
    skipped = 0
    triples = _progress(catalog.triples, show_progress, len(catalog.triples), "KG triples")
    for t in triples:
        head, tail = t.head, t.tail
        if not head.startswith(ITEM_PREFIX) and tail.startswith(ITEM_PREFIX):
            head, tail = tail, head  # items are always the edge's head
        if any(n.startswith(ITEM_PREFIX) and n not in g for n in (head, tail)):
            skipped += 1
            continue
        add(head, t.relation, tail)
    if skipped:
        log.info("skipped %d triples naming items outside the catalog", skipped)
    kg = _index(g, catalog)
    log.info("built knowledge graph of %s: %s", catalog.name, kg.summary())
    return kg


def _index(g: nx.MultiDiGraph, catalog: Catalog) -> KnowledgeGraph:
    """Number the items, entities and relations and collect the edge lists."""
    item_ids = list(catalog.items)
    item_index = {item_node(i): n for n, i in enumerate(item_ids)}
    entity_index: dict[str, int] = {}
    relation_index: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    rels: list[int] = []
    heads: list[int] = []
    tails: list[int] = []
    link_rels: list[int] = []
    for head, tail, relation in g.edges(keys=True):
        row = item_index.get(head)
        if row is None:
            continue
        rel = relation_index.setdefault(relation, len(relation_index))
        other = item_index.get(tail)
        if other is not None:
            heads.append(row)
            tails.append(other)
            link_rels.append(rel)
        else:
            rows.append(row)
            cols.append(entity_index.setdefault(tail, len(entity_index)))
            rels.append(rel)
    return KnowledgeGraph(
        graph=g,
        item_ids=item_ids,
        entity_ids=list(entity_index),
        relations=list(relation_index),
        edge_items=np.asarray(rows, dtype=np.int32),
        edge_entities=np.asarray(cols, dtype=np.int32),
        edge_relations=np.asarray(rels, dtype=np.int16),
        link_heads=np.asarray(heads, dtype=np.int32),
        link_tails=np.asarray(tails, dtype=np.int32),
        link_relations=np.asarray(link_rels, dtype=np.int16),
        catalog_hash=graph_key(catalog),
    )


def graph_path(folder: Path) -> Path:
    """The cache file of the graph inside an artifact folder."""
    return folder / f"knowledge_graph-v{GRAPH_VERSION}.pkl"


def save_graph(kg: KnowledgeGraph, folder: Path) -> Path:
    """Write the graph atomically into the artifact folder.

    Returns:
        The path written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = graph_path(folder)
    payload = {"version": GRAPH_VERSION, "catalog_hash": kg.catalog_hash, "kg": kg}
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kg-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_graph(folder: Path, catalog_hash: str) -> KnowledgeGraph:
    """Load a cached graph built from the catalog with this `graph_key`.

    The cache is a pickle this program wrote into its own cache folder; never point it at
    files from elsewhere.

    Raises:
        ArtifactError: when the file is missing, corrupt, of another version or catalog.
    """
    path = graph_path(folder)
    fix = "rebuild it: `convrec build --rebuild` with the catalog's --catalog"
    if not path.is_file():
        raise ArtifactError(f"no knowledge graph at {path}", fix)
    collecting = gc.isenabled()
    gc.disable()  # unpickling ~100k small dicts is 4x faster without the cycle collector
    try:
        with path.open("rb") as f:
            payload = pickle.load(f)  # noqa: S301 - our own cache file
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            IndexError, ValueError, TypeError) as exc:
        raise ArtifactError(f"corrupt knowledge graph at {path}: {exc}", fix) from exc
    finally:
        if collecting:
            gc.enable()
    if not isinstance(payload, dict) or payload.get("version") != GRAPH_VERSION:
        raise ArtifactError(f"knowledge graph at {path} has another version", fix)
    if payload.get("catalog_hash") != catalog_hash or not isinstance(payload.get("kg"),
                                                                     KnowledgeGraph):
        raise ArtifactError(f"knowledge graph at {path} belongs to another catalog", fix)
    return payload["kg"]


def load_or_build(catalog: Catalog, folder: Path, show_progress: bool = False,
                  key: str | None = None) -> tuple[KnowledgeGraph, bool]:
    """Load the cached graph of the catalog, building and caching it when absent or stale.

    Args:
        catalog: The catalog.
        folder: The artifact folder (usually keyed by the catalog's hash already; the graph
            file is checked against `graph_key` too).
        show_progress: Show progress bars while building.
        key: The catalog's `graph_key` when the caller has computed it already.

    Returns:
        The graph and whether it had to be built.
    """
    try:
        return load_graph(folder, key or graph_key(catalog)), False
    except ArtifactError as exc:
        if graph_path(folder).exists():
            log.warning("rebuilding the knowledge graph: %s", exc.message)
    kg = build_graph(catalog, show_progress=show_progress)
    save_graph(kg, folder)
    return kg, True
