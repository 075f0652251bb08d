"""The knowledge graph: building it from catalog metadata, expansion, explanation paths, names."""

from knowledge_graph.entities import EntityIndex, display_name, normalize_name
from knowledge_graph.expansion import (
    DEFAULT_RELATION_WEIGHTS,
    Expansion,
    ExpansionSettings,
    KGExpander,
    hub_factor,
)
from knowledge_graph.graph import (
    GRAPH_VERSION,
    KnowledgeGraph,
    build_graph,
    graph_key,
    item_node,
    load_graph,
    load_or_build,
    save_graph,
)
from knowledge_graph.paths import KGPath, strongest_path, strongest_paths

__all__ = [
    "DEFAULT_RELATION_WEIGHTS",
    "EntityIndex",
    "Expansion",
    "ExpansionSettings",
    "GRAPH_VERSION",
    "KGExpander",
    "KGPath",
    "KnowledgeGraph",
    "build_graph",
    "display_name",
    "graph_key",
    "hub_factor",
    "item_node",
    "load_graph",
    "load_or_build",
    "normalize_name",
    "save_graph",
    "strongest_path",
    "strongest_paths",
]
