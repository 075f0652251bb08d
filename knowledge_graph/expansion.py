"""KG expansion: score items reachable from liked items and named entities with sparse mat-vecs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field
from scipy import sparse

from knowledge_graph.graph import KnowledgeGraph
from knowledge_graph.paths import KGPath, strongest_paths

log = logging.getLogger(__name__)

DEFAULT_RELATION_WEIGHTS: dict[str, float] = {
    # who made it: the strongest signal of taste
    "director": 1.0,
    "writer": 0.8,
    "sequel": 1.2,
    "prequel": 1.2,
    # who is in it / what it is about
    "star": 0.5,
    "actor": 0.5,
    "tag": 0.5,
    "subject": 0.4,
    "producer": 0.4,
    "cinematographer": 0.3,
    "production_company": 0.2,
    # broad facets: weak on their own (and hubs, so the hub penalty shrinks them further)
    "genre": 0.15,
    "decade": 0.1,
    "award_nomination": 0.05,
    "award_won": 0.05,
    "country": 0.05,
    "language": 0.05,
    "content_rating": 0.02,
}


class ExpansionSettings(BaseModel):
    """How KG expansion weighs relations, hubs and dislikes."""

    relation_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_RELATION_WEIGHTS),
        description="Weight of each relation; relations not listed get `default_weight`.",
    )
    default_weight: float = Field(0.3, ge=0, description="Weight of unlisted relations.")
    hub_penalty: Literal["log", "idf", "none"] = Field(
        "idf",
        description="How an entity's weight shrinks with the number of items it links: "
                    "'log' = 1/log(2+degree), 'idf' = log(1+N/degree)/log(1+N), 'none'.",
    )
    dislike_weight: float = Field(
        0.5, ge=0, description="How much the paths from disliked items subtract.")


@dataclass(frozen=True)
class Expansion:
    """One expanded item with its score and the path that explains it best."""

    item_id: str
    score: float
    path: KGPath


def hub_factor(degrees: np.ndarray, n_items: int, mode: str) -> np.ndarray:
    """Per-entity multiplier that makes entities linking many items count little.

    Args:
        degrees: Items linked by each entity.
        n_items: Items in the catalog.
        mode: 'log', 'idf' or 'none'.

    Returns:
        A float32 array in (0, 1].
    """
    deg = np.maximum(degrees.astype(np.float64), 1.0)
    if mode == "log":
        factor = 1.0 / np.log(2.0 + deg)
    elif mode == "idf":
        factor = np.log1p(max(n_items, 1) / deg) / np.log1p(max(n_items, 1))
    elif mode == "none":
        factor = np.ones_like(deg)
    else:
        raise ValueError(f"unknown hub_penalty {mode!r}; use 'log', 'idf' or 'none'")
    return np.clip(factor, 1e-6, 1.0).astype(np.float32)


def _dedupe_max(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep one value per (row, col): the largest; the result is sorted by (row, col)."""
    key = rows.astype(np.int64) * max(n_cols, 1) + cols
    order = np.lexsort((-vals, key))
    key = key[order]
    first = np.ones(key.shape, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    keep = order[first]
    return rows[keep], cols[keep], vals[keep]


def _csr(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
         shape: tuple[int, int]) -> sparse.csr_matrix:
    m = sparse.csr_matrix((vals.astype(np.float32), (rows, cols)), shape=shape)
    m.sort_indices()
    return m


class KGExpander:
    """Scores items by weighted KG paths from seeds; precomputed once per graph and settings.

    Item seeds score `S @ (S[seeds].sum(0))` over item x entity weights `S` (each path
    item -> entity -> item weighs sqrt(w1 * w2) * hub(entity)), plus direct item-item relations
    (sequels); seed entities score `W[:, entities].sum(1)` with `W = w * hub(entity)`.

    Args:
        kg: The graph.
        settings: Relation weights, hub penalty and dislike weight.
        prior: Optional per-item value (e.g. popularity) used only to break score ties.
    """

    def __init__(self, kg: KnowledgeGraph, settings: ExpansionSettings | None = None,
                 prior: np.ndarray | None = None) -> None:
        self.kg = kg
        self.settings = settings or ExpansionSettings()
        n_items, n_entities = len(kg.item_ids), len(kg.entity_ids)
        weights = self.settings.relation_weights
        rel_w = np.array([weights.get(r, self.settings.default_weight) for r in kg.relations],
                         dtype=np.float32)
        rows, cols, vals = _dedupe_max(kg.edge_items, kg.edge_entities,
                                       rel_w[kg.edge_relations], n_entities)
        vals = vals * hub_factor(kg.entity_degrees, n_items, self.settings.hub_penalty)[cols]
        nonzero = vals > 0
        rows, cols, vals = rows[nonzero], cols[nonzero], vals[nonzero]
        self.one_hop = _csr(rows, cols, vals, (n_items, n_entities))
        self.one_hop_t = self.one_hop.T.tocsr()
        self.two_hop = _csr(rows, cols, np.sqrt(vals), (n_items, n_entities))
        heads = np.concatenate([kg.link_heads, kg.link_tails])
        tails = np.concatenate([kg.link_tails, kg.link_heads])
        link_w = np.concatenate([rel_w[kg.link_relations]] * 2)
        heads, tails, link_w = _dedupe_max(heads, tails, link_w, n_items)
        self.links = _csr(heads, tails, link_w, (n_items, n_items))
        self.prior = np.zeros(n_items, dtype=np.float32) if prior is None else (
            np.asarray(prior, dtype=np.float32))
        if self.prior.shape != (n_items,):
            raise ValueError(f"prior has shape {self.prior.shape}, expected ({n_items},)")

    def rows_of(self, item_ids: Sequence[str]) -> list[int]:
        """Rows of the known item ids (unknown ids are dropped), without duplicates."""
        index = self.kg.item_index
        return list(dict.fromkeys(index[i] for i in item_ids if i in index))

    def cols_of(self, entity_ids: Sequence[str]) -> list[int]:
        """Columns of the known entity ids (unknown ids are dropped), without duplicates."""
        index = self.kg.entity_index
        return list(dict.fromkeys(index[e] for e in entity_ids if e in index))

    def scores(self, liked_rows: Sequence[int], entity_cols: Sequence[int] = (),
               disliked_rows: Sequence[int] = ()) -> np.ndarray:
        """Raw scores of every item (seeds included) as a dense float32 array."""
        n_items = len(self.kg.item_ids)
        s2, links, dislike = self.two_hop, self.links, self.settings.dislike_weight
        scores = np.zeros(n_items, dtype=np.float32)
        if liked_rows or disliked_rows:
            seed = np.zeros(len(self.kg.entity_ids), dtype=np.float32)
            for rows, sign in ((liked_rows, 1.0), (disliked_rows, -dislike)):
                for r in rows:
                    lo, hi = s2.indptr[r], s2.indptr[r + 1]
                    seed[s2.indices[lo:hi]] += sign * s2.data[lo:hi]
                    lo, hi = links.indptr[r], links.indptr[r + 1]
                    scores[links.indices[lo:hi]] += sign * links.data[lo:hi]
            scores += s2 @ seed
        w_t = self.one_hop_t
        for c in entity_cols:
            lo, hi = w_t.indptr[c], w_t.indptr[c + 1]
            scores[w_t.indices[lo:hi]] += w_t.data[lo:hi]
        return scores

    def expand(self, liked: Sequence[str] = (), entities: Sequence[str] = (),
               disliked: Sequence[str] = (), k: int = 50, *,
               keep: Callable[[str], bool] | None = None,
               candidate_ids: Collection[str] | None = None,
               excluded_ids: Collection[str] = (), explain: bool = True) -> list[Expansion]:
        """The k best items reachable from the seeds, each with its strongest path.

        Seeds, disliked and excluded items are never returned; unknown ids are ignored.

        Args:
            liked: Liked item ids (catalog ids, not node ids).
            entities: Seed entity node ids, e.g. 'person:Ridley Scott', 'genre:sci-fi'.
            disliked: Disliked item ids; their paths subtract.
            k: How many items to return.
            keep: Predicate on item ids (hard constraints); checked on the best items only.
            candidate_ids: When given, only these items may be returned.
            excluded_ids: Items that must not be returned.
            explain: Compute the explanation path of each result (else `path` is a stub).

        Returns:
            Up to k expansions, best first (ties broken by the prior, then catalog order).
        """
        liked_rows, disliked_rows = self.rows_of(liked), self.rows_of(disliked)
        entity_cols = self.cols_of(entities)
        if k <= 0 or not (liked_rows or entity_cols):
            return []
        scores = self.scores(liked_rows, entity_cols, disliked_rows)
        blocked = liked_rows + disliked_rows + self.rows_of(list(excluded_ids))
        scores[blocked] = 0.0
        if candidate_ids is not None:
            allowed = np.zeros(scores.shape, dtype=bool)
            allowed[self.rows_of(list(candidate_ids))] = True
            scores[~allowed] = 0.0
        rows = self._top(scores, k, keep)
        paths = self.explain(rows, liked_rows, entity_cols) if explain else [None] * len(rows)
        empty = KGPath((), (), (), "", "item", 0.0, "")
        return [Expansion(self.kg.item_ids[r], float(scores[r]), path or empty)
                for r, path in zip(rows, paths, strict=True)]

    def _top(self, scores: np.ndarray, k: int,
             keep: Callable[[str], bool] | None) -> list[int]:
        """Rows of the k best positive scores that pass `keep`, scanning in widening windows."""
        positive = np.flatnonzero(scores > 1e-12)
        chosen: list[int] = []
        done = 0
        window = max(4 * k, 64)
        while positive.size and len(chosen) < k and done < positive.size:
            if window < positive.size:
                part = np.argpartition(-scores[positive], window - 1)[:window]
                threshold = scores[positive[part]].min()
                pool = positive[scores[positive] >= threshold]  # keep whole tie groups
            else:
                pool = positive
            ordered = pool[np.lexsort((-self.prior[pool], -scores[pool]))]
            for r in ordered[done:]:
                if keep is None or keep(self.kg.item_ids[r]):
                    chosen.append(int(r))
                    if len(chosen) == k:
                        break
            done = ordered.size
            window *= 4
        return chosen

    def explain(self, rows: Sequence[int], liked_rows: Sequence[int],
                entity_cols: Sequence[int]) -> list[KGPath | None]:
        """The strongest path from the seeds to each of the given item rows."""
        return strongest_paths(
            self.kg, rows, two_hop=self.two_hop, one_hop=self.one_hop, links=self.links,
            seed_rows=liked_rows, seed_cols=entity_cols,
            weights=self.settings.relation_weights, default=self.settings.default_weight,
        )
