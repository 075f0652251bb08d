"""Learned ranking of the tools' candidates: features, a LightGBM or logistic model, its artifact.

The ranker re-orders the candidates the tools returned (it never adds one): per candidate it
reads each tool's score and rank, the reciprocal-rank fusion of them, the item's popularity,
year and training prior, how close it is to the profile (year distance, shared genres and
people) and the co-mention count, and scores them with a model trained by
`convrec train ranker`. Models are stored as versioned artifacts in the cache dir, keyed by
the catalog's items; with none installed the planner keeps reciprocal-rank fusion.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from catalog.errors import ArtifactError
from catalog.models import Catalog
from tools.base import Candidate, ProfileInputs, ToolResult

log = logging.getLogger(__name__)

FEATURE_VERSION = 1
KIND = "ranker"
MODEL_FILE = "model.txt"
META_FILE = "ranker_meta.json"
ACTIVE_FILE = "active.json"
RRF_K = 60
TOOL_ORDER: tuple[str, ...] = ("vector_retrieval", "kg_expansion", "cf_scoring", "comention")
"""Tools with their own feature columns; any other tool counts in the fused columns only."""
TRAIN_FIX = "convrec train ranker (rebuilds it), or set CONVREC_RANKER=rrf"
ModelKind = Literal["lambdarank", "logistic"]


def feature_names(tools: Sequence[str] = TOOL_ORDER) -> list[str]:
    """The columns of the feature matrix, in order."""
    per_tool = [f"{t}:{part}" for t in tools for part in ("rank_inv", "score_rel")]
    return per_tool + [
        "other:rank_inv", "rrf", "rrf_weighted", "fused_rank_inv", "n_tools",
        "log_pop", "pop_pct", "mean_rating", "year", "log_prior", "comention_count",
        "year_dist_mean", "year_dist_min", "genre_share_liked", "genre_entity_hits",
        "people_shared_liked", "person_entity_hits",
        "q_liked", "q_genres", "q_people", "q_text_words",
    ]


class CatalogFeatures:
    """Per-item arrays the features read, computed once per catalog."""

    def __init__(self, catalog: Catalog) -> None:
        ids = sorted(catalog.items)
        self.index = {item_id: i for i, item_id in enumerate(ids)}
        n = len(ids)
        pop = catalog.popularity()
        counts = np.array([pop.get(i, 0) for i in ids], dtype=np.float64)
        self.log_pop = np.log1p(counts)
        order = np.argsort(counts, kind="stable")
        self.pop_pct = np.empty(n)
        self.pop_pct[order] = np.arange(n) / max(n - 1, 1)
        sums = np.zeros(n)
        code = np.array([self.index.get(str(i), -1) for i in catalog.interactions.item_ids],
                        dtype=np.int64)
        ok = code >= 0
        np.add.at(sums, code[ok], catalog.interactions.ratings[ok].astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            self.mean_rating = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        self.year = np.array([catalog.items[i].year or np.nan for i in ids], dtype=np.float64)
        genres = catalog.genres()
        self.genre_bit = {g: 1 << b for b, g in enumerate(genres[:63])}
        self.genres = np.array([sum(self.genre_bit.get(g, 0) for g in set(catalog.items[i].genres))
                                for i in ids], dtype=np.uint64)
        self.people = [frozenset(p for ps in catalog.items[i].people.values() for p in ps)
                       for i in ids]


class FeatureBuilder:
    """Turns (profile inputs, tool results, candidate ids) into a feature matrix.

    Args:
        catalog: The catalog the candidates come from.
        tools: Tools with their own columns.
        priors: Item id -> how often it was a positive in the training data.
    """

    def __init__(self, catalog: Catalog, tools: Sequence[str] = TOOL_ORDER,
                 priors: dict[str, float] | None = None,
                 catalog_features: CatalogFeatures | None = None) -> None:
        self.tools = tuple(tools)
        self.names = feature_names(self.tools)
        self.col = {n: i for i, n in enumerate(self.names)}
        self.items = catalog_features or CatalogFeatures(catalog)
        self.log_prior = np.zeros(len(self.items.index))
        for item_id, count in (priors or {}).items():
            j = self.items.index.get(item_id)
            if j is not None:
                self.log_prior[j] = math.log1p(count)

    def matrix(self, inputs: ProfileInputs, results: Sequence[ToolResult],
               candidates: Sequence[str], weights: dict[str, float] | None = None) -> np.ndarray:
        """One row per candidate id (ids outside the catalog get item features NaN)."""
        weights = weights or {}
        n, col = len(candidates), self.col
        x = np.zeros((n, len(self.names)), dtype=np.float64)
        pos = {item_id: r for r, item_id in enumerate(candidates)}
        for result in results:
            if result.error or not result.candidates:
                continue
            own = result.tool in self.tools
            c_rank = col[f"{result.tool}:rank_inv"] if own else col["other:rank_inv"]
            found = [(pos.get(c.item_id, -1), c.score) for c in result.candidates]
            rows_all = np.fromiter((f[0] for f in found), dtype=np.int64, count=len(found))
            scores = np.fromiter((f[1] for f in found), dtype=np.float64, count=len(found))
            top = float(np.abs(scores).max()) or 1.0
            # first occurrence of each candidate in the tool's list (its list rank counts)
            _, first = np.unique(rows_all, return_index=True)
            first = first[rows_all[first] >= 0]
            rows, ranks = rows_all[first], first + 1.0
            x[rows, c_rank] = np.maximum(x[rows, c_rank], 1.0 / ranks)
            if own:
                x[rows, col[f"{result.tool}:score_rel"]] = scores[first] / top
            x[rows, col["rrf"]] += 1.0 / (RRF_K + ranks)
            x[rows, col["rrf_weighted"]] += weights.get(result.tool, 1.0) / (RRF_K + ranks)
            x[rows, col["n_tools"]] += 1.0
            if result.tool == "comention":
                c_count = col["comention_count"]
                for j in first.tolist():
                    cand = result.candidates[j]
                    x[rows_all[j], c_count] = max(
                        (float(e.data.get("n_conversations", e.data.get("n_users", 0)))
                         for e in cand.evidence), default=0.0)
        x[:, col["fused_rank_inv"]] = 1.0 / np.arange(1, n + 1)
        self._item_columns(x, inputs, candidates)
        return x

    def _item_columns(self, x: np.ndarray, inputs: ProfileInputs,
                      candidates: Sequence[str]) -> None:
        items, col = self.items, self.col
        idx = np.array([items.index.get(c, -1) for c in candidates], dtype=np.int64)
        known = idx >= 0
        safe = np.where(known, idx, 0)

        def put(name: str, values: np.ndarray) -> None:
            x[:, col[name]] = np.where(known, values, np.nan)

        put("log_pop", items.log_pop[safe])
        put("pop_pct", items.pop_pct[safe])
        put("mean_rating", items.mean_rating[safe])
        put("year", items.year[safe])
        put("log_prior", self.log_prior[safe])
        liked = [items.index[i] for i in inputs.liked_items if i in items.index]
        years = items.year[liked] if liked else np.array([])
        years = years[~np.isnan(years)]
        cand_years = items.year[safe]
        if len(years):
            dist = np.abs(cand_years[:, None] - years[None, :])
            put("year_dist_mean", np.abs(cand_years - years.mean()))
            put("year_dist_min", dist.min(axis=1))
        else:
            x[:, col["year_dist_mean"]] = np.nan
            x[:, col["year_dist_min"]] = np.nan
        liked_bits = np.uint64(0)
        liked_people: set[str] = set()
        for j in liked:
            liked_bits |= items.genres[j]
            liked_people |= items.people[j]
        genre_entities = [e.split(":", 1)[1] for e in inputs.entities if e.startswith("genre:")]
        entity_bits = np.uint64(sum(items.genre_bit.get(g, 0) for g in set(genre_entities)))
        person_entities = {e.split(":", 1)[1] for e in inputs.entities if e.startswith("person:")}
        cand_bits = items.genres[safe]
        n_genres = np.bitwise_count(cand_bits).astype(np.float64)
        shared = np.bitwise_count(cand_bits & liked_bits).astype(np.float64)
        put("genre_share_liked", np.where(n_genres > 0, shared / np.maximum(n_genres, 1), 0.0))
        put("genre_entity_hits", np.bitwise_count(cand_bits & entity_bits).astype(np.float64))
        if liked_people or person_entities:
            people = [items.people[j] if ok else frozenset() for j, ok in zip(safe, known,
                                                                              strict=True)]
            put("people_shared_liked", np.array([len(p & liked_people) for p in people], float))
            put("person_entity_hits", np.array([len(p & person_entities) for p in people], float))
        x[:, col["q_liked"]] = len(liked)
        x[:, col["q_genres"]] = len(genre_entities)
        x[:, col["q_people"]] = len(person_entities)
        x[:, col["q_text_words"]] = math.log1p(len(inputs.free_text.split()))


# ---------------------------------------------------------------------- models


@dataclass
class LogisticModel:
    """L2-regularised logistic regression on standardised features (NaN -> the training mean)."""

    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, l2: float = 1.0,
            sample_weight: np.ndarray | None = None) -> LogisticModel:
        """Fit by L-BFGS on the mean log-loss plus l2 / n * |w|^2 / 2."""
        from scipy.optimize import minimize

        mean = np.nanmean(np.where(np.isfinite(x), x, np.nan), axis=0)
        mean = np.where(np.isnan(mean), 0.0, mean)
        z = _standardize(x, mean, None)
        scale = z.std(axis=0)
        scale = np.where(scale > 1e-9, scale, 1.0)
        z /= scale
        w = np.ones(len(y)) if sample_weight is None else sample_weight
        w = w / w.sum()
        lam = l2 / len(y)

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            logits = z @ theta[1:] + theta[0]
            p = 1.0 / (1.0 + np.exp(-logits))
            ll = np.logaddexp(0.0, logits) - y * logits
            g = w * (p - y)
            grad = np.concatenate([[g.sum()], z.T @ g + lam * theta[1:]])
            return float(w @ ll + 0.5 * lam * theta[1:] @ theta[1:]), grad

        res = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B",
                       options={"maxiter": 500})
        return cls(res.x[1:], float(res.x[0]), mean, scale)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Logits (higher is better)."""
        return _standardize(x, self.mean, self.scale) @ self.coef + self.intercept

    def to_json(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {"coef": self.coef.tolist(), "intercept": self.intercept,
                "mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogisticModel:
        """Parameters written by `to_json`."""
        return cls(np.asarray(data["coef"], float), float(data["intercept"]),
                   np.asarray(data["mean"], float), np.asarray(data["scale"], float))


def _standardize(x: np.ndarray, mean: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
    z = np.where(np.isfinite(x), x, mean[None, :]) - mean[None, :]
    return z / scale[None, :] if scale is not None else z


LAMBDARANK_PARAMS: dict[str, Any] = {
    "objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "learning_rate": 0.05,
    "num_leaves": 15, "min_data_in_leaf": 40, "feature_fraction": 0.8, "bagging_fraction": 0.8,
    "bagging_freq": 1, "lambda_l2": 1.0, "lambdarank_truncation_level": 30,
    "num_threads": 1, "verbose": -1, "seed": 0, "deterministic": True,
}


def train_lambdarank(x: np.ndarray, y: np.ndarray, groups: Sequence[int],
                     valid: tuple[np.ndarray, np.ndarray, Sequence[int]] | None = None,
                     rounds: int = 400, params: dict[str, Any] | None = None) -> Any:
    """A LightGBM lambdarank booster; early stopping on `valid` (NDCG@10) when given."""
    import lightgbm as lgb

    p = {**LAMBDARANK_PARAMS, **(params or {})}
    train = lgb.Dataset(x, y, group=list(groups), free_raw_data=False)
    callbacks = []
    sets, names = [train], ["train"]
    if valid is not None:
        sets.append(lgb.Dataset(valid[0], valid[1], group=list(valid[2]), reference=train))
        names.append("valid")
        callbacks.append(lgb.early_stopping(40, verbose=False))
    return lgb.train(p, train, num_boost_round=rounds, valid_sets=sets, valid_names=names,
                     callbacks=callbacks)


# ---------------------------------------------------------------------- the ranker


@dataclass
class LearnedRanker:
    """A trained model plus the feature builder it was trained with.

    Attributes:
        kind: "lambdarank" (LightGBM) or "logistic".
        model: A lightgbm Booster or a LogisticModel.
        features: Builds the feature matrix.
        pool: How many of the fused candidates are re-ranked (the rest keep their order).
        meta: Training data, metrics and versions (saved with the model).
    """

    kind: ModelKind
    model: Any
    features: FeatureBuilder
    pool: int = 300
    meta: dict[str, Any] = field(default_factory=dict)

    def scores(self, inputs: ProfileInputs, results: Sequence[ToolResult],
               candidates: Sequence[str], weights: dict[str, float] | None = None) -> np.ndarray:
        """The model's score of each candidate (higher is better)."""
        x = self.features.matrix(inputs, results, candidates, weights)
        if self.kind == "logistic":
            return self.model.predict(x)
        return np.asarray(self.model.predict(x, num_threads=1), dtype=np.float64)

    def rerank(self, inputs: ProfileInputs, results: Sequence[ToolResult],
               fused: list[Candidate], weights: dict[str, float] | None = None) -> list[Candidate]:
        """The fused candidates re-ordered by the model (ties keep the fused order); the
        candidates beyond `pool` follow in their fused order.

        The candidates are re-scored in place (copying ~300 pydantic objects cost more than
        the model): pass the planner's own fused list, as `rank_results` does.
        """
        if not fused:
            return []
        head, tail = fused[: self.pool], fused[self.pool:]
        s = self.scores(inputs, results, [c.item_id for c in head], weights)
        order = np.lexsort((np.arange(len(head)), -s))
        ranked = [head[i] for i in order.tolist()]
        for c, value in zip(ranked, s[order].tolist(), strict=True):
            c.score = value
        low = float(s.min())
        for n, c in enumerate(tail):
            c.score = low - 1.0 - n
        return ranked + tail

    def importance(self) -> dict[str, float]:
        """Share of the total gain per feature (LightGBM) or |standardised coefficient|."""
        if self.kind == "logistic":
            raw = np.abs(self.model.coef)
        else:
            raw = np.asarray(self.model.feature_importance(importance_type="gain"), float)
        total = raw.sum() or 1.0
        pairs = sorted(zip(self.features.names, raw / total, strict=True), key=lambda p: -p[1])
        return {name: float(v) for name, v in pairs}

    # ------------------------------------------------------------------ persistence

    def save(self, folder: Path) -> None:
        """Write the model, then the metadata (which marks completion), atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (MODEL_FILE + ".part")
        if self.kind == "logistic":
            tmp.write_text(json.dumps(self.model.to_json()), encoding="utf-8")
        else:
            tmp.write_text(self.model.model_to_string(), encoding="utf-8")
        os.replace(tmp, folder / MODEL_FILE)
        meta = {**self.meta, "feature_version": FEATURE_VERSION, "kind": self.kind,
                "tools": list(self.features.tools), "features": self.features.names,
                "pool": self.pool, "priors": self.meta.get("priors", {})}
        tmp_meta = folder / (META_FILE + ".part")
        tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp_meta, folder / META_FILE)

    @classmethod
    def load(cls, folder: Path, catalog: Catalog,
             catalog_features: CatalogFeatures | None = None) -> LearnedRanker:
        """Load a saved ranker for a catalog.

        Raises:
            ArtifactError: when a file is missing or corrupt, or of another feature version.
        """
        meta_path, model_path = folder / META_FILE, folder / MODEL_FILE
        if not meta_path.is_file() or not model_path.is_file():
            raise ArtifactError(f"no ranker model in {folder}", TRAIN_FIX)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            text = model_path.read_text(encoding="utf-8")
            if meta.get("feature_version") != FEATURE_VERSION:
                raise ArtifactError(f"the ranker in {folder} has feature version "
                                    f"{meta.get('feature_version')}, expected {FEATURE_VERSION}",
                                    TRAIN_FIX)
            kind = meta["kind"]
            if kind == "logistic":
                model: Any = LogisticModel.from_json(json.loads(text))
            else:
                import lightgbm as lgb

                model = lgb.Booster(model_str=text)
            features = FeatureBuilder(catalog, meta["tools"], meta.get("priors"),
                                      catalog_features)
            if features.names != meta["features"]:
                raise ArtifactError(f"the ranker in {folder} has other features", TRAIN_FIX)
        except ArtifactError:
            raise
        except Exception as exc:  # noqa: BLE001 - any damage is reported with its fix
            raise ArtifactError(f"corrupt ranker model in {folder}: {type(exc).__name__}: "
                                f"{exc}", TRAIN_FIX) from exc
        return cls(kind, model, features, int(meta.get("pool", 300)), meta)


def ranker_root(cache_dir: Path, catalog: Catalog) -> Path:
    """Where a catalog's rankers live: keyed by its items (a copy with evaluation users held
    out finds the same model)."""
    return cache_dir / "artifacts" / f"{catalog.name}-{catalog.part_hash('items')}" / KIND


def install_ranker(cache_dir: Path, catalog: Catalog, ranker: LearnedRanker) -> Path:
    """Save the ranker under a hash of its model and make it the catalog's active one."""
    digest = hashlib.sha256(json.dumps(ranker.meta.get("training", {}), sort_keys=True,
                                       default=str).encode())
    digest.update(ranker.kind.encode())
    root = ranker_root(cache_dir, catalog)
    folder = root / f"v{FEATURE_VERSION}-{ranker.kind}-{digest.hexdigest()[:12]}"
    ranker.meta.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S"))
    ranker.save(folder)
    tmp = root / (ACTIVE_FILE + ".part")
    tmp.write_text(json.dumps({"folder": folder.name}), encoding="utf-8")
    os.replace(tmp, root / ACTIVE_FILE)
    return folder


def load_ranker(cache_dir: Path, catalog: Catalog) -> LearnedRanker | None:
    """The catalog's active ranker, or None when none is installed.

    Raises:
        ArtifactError: when the installed ranker is damaged (naming the fix).
    """
    pointer = ranker_root(cache_dir, catalog) / ACTIVE_FILE
    if not pointer.is_file():
        return None
    try:
        name = json.loads(pointer.read_text(encoding="utf-8"))["folder"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"unreadable {pointer}: {exc}", TRAIN_FIX) from exc
    return LearnedRanker.load(ranker_root(cache_dir, catalog) / str(name), catalog)
