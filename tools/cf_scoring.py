"""Collaborative-filtering tool: scores items for a new user from liked and disliked items."""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np

from catalog.errors import ArtifactError
from catalog.models import Catalog
from tools.base import (
    Candidate,
    ConvrecTool,
    Evidence,
    InputKind,
    ProfileInputs,
    ToolResources,
    ToolState,
    build_fix,
    rebuild_fix,
)
from tools.engines.cf_model import (
    ARRAYS_FILE,
    META_FILE,
    CFModel,
    CFParams,
    build_if_needed,
    is_built,
    load_or_build,
)

log = logging.getLogger(__name__)


class CFScoringTool(ConvrecTool):
    """Score catalog items by how often fans of the user's liked items were also fans of them.

    Uses item-item collaborative filtering over the catalog's ratings: an item scores the sum
    of its similarities to the liked items minus a weighted sum of its similarities to the
    disliked ones. Needs at least one liked item; returns the best items with the liked item
    behind each and the share of that item's fans who also rated the candidate highly.
    """

    name: str = "cf_scoring"
    description: str = (
        "Collaborative filtering: recommend items that people who liked the user's liked items "
        "also rated highly (disliked items push similar items down)."
    )
    consumes: ClassVar[frozenset[InputKind]] = frozenset(
        {InputKind.LIKED_ITEMS, InputKind.DISLIKED_ITEMS})

    model: CFModel
    catalog: Catalog
    dislike_weight: float = 0.5
    max_evidence: int = 2

    @classmethod
    def create(cls, resources: ToolResources) -> CFScoringTool:
        """Load the CF model from the artifact cache, building it on first use."""
        model = load_or_build(resources.catalog, resources.artifact_dir("cf"),
                              show_progress=resources.show_progress)
        return cls(model=model, catalog=resources.catalog)

    @classmethod
    def build_artifacts(cls, resources: ToolResources) -> bool:
        """Build and cache the CF model; False when an up-to-date one is already cached."""
        return build_if_needed(resources.catalog, resources.artifact_dir("cf"), CFParams(),
                               show_progress=resources.show_progress)

    @classmethod
    def check_artifacts(cls, resources: ToolResources) -> str:
        """Verify the cached CF model (present, readable, current parameters) without building."""
        catalog, folder = resources.catalog, resources.artifact_dir("cf")
        if not (folder / META_FILE).exists() and not (folder / ARRAYS_FILE).exists():
            raise ArtifactError(f"the CF model for {catalog.name} is not built",
                                build_fix(catalog))
        try:
            model = CFModel.load(folder)
        except ArtifactError as exc:
            raise ArtifactError(exc.message, rebuild_fix(catalog)) from exc
        if not is_built(folder, CFParams()):
            raise ArtifactError(f"the CF model in {folder} was built with other parameters",
                                build_fix(catalog))
        return f"CF model: {model.n_items:,} items, {model.n_users:,} users in {folder}"

    def score(self, profile: ProfileInputs, k: int, state: ToolState) -> list[Candidate]:
        """Return up to k items most similar to the liked items, best first, with evidence.

        Seeds, disliked items, `state.excluded_ids` and items outside `state.candidate_ids`
        (when set) are never returned; constraints are applied. Unknown ids are ignored.
        """
        model = self.model
        liked = model.indices_of(profile.liked_items)
        if len(liked) == 0:
            return []
        disliked = model.indices_of(profile.disliked_items)
        scores = model.scores(liked, disliked, self.dislike_weight)
        blocked = np.concatenate([liked, disliked,
                                  model.indices_of(list(state.excluded_ids))])
        scores[blocked] = 0.0
        if state.candidate_ids is not None:
            allowed = np.zeros(model.n_items, dtype=bool)
            allowed[model.indices_of(list(state.candidate_ids))] = True
            scores[~allowed] = 0.0
        positive = np.flatnonzero(scores > 0)
        # Best first; equal scores fall back to matrix order, so results are deterministic.
        ranked = positive[np.argsort(-scores[positive], kind="stable")]
        chosen = self._apply_constraints(ranked, profile, k)
        return self._with_evidence(chosen, scores, liked)

    def _apply_constraints(self, ranked: np.ndarray, profile: ProfileInputs,
                           k: int) -> list[int]:
        """The first k ranked indices whose items satisfy the profile's constraints."""
        constraints = profile.constraints
        if constraints.is_empty():
            return ranked[:k].tolist()
        chosen: list[int] = []
        for idx in ranked.tolist():
            item = self.catalog.items.get(self.model.item_ids[idx])
            if item is not None and constraints.allows(item):
                chosen.append(idx)
                if len(chosen) == k:
                    break
        return chosen

    def _with_evidence(self, chosen: list[int], scores: np.ndarray,
                       liked: np.ndarray) -> list[Candidate]:
        """Attach to each item the liked items that contribute most, with co-rating counts."""
        model, items = self.model, self.catalog.items
        targets = np.asarray(chosen, dtype=np.int64)
        contrib = np.stack([model.similarities(int(s), targets) for s in liked])
        masks: dict[int, np.ndarray] = {}
        threshold = _format_rating(model.params.positive_rating)
        out: list[Candidate] = []
        for col, idx in enumerate(chosen):
            item_id = model.item_ids[idx]
            title = items[item_id].title if item_id in items else item_id
            order = np.lexsort((liked, -contrib[:, col]))[: self.max_evidence]
            evidence: list[Evidence] = []
            for row in order.tolist():
                if contrib[row, col] <= 0:
                    break
                seed = int(liked[row])
                if seed not in masks:
                    masks[seed] = model.fan_mask(seed)
                stat = model.co_rating(seed, idx, masks[seed])
                seed_id = model.item_ids[seed]
                seed_title = items[seed_id].title if seed_id in items else seed_id
                percent = round(100 * stat.share)
                evidence.append(Evidence(
                    tool=self.name, kind="cf_neighbour",
                    text=(f"Of {stat.n_seed_fans} people who rated {seed_title} {threshold}+, "
                          f"{percent}% ({stat.n_both}) also rated {title} {threshold}+."),
                    data={"seed_id": seed_id, "seed_title": seed_title, "item_title": title,
                          "n_seed_fans": stat.n_seed_fans, "n_both": stat.n_both,
                          "share": stat.share, "percent": percent,
                          "min_rating": model.params.positive_rating,
                          "similarity": float(contrib[row, col])},
                ))
            out.append(Candidate(item_id=item_id, score=float(scores[idx]), evidence=evidence))
        return out


def _format_rating(value: float) -> str:
    """'4' for 4.0, '3.5' for 3.5."""
    return str(int(value)) if float(value).is_integer() else str(value)
