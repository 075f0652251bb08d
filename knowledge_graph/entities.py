"""Name index over KG entities (genres, people, tags, decades) for the agent's entity linking."""

from __future__ import annotations

import difflib
import logging
import re
from collections import defaultdict
from collections.abc import Iterable

from catalog.text import normalize_genre
from catalog.text import normalize_name as normalize_name  # re-exported: it used to live here
from knowledge_graph.graph import KnowledgeGraph
from knowledge_graph.paths import placeholder

log = logging.getLogger(__name__)

LINKABLE_KINDS: tuple[str, ...] = ("genre", "person", "decade", "tag")
"""Entity kinds the index links, in the order ambiguous matches are returned."""

_FILLER = re.compile(r"\s+(movies?|films?)$")
_DECADE = re.compile(r"^(?:(?P<century>1[89]|20)?(?P<decade>\d)0)s$")


def _variants(query: str) -> list[str]:
    """Normalised forms of a query to try in order: as given, as a genre, without plurals."""
    base = normalize_name(query)
    out = [base, normalize_name(normalize_genre(query))]
    stripped = _FILLER.sub("", base)
    out.append(stripped)
    for word_end, repl in (("ies", "y"), ("s", "")):
        if stripped.endswith(word_end) and len(stripped) > len(word_end) + 2:
            out.append(stripped[: -len(word_end)] + repl)
    match = _DECADE.match(stripped.replace(" ", ""))
    if match:  # '80s', '1980s', "80's" -> '1980s'
        century = match.group("century") or ("20" if match.group("decade") in "012" else "19")
        out.append(f"{century}{match.group('decade')}0s")
    return list(dict.fromkeys(v for v in out if v))


def display_name(kg: KnowledgeGraph, entity_id: str, relation: str = "") -> str:
    """An entity's display name; for a nameless entity a placeholder such as '(a director)'.

    Args:
        kg: The graph.
        entity_id: The node id, e.g. 'person:Ridley Scott' or 'fb:m.0abc'.
        relation: The relation it was reached by, used to name a nameless entity.

    Returns:
        The name, the placeholder, or the id itself when nothing better is known.
    """
    name = kg.name(entity_id)
    if name:
        return name
    if not relation:
        relations = [str(r) for _, _, r in kg.graph.in_edges(entity_id, keys=True)]
        relation = max(set(relations), key=relations.count) if relations else ""
    return placeholder(relation) if relation else entity_id


class EntityIndex:
    """Maps normalised names to entity ids: exact names, aliases and surnames, then fuzzy.

    Args:
        names: Entity id -> display name.
        kinds: Entity id -> kind ('genre', 'person', 'tag', 'decade').
        degrees: Entity id -> number of items it links (ranks ambiguous matches).
    """

    def __init__(self, names: dict[str, str], kinds: dict[str, str],
                 degrees: dict[str, int]) -> None:
        self._kinds = kinds
        self._degrees = degrees
        self._names = names
        self._exact: dict[str, list[str]] = defaultdict(list)
        self._surname: dict[str, list[str]] = defaultdict(list)
        for entity, name in names.items():
            key = normalize_name(name)
            if not key:
                continue
            self._exact[key].append(entity)
            if kinds.get(entity) == "person" and " " in key:
                self._surname[key.rsplit(" ", 1)[1]].append(entity)
        for bucket in (*self._exact.values(), *self._surname.values()):
            bucket.sort(key=self._rank)
        self._keys = list(self._exact)

    @classmethod
    def from_graph(cls, kg: KnowledgeGraph,
                   kinds: Iterable[str] = LINKABLE_KINDS) -> EntityIndex:
        """Index every named entity of the given kinds in the graph."""
        wanted = set(kinds)
        names: dict[str, str] = {}
        node_kinds: dict[str, str] = {}
        for node, data in kg.graph.nodes(data=True):
            if data.get("kind") in wanted and data.get("name"):
                names[node] = str(data["name"])
                node_kinds[node] = str(data["kind"])
        degrees = {node: kg.item_degree(node) for node in names}
        return cls(names, node_kinds, degrees)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._names

    def _rank(self, entity: str) -> tuple[int, int, str]:
        kind = self._kinds.get(entity, "")
        order = LINKABLE_KINDS.index(kind) if kind in LINKABLE_KINDS else len(LINKABLE_KINDS)
        return order, -self._degrees.get(entity, 0), entity

    def display_name(self, entity_id: str) -> str:
        """The entity's display name ('' when unknown)."""
        return self._names.get(entity_id, "")

    def lookup(self, name: str, limit: int = 5, cutoff: float = 88.0,
               kinds: Iterable[str] | None = None) -> list[str]:
        """Entity ids whose name matches, best first; [] when nothing matches.

        Exact matches come first (also genre aliases, plurals, 'movies' suffixes, decades
        such as '80s', and people by surname for one-word queries), ranked genre, person,
        decade, tag and then by how many items they link. Only when none match, fuzzy matches
        (rapidfuzz if installed, else difflib) for queries of five or more characters.

        Args:
            name: The mention, e.g. 'ridley scot', 'science fiction', '80s'.
            limit: At most this many ids.
            cutoff: Minimum fuzzy similarity, 0-100.
            kinds: Only return entities of these kinds.

        Returns:
            Entity ids such as 'person:Ridley Scott'.
        """
        wanted = set(kinds) if kinds is not None else None

        def ok(entity: str) -> bool:
            return wanted is None or self._kinds.get(entity) in wanted

        variants = _variants(name)
        if not variants:
            return []
        exact = {e for key in variants for e in self._exact.get(key, ())}
        if " " not in variants[0]:  # 'Spielberg' -> people of that surname
            exact.update(self._surname.get(variants[0], ()))
        found = sorted((e for e in exact if ok(e)), key=self._rank)
        if found or len(variants[0]) < 5:
            return found[:limit]
        fuzzy = [e for key in self._fuzzy(variants[0], cutoff, limit * 3)
                 for e in self._exact[key] if ok(e)]
        return list(dict.fromkeys(fuzzy))[:limit]

    def _fuzzy(self, key: str, cutoff: float, limit: int) -> list[str]:
        """Index keys similar to the key, most similar first."""
        try:
            from rapidfuzz import fuzz, process
        except ImportError:
            return difflib.get_close_matches(key, self._keys, n=limit, cutoff=cutoff / 100)
        hits = process.extract(key, self._keys, scorer=fuzz.ratio, score_cutoff=cutoff,
                               limit=limit)
        return [str(hit[0]) for hit in hits]
