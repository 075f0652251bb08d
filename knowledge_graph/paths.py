"""Explanation paths: the strongest seed -> entity -> candidate link, as data and as text."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import sparse

from knowledge_graph.graph import KnowledgeGraph, item_node

SeedKind = Literal["item", "entity"]


@dataclass(frozen=True)
class KGPath:
    """One path from a seed to a candidate item.

    Attributes:
        nodes: Node ids from the seed to the candidate, e.g.
            ('item:1', 'person:Ridley Scott', 'item:2') or ('person:Ridley Scott', 'item:2').
        relations: The relation of each hop (len(nodes) - 1 of them).
        directions: For each hop, True when the graph edge points along the path
            (seed -> candidate), False when it points back.
        seed: The seed node id (the first node).
        seed_kind: 'item' for a liked item, 'entity' for a named entity.
        weight: The path's contribution to the candidate's score.
        text: The path in words, e.g. 'Alien (1979) -director-> Ridley Scott <-director-
            Blade Runner (1982)'.
        names: The display name of each node ('' for a nameless entity), so a justification
            can be checked against the path without parsing `text`.
    """

    nodes: tuple[str, ...]
    relations: tuple[str, ...]
    directions: tuple[bool, ...]
    seed: str
    seed_kind: SeedKind
    weight: float
    text: str
    names: tuple[str, ...] = ()

    def data(self) -> dict[str, Any]:
        """The path as plain JSON-able data (for Evidence.data)."""
        return {
            "nodes": list(self.nodes),
            "relations": list(self.relations),
            "seed": self.seed,
            "seed_kind": self.seed_kind,
            "weight": round(self.weight, 6),
            "names": list(self.names),
            "directions": list(self.directions),
        }


def humanize_relation(relation: str) -> str:
    """A relation name as words: 'production_company' -> 'production company'."""
    return relation.replace("_", " ").strip()


def placeholder(relation: str) -> str:
    """How a nameless entity reads in a path: 'director' -> '(a director)'."""
    words = humanize_relation(relation) or "related entity"
    article = "an" if words[0].lower() in "aeiou" else "a"
    return f"({article} {words})"


def node_label(kg: KnowledgeGraph, node: str, relation: str = "") -> str:
    """The display name of a node, or a placeholder naming its relation when it has none."""
    name = kg.name(node)
    if name:
        return name
    return placeholder(relation) if relation else node


def edge_relations(kg: KnowledgeGraph, a: str, b: str) -> dict[str, bool]:
    """Relations of the edges between two nodes -> whether the edge points a -> b."""
    found = {str(r): False for r in kg.graph.get_edge_data(b, a, default={})}
    found.update({str(r): True for r in kg.graph.get_edge_data(a, b, default={})})
    return found


def arrow(relation: str, forward: bool) -> str:
    """A hop in a path's text: '-director->' or '<-director-'."""
    words = humanize_relation(relation)
    return f"-{words}->" if forward else f"<-{words}-"


def path_text(kg: KnowledgeGraph, nodes: Sequence[str], relations: Sequence[str],
              directions: Sequence[bool]) -> str:
    """Render a path with display names; a nameless entity is named by its first relation."""
    parts = [node_label(kg, nodes[0], relations[0] if relations else "")]
    for n, node in enumerate(nodes[1:]):
        parts.append(arrow(relations[n], directions[n]))
        parts.append(node_label(kg, node, relations[n]))
    return " ".join(parts)


def make_path(kg: KnowledgeGraph, nodes: Sequence[str], seed_kind: SeedKind, weight: float,
              weights: Mapping[str, float], default: float) -> KGPath:
    """Build a KGPath along the given nodes, reading relations from the graph.

    On an item -> entity <- item path a relation both items have with the entity is preferred,
    so the text says "shares a director" rather than mixing roles when the data allows.
    """
    hops = [edge_relations(kg, a, b) for a, b in zip(nodes[:-1], nodes[1:], strict=True)]
    shared = set(hops[0]).intersection(hops[1]) if len(hops) == 2 else set()
    relations: list[str] = []
    directions: list[bool] = []
    for found in hops:
        pool = [r for r in found if r in shared] or list(found)
        relation = max(pool, key=lambda r: (weights.get(r, default), r)) if pool else "related"
        relations.append(relation)
        directions.append(found.get(relation, True))
    return KGPath(
        nodes=tuple(nodes), relations=tuple(relations), directions=tuple(directions),
        seed=nodes[0], seed_kind=seed_kind, weight=float(weight),
        text=path_text(kg, nodes, relations, directions),
        names=tuple(kg.name(n) for n in nodes),
    )


_NAMED: dict[int, tuple[weakref.ref[KnowledgeGraph], np.ndarray]] = {}


def named_entities(kg: KnowledgeGraph) -> np.ndarray:
    """Per entity column, whether the entity has a display name (cached per graph)."""
    cached = _NAMED.get(id(kg))
    if cached is not None and cached[0]() is kg:
        return cached[1]
    mask = np.array([bool(kg.name(e)) for e in kg.entity_ids], dtype=bool)
    _NAMED[id(kg)] = (weakref.ref(kg), mask)
    return mask


def _take_rows(m: sparse.csr_matrix, rows: np.ndarray) -> sparse.csr_matrix:
    """`m[rows]` without scipy's indexing overhead (rows are few, the matrix is large)."""
    starts, ends = m.indptr[rows], m.indptr[rows + 1]
    lengths = ends - starts
    indptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    take = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
    return sparse.csr_matrix((m.data[take], m.indices[take], indptr),
                             shape=(rows.size, m.shape[1]))


def _best_per_row(sub: sparse.csr_matrix,
                  factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `sub`, the largest `sub[r, c] * factor[c]` and its column (-1 if none > 0).

    Ties go to the lowest column, so explanations are deterministic.
    """
    n_rows = sub.shape[0]
    best = np.zeros(n_rows, dtype=np.float64)
    where = np.full(n_rows, -1, dtype=np.int64)
    if sub.nnz == 0:
        return best, where
    prod = sub.data.astype(np.float64) * factor[sub.indices]
    row_of = np.repeat(np.arange(n_rows), np.diff(sub.indptr))
    order = np.lexsort((sub.indices, -prod, row_of))
    nonempty = np.flatnonzero(np.diff(sub.indptr) > 0)
    first = order[sub.indptr[nonempty]]
    hit = prod[first] > 0
    best[nonempty[hit]] = prod[first[hit]]
    where[nonempty[hit]] = sub.indices[first[hit]]
    return best, where


def strongest_paths(kg: KnowledgeGraph, rows: Sequence[int], *, two_hop: sparse.csr_matrix,
                    one_hop: sparse.csr_matrix, links: sparse.csr_matrix,
                    seed_rows: Sequence[int], seed_cols: Sequence[int],
                    weights: Mapping[str, float], default: float,
                    named_only: bool = False) -> list[KGPath | None]:
    """For each candidate row, the path that contributes most to its score.

    The matrices are those the expansion scores with, so each chosen path is one term of
    the candidate's score: `two_hop[c, e] * two_hop[s, e]` for a liked item s sharing entity
    e, `links[c, s]` for a direct item-item relation, `one_hop[c, e]` for a seed entity. The
    search is vectorised over all candidates; networkx is read only to name the relations.

    Args:
        kg: The graph (used for relation and display names).
        rows: The candidates' item rows.
        two_hop: Item x entity weights for item seeds (square roots of the path weights).
        one_hop: Item x entity weights for entity seeds.
        links: Item x item weights of direct relations (symmetric).
        seed_rows: Rows of the liked items.
        seed_cols: Columns of the seed entities.
        weights: Relation weights (to pick the strongest relation between two nodes).
        default: Weight of relations missing from `weights`.
        named_only: Choose only among paths whose entities have names (a path through a
            nameless Freebase entity, "(an actor)", explains nothing to a user); the score
            is unchanged, only the path shown.

    Returns:
        One path per row; None where no (named, with `named_only`) seed path reaches it.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return []
    # Per entity: the liked item with the strongest edge to it, and that edge's weight.
    seed_weight = np.zeros(two_hop.shape[1], dtype=np.float64)
    seed_of = np.full(two_hop.shape[1], -1, dtype=np.int64)
    for s in seed_rows:
        lo, hi = two_hop.indptr[s], two_hop.indptr[s + 1]
        cols, vals = two_hop.indices[lo:hi], two_hop.data[lo:hi]
        better = vals > seed_weight[cols]
        seed_weight[cols[better]] = vals[better]
        seed_of[cols[better]] = s
    if named_only:
        seed_weight[~named_entities(kg)] = 0.0
    via_entity, entity = _best_per_row(_take_rows(two_hop, rows), seed_weight)
    is_seed = np.zeros(links.shape[1], dtype=np.float64)
    is_seed[list(seed_rows)] = 1.0
    via_link, linked = _best_per_row(_take_rows(links, rows), is_seed)
    is_seed_entity = np.zeros(one_hop.shape[1], dtype=np.float64)
    is_seed_entity[list(seed_cols)] = 1.0
    via_seed_entity, named = _best_per_row(_take_rows(one_hop, rows), is_seed_entity)
    paths: list[KGPath | None] = []
    for n, row in enumerate(rows.tolist()):
        candidate = item_node(kg.item_ids[row])
        options: list[tuple[float, tuple[str, ...], SeedKind]] = []
        if entity[n] >= 0:
            seed = item_node(kg.item_ids[seed_of[entity[n]]])
            options.append((via_entity[n], (seed, kg.entity_ids[entity[n]], candidate), "item"))
        if linked[n] >= 0:
            options.append((via_link[n], (item_node(kg.item_ids[linked[n]]), candidate), "item"))
        if named[n] >= 0:
            options.append((via_seed_entity[n], (kg.entity_ids[named[n]], candidate), "entity"))
        if not options:
            paths.append(None)
            continue
        weight, nodes, kind = max(options, key=lambda o: o[0])  # first of equals wins
        paths.append(make_path(kg, nodes, kind, weight, weights, default))
    return paths


def strongest_path(kg: KnowledgeGraph, row: int, *, two_hop: sparse.csr_matrix,
                   one_hop: sparse.csr_matrix, links: sparse.csr_matrix,
                   seed_rows: Sequence[int], seed_cols: Sequence[int],
                   weights: Mapping[str, float], default: float) -> KGPath | None:
    """The strongest path to one candidate (see `strongest_paths`)."""
    return strongest_paths(kg, [row], two_hop=two_hop, one_hop=one_hop, links=links,
                           seed_rows=seed_rows, seed_cols=seed_cols, weights=weights,
                           default=default)[0]
