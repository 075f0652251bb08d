"""Sparse item-item kNN collaborative filtering for cold-start users: build, save, load, score."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from catalog.errors import ArtifactError
from catalog.models import Catalog

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
META_FILE = "cf_meta.json"
ARRAYS_FILE = "cf_arrays.npz"
# Upper bound on co-occurrence products materialised per block while building (memory guard).
BLOCK_PRODUCTS = 8_000_000


@dataclass(frozen=True)
class CFParams:
    """How the model is built; a change of any field invalidates the cached artifact.

    Attributes:
        n_neighbours: Neighbours kept per item (before symmetrising).
        shrink: Shrinkage added to the cosine denominator; damps pairs with few co-fans.
        positive_rating: A rating at or above this counts as "liked" (a fan of the item).
    """

    n_neighbours: int = 150
    shrink: float = 10.0
    positive_rating: float = 4.0


@dataclass(frozen=True)
class CoRating:
    """Exact co-rating statistic between a seed item and a candidate item.

    Attributes:
        n_seed_fans: Users who rated the seed at or above the positive threshold.
        n_both: Of those, users who also rated the candidate at or above the threshold.
    """

    n_seed_fans: int
    n_both: int

    @property
    def share(self) -> float:
        """Fraction of the seed's fans who are also fans of the candidate."""
        return self.n_both / self.n_seed_fans if self.n_seed_fans else 0.0


class CFModel:
    """Item-item neighbour matrix plus the binarised item x user matrix the evidence comes from.

    `neighbours[i, j]` is the shrunk cosine similarity of items i and j over their fans
    (users who rated them >= `params.positive_rating`); each row holds at most
    `n_neighbours` entries from i's own top list, unioned with the transpose so the matrix is
    symmetric. `fans` is item x user CSR with a 1 where the user is a fan of the item.

    Args:
        item_ids: Catalog item ids in matrix order.
        neighbours: Square CSR similarity matrix (float32, sorted indices).
        fans: Item x user binary CSR matrix (sorted indices).
        params: The parameters it was built with.
    """

    def __init__(self, item_ids: list[str], neighbours: sp.csr_matrix, fans: sp.csr_matrix,
                 params: CFParams) -> None:
        self.item_ids = item_ids
        self.index = {item_id: i for i, item_id in enumerate(item_ids)}
        self.neighbours = neighbours
        self.fans = fans
        self.params = params
        self.n_fans = np.diff(fans.indptr).astype(np.int64)

    @property
    def n_items(self) -> int:
        """Number of items the model covers (the whole catalog)."""
        return len(self.item_ids)

    @property
    def n_users(self) -> int:
        """Number of users in the training interactions."""
        return int(self.fans.shape[1])

    def indices_of(self, item_ids: list[str]) -> np.ndarray:
        """Matrix indices of the known ids, in order and de-duplicated; unknown ids are dropped."""
        seen: dict[int, None] = {}
        for item_id in item_ids:
            idx = self.index.get(item_id)
            if idx is not None:
                seen.setdefault(idx, None)
        return np.fromiter(seen, dtype=np.int64, count=len(seen))

    def scores(self, liked: np.ndarray, disliked: np.ndarray,
               dislike_weight: float = 0.5) -> np.ndarray:
        """Score every item for a new user.

        Args:
            liked: Indices of liked items.
            disliked: Indices of disliked items.
            dislike_weight: Weight of the similarity to disliked items (subtracted).

        Returns:
            A dense float32 vector over all items: sum of similarities to the liked items
            minus `dislike_weight` times the sum of similarities to the disliked ones.
        """
        out = np.zeros(self.n_items, dtype=np.float32)
        ptr, ind, val = self.neighbours.indptr, self.neighbours.indices, self.neighbours.data
        for seeds, sign in ((liked, 1.0), (disliked, -dislike_weight)):
            for s in seeds:
                lo, hi = ptr[s], ptr[s + 1]
                out[ind[lo:hi]] += np.float32(sign) * val[lo:hi]
        return out

    def similarities(self, seed: int, targets: np.ndarray) -> np.ndarray:
        """Similarity of one seed to each target index (0 where not neighbours)."""
        lo, hi = self.neighbours.indptr[seed], self.neighbours.indptr[seed + 1]
        row_ind, row_val = self.neighbours.indices[lo:hi], self.neighbours.data[lo:hi]
        out = np.zeros(len(targets), dtype=np.float32)
        if hi == lo:
            return out
        pos = np.searchsorted(row_ind, targets)
        pos_clipped = np.minimum(pos, hi - lo - 1)
        hit = row_ind[pos_clipped] == targets
        out[hit] = row_val[pos_clipped[hit]]
        return out

    def fan_mask(self, seed: int) -> np.ndarray:
        """Boolean mask over users: True for the fans of `seed`."""
        mask = np.zeros(self.n_users, dtype=bool)
        mask[self.fans.indices[self.fans.indptr[seed]:self.fans.indptr[seed + 1]]] = True
        return mask

    def co_rating(self, seed: int, item: int, seed_mask: np.ndarray | None = None) -> CoRating:
        """Exact count of the seed's fans who are also fans of `item`, from the raw data.

        Args:
            seed: Seed item index.
            item: Candidate item index.
            seed_mask: `fan_mask(seed)`, to reuse across many candidates.
        """
        mask = self.fan_mask(seed) if seed_mask is None else seed_mask
        users = self.fans.indices[self.fans.indptr[item]:self.fans.indptr[item + 1]]
        return CoRating(n_seed_fans=int(self.n_fans[seed]), n_both=int(mask[users].sum()))

    # ------------------------------------------------------------------ build / persist

    @classmethod
    def build(cls, catalog: Catalog, params: CFParams | None = None,
              show_progress: bool = False) -> CFModel:
        """Train on the catalog's interactions (ratings of unknown items are ignored).

        Args:
            catalog: The catalog whose items and interactions to use.
            params: Build parameters (defaults if None).
            show_progress: Show a progress bar over items.
        """
        params = params or CFParams()
        item_ids = list(catalog.items)
        fans = _fan_matrix(catalog, item_ids, params.positive_rating)
        neighbours = _knn(fans, params, show_progress)
        log.info("built CF model: %d items, %d users, %d fan pairs, %d neighbour pairs",
                 len(item_ids), fans.shape[1], fans.nnz, neighbours.nnz)
        return cls(item_ids, neighbours, fans, params)

    def save(self, folder: Path) -> None:
        """Write the arrays and metadata atomically (metadata last: it marks completion)."""
        folder.mkdir(parents=True, exist_ok=True)
        tmp_arrays = folder / (ARRAYS_FILE + ".part.npz")
        np.savez(tmp_arrays,
                 nb_indptr=self.neighbours.indptr, nb_indices=self.neighbours.indices,
                 nb_data=self.neighbours.data, fan_indptr=self.fans.indptr,
                 fan_indices=self.fans.indices)
        os.replace(tmp_arrays, folder / ARRAYS_FILE)
        meta = {"format_version": FORMAT_VERSION, "params": asdict(self.params),
                "n_users": self.n_users, "item_ids": self.item_ids}
        tmp_meta = folder / (META_FILE + ".part")
        tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp_meta, folder / META_FILE)

    @classmethod
    def load(cls, folder: Path) -> CFModel:
        """Load a saved model.

        Raises:
            ArtifactError: when the files are missing, of another format version, or corrupt.
        """
        fix = "rebuild it: `convrec build --rebuild` with the catalog's --catalog"
        arrays = folder / ARRAYS_FILE
        if not (folder / META_FILE).is_file() or not arrays.is_file():
            raise ArtifactError(f"no CF model in {folder}", fix)
        meta = read_meta(folder)
        if meta is None:
            raise ArtifactError(f"corrupt CF model in {folder}: unreadable {META_FILE}", fix)
        if not zipfile.is_zipfile(arrays):
            raise ArtifactError(f"corrupt CF model in {folder}: {ARRAYS_FILE} is not an .npz "
                                "archive (truncated?)", fix)
        if meta.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(f"CF model in {folder} has format {meta.get('format_version')}, "
                                f"expected {FORMAT_VERSION}", fix)
        try:
            params = CFParams(**meta["params"])
            item_ids = [str(i) for i in meta["item_ids"]]
            n, n_users = len(item_ids), int(meta["n_users"])
            with np.load(arrays, allow_pickle=False) as z:
                neighbours = sp.csr_matrix((z["nb_data"], z["nb_indices"], z["nb_indptr"]),
                                           shape=(n, n))
                fan_ind = z["fan_indices"]
                fans = sp.csr_matrix((np.ones(len(fan_ind), dtype=np.float32), fan_ind,
                                      z["fan_indptr"]), shape=(n, n_users))
            neighbours.check_format(full_check=False)
            fans.check_format(full_check=False)
        except (OSError, EOFError, zipfile.BadZipFile, KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"corrupt CF model in {folder}: {exc}", fix) from exc
        neighbours.has_sorted_indices = True
        fans.has_sorted_indices = True
        return cls(item_ids, neighbours, fans, params)


def read_meta(folder: Path) -> dict[str, Any] | None:
    """The saved model's metadata, or None when absent or unreadable."""
    path = folder / META_FILE
    if not path.is_file() or not (folder / ARRAYS_FILE).is_file():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def is_built(folder: Path, params: CFParams) -> bool:
    """True when `folder` holds a model of the current format built with `params`."""
    meta = read_meta(folder)
    return (meta is not None and meta.get("format_version") == FORMAT_VERSION
            and meta.get("params") == asdict(params))


def build_if_needed(catalog: Catalog, folder: Path, params: CFParams | None = None,
                    show_progress: bool = False) -> bool:
    """Build and save the model unless an up-to-date one is there; True if work was done."""
    params = params or CFParams()
    if is_built(folder, params):
        return False
    CFModel.build(catalog, params, show_progress).save(folder)
    return True


def load_or_build(catalog: Catalog, folder: Path, params: CFParams | None = None,
                  show_progress: bool = False) -> CFModel:
    """Load the cached model, (re)building it when missing, stale or corrupt."""
    params = params or CFParams()
    if is_built(folder, params):
        try:
            return CFModel.load(folder)
        except ArtifactError as exc:
            log.warning("rebuilding the CF model: %s", exc.message)
    model = CFModel.build(catalog, params, show_progress)
    model.save(folder)
    return model


def _fan_matrix(catalog: Catalog, item_ids: list[str], positive: float) -> sp.csr_matrix:
    """Binary item x user CSR matrix of ratings >= `positive` (unknown items dropped)."""
    inter = catalog.interactions
    index = {item_id: i for i, item_id in enumerate(item_ids)}
    users, user_inv = np.unique(inter.user_ids.astype(str), return_inverse=True)
    uniq_items, item_inv = np.unique(inter.item_ids.astype(str), return_inverse=True)
    item_map = np.array([index.get(i, -1) for i in uniq_items.tolist()], dtype=np.int64)
    rows = item_map[item_inv] if len(uniq_items) else np.zeros(0, dtype=np.int64)
    keep = (rows >= 0) & (np.asarray(inter.ratings, dtype=np.float64) >= positive)
    fans = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32),
                          (rows[keep], user_inv[keep])), shape=(len(item_ids), len(users)))
    fans.sum_duplicates()  # a repeated rating counts once
    fans.data[:] = 1.0
    fans.sort_indices()
    return fans


def _knn(fans: sp.csr_matrix, params: CFParams, show_progress: bool) -> sp.csr_matrix:
    """Top-N shrunk-cosine neighbours per item, computed block by block, then symmetrised."""
    n_items = fans.shape[0]
    n_fans = np.diff(fans.indptr).astype(np.float32)
    norms = np.sqrt(n_fans)
    fans_t = fans.T.tocsr()
    # Products each row of fans @ fans.T would materialise; blocks keep their sum bounded.
    cost = fans @ np.diff(fans_t.indptr).astype(np.float64)
    bounds = _blocks(cost, BLOCK_PRODUCTS)
    parts: list[sp.csr_matrix] = []
    with tqdm(total=n_items, desc="CF neighbours", unit="item", disable=not show_progress) as bar:
        for lo, hi in bounds:
            co = (fans[lo:hi] @ fans_t).tocoo()
            rows = co.row.astype(np.int64) + lo
            keep = rows != co.col
            rows, cols, counts = rows[keep], co.col[keep], co.data[keep]
            sim = counts / (norms[rows] * norms[cols] + params.shrink)
            order = np.lexsort((cols, -sim, rows))
            rows, cols, sim = rows[order], cols[order], sim[order]
            starts = np.searchsorted(rows, np.arange(lo, hi))
            rank = np.arange(len(rows)) - starts[rows - lo]
            top = rank < params.n_neighbours
            parts.append(sp.csr_matrix((sim[top].astype(np.float32), (rows[top] - lo, cols[top])),
                                       shape=(hi - lo, n_items)))
            bar.update(hi - lo)
    top_n = sp.vstack(parts, format="csr") if parts else sp.csr_matrix((n_items, n_items))
    symmetric = top_n.maximum(top_n.T).tocsr().astype(np.float32)
    symmetric.sort_indices()
    return symmetric


def _blocks(cost: np.ndarray, budget: float) -> list[tuple[int, int]]:
    """Split rows into contiguous blocks whose summed cost stays under `budget` (>= 1 row)."""
    bounds: list[tuple[int, int]] = []
    lo, acc = 0, 0.0
    for i, c in enumerate(cost.tolist()):
        if acc and acc + c > budget:
            bounds.append((lo, i))
            lo, acc = i, 0.0
        acc += c
    if lo < len(cost):
        bounds.append((lo, len(cost)))
    return bounds
