"""Knowledge-graph expansion tool: items linked to liked items and named entities by KG paths."""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np

from catalog.errors import ArtifactError
from catalog.models import Catalog
from knowledge_graph import (
    ExpansionSettings,
    KGExpander,
    KnowledgeGraph,
    graph_key,
    load_graph,
    load_or_build,
)
from knowledge_graph.graph import graph_path
from knowledge_graph.paths import KGPath, strongest_paths
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

log = logging.getLogger(__name__)

SHARED_KEY = "knowledge_graph"
"""Key of the loaded KnowledgeGraph in `ToolResources.shared` (entity linking reuses it)."""


def _load(resources: ToolResources) -> tuple[KnowledgeGraph, bool]:
    """The catalog's graph: from `resources.shared`, the artifact cache, or built now."""
    key = graph_key(resources.catalog)
    cached = resources.shared.get(SHARED_KEY)
    if isinstance(cached, KnowledgeGraph) and cached.catalog_hash == key:
        return cached, False
    kg, built = load_or_build(resources.catalog, resources.artifact_dir("kg"),
                              show_progress=resources.show_progress, key=key)
    resources.shared[SHARED_KEY] = kg
    return kg, built


class KGExpansionTool(ConvrecTool):
    """Recommend items connected to the user's liked items or named entities in the KG.

    Follows item -> entity -> item paths from liked items (shared director, writer, star,
    tag, genre, decade, or a Freebase relation) and entity -> item edges from named people,
    genres and tags. Relations weigh differently (a shared director counts far more than a
    shared genre) and entities that link many items count little. Paths from disliked items
    subtract. Each item comes with its strongest path as evidence, e.g.
    'Alien (1979) -director-> Ridley Scott <-director- Blade Runner (1982)'.
    """

    name: str = "kg_expansion"
    description: str = (
        "Knowledge-graph expansion: recommend items that share directors, writers, stars, "
        "tags or genres with the user's liked items, or that involve the people, genres and "
        "tags the user named."
    )
    consumes: ClassVar[frozenset[InputKind]] = frozenset(
        {InputKind.LIKED_ITEMS, InputKind.ENTITIES, InputKind.DISLIKED_ITEMS})

    kg: KnowledgeGraph
    expander: KGExpander
    catalog: Catalog

    @classmethod
    def create(cls, resources: ToolResources,
               settings: ExpansionSettings | None = None) -> KGExpansionTool:
        """Load the graph from the artifact cache (building it on first use) and precompute.

        Args:
            resources: Catalog, cache and progress settings.
            settings: Relation weights, hub penalty and dislike weight (defaults if None).

        Returns:
            The tool, ready to score.
        """
        kg, _ = _load(resources)
        popularity = resources.catalog.popularity()
        prior = np.array([popularity.get(i, 0) for i in kg.item_ids], dtype=np.float32)
        expander = KGExpander(kg, settings, prior=prior)
        log.info("kg_expansion ready: %s", kg.summary())
        return cls(kg=kg, expander=expander, catalog=resources.catalog)

    @classmethod
    def build_artifacts(cls, resources: ToolResources) -> bool:
        """Build and cache the graph; False when an up-to-date one is already cached."""
        return _load(resources)[1]

    @classmethod
    def check_artifacts(cls, resources: ToolResources) -> str:
        """Verify the cached graph (present, readable, of this catalog) without building it.

        The loaded graph is kept in `resources.shared`, so creating the tool next reuses it.
        """
        catalog, folder = resources.catalog, resources.artifact_dir("kg")
        if not graph_path(folder).exists():
            raise ArtifactError(f"the knowledge graph for {catalog.name} is not built",
                                build_fix(catalog))
        key = graph_key(catalog)
        try:
            kg = load_graph(folder, key)
        except ArtifactError as exc:
            raise ArtifactError(exc.message, rebuild_fix(catalog)) from exc
        resources.shared[SHARED_KEY] = kg
        return f"{kg.summary()} in {graph_path(folder)}"

    def score(self, profile: ProfileInputs, k: int, state: ToolState) -> list[Candidate]:
        """Return up to k items best connected to the profile's seeds, with their paths.

        Seeds (liked items), disliked items, `state.excluded_ids` and items outside
        `state.candidate_ids` (when set) are never returned; constraints are applied.
        Unknown item and entity ids are ignored; no liked item and no entity gives [].
        """
        constraints = profile.constraints
        items = self.catalog.items

        def keep(item_id: str) -> bool:
            item = items.get(item_id)
            return item is not None and constraints.allows(item)

        expansions = self.expander.expand(
            liked=profile.liked_items, entities=profile.entities,
            disliked=profile.disliked_items, k=k,
            keep=None if constraints.is_empty() else keep,
            candidate_ids=state.candidate_ids, excluded_ids=state.excluded_ids, explain=False,
        )
        paths = self._named_paths([e.item_id for e in expansions], profile)
        return [
            Candidate(
                item_id=e.item_id,
                score=e.score,
                evidence=[Evidence(tool=self.name, kind="kg_path", text=path.text,
                                   data=path.data())] if path is not None and path.text else [],
            )
            for e, path in zip(expansions, paths, strict=True)
        ]

    def _named_paths(self, item_ids: list[str], profile: ProfileInputs) -> list[KGPath | None]:
        """Each item's strongest path through named entities only (none: no KG evidence).

        A path through a nameless Freebase entity (ml-100k's "(an actor)") tells the user
        nothing, so the explanation falls back to the best named path (a shared genre or
        decade) or to no KG evidence at all; the scores are not affected.
        """
        x = self.expander
        return strongest_paths(
            self.kg, x.rows_of(item_ids), two_hop=x.two_hop, one_hop=x.one_hop, links=x.links,
            seed_rows=x.rows_of(profile.liked_items), seed_cols=x.cols_of(profile.entities),
            weights=x.settings.relation_weights, default=x.settings.default_weight,
            named_only=True)
