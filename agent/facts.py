"""Evidence as structured facts (CF statistics, KG links, snippets) for justifications and checks."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog.models import Item
from catalog.text import fold_text
from tools.base import Evidence

log = logging.getLogger(__name__)

_TITLE_YEAR = re.compile(r"^(?P<title>.+?) \((?P<year>\d{4})\)$")
_CF_TEXT = re.compile(r"^Of (?P<base>\d+) people who rated (?P<seed>.+?) (?P<r>\d+(?:\.\d+)?)\+, "
                      r"(?P<pct>\d+)% \((?P<both>\d+)\) also rated (?P<item>.+?) "
                      r"\d+(?:\.\d+)?\+\.?$")
_HOP = re.compile(r" (-[\w ]+->|<-[\w ]+-) ")
PERSON_ROLES = {"director", "writer", "star", "actor", "producer", "cinematographer", "composer",
                "editor"}
ROLE_OF = {"star": "actor", "actor": "actor", "director": "director", "writer": "writer",
           "producer": "producer", "cinematographer": "cinematographer",
           "composer": "composer", "editor": "editor"}
ITEM_LINKS = {"sequel", "prequel", "remake", "spin_off", "based_on"}
"""KG relation -> the role a person holds (ReDial's 'star' and Freebase's 'actor' are one)."""


def norm(text: str) -> str:
    """Lower-case ASCII words only: how titles and names are compared (`catalog.text.fold_text`)."""
    return fold_text(text)


def split_title(name: str) -> tuple[str, int | None]:
    """'Alien (1979)' -> ('Alien', 1979); a name without a year keeps None."""
    m = _TITLE_YEAR.match(name.strip())
    return (m.group("title"), int(m.group("year"))) if m else (name.strip(), None)


@dataclass(frozen=True)
class Title:
    """A film named by the evidence."""

    title: str
    year: int | None = None


@dataclass(frozen=True)
class CFStat:
    """Of `base` people who rated `seed` >= min_rating, `percent`% (`both`) rated `item` so."""

    seed: str
    item: str
    base: int
    both: int
    percent: int
    share: float
    min_rating: float


@dataclass(frozen=True)
class CoMention:
    """`n` users rated `item` highly soon after `seed` (or `n` conversations recommended it
    after `seed`, when `source` is the dialogues)."""

    seed: str
    item: str
    n: int
    conversations: bool
    min_rating: float | None = None


@dataclass(frozen=True)
class Link:
    """One KG path: seed -relation-> entity <-relation- item, or a direct item-item relation.

    `entity` is '' for a direct link (sequel, prequel) and for an entity seed (the seed is
    then the entity itself, `seed_is_item` False). `forward` tells, for a direct link,
    whether the edge points seed -> item (the item is the seed's sequel for 'sequel').
    """

    seed: str
    seed_is_item: bool
    relations: tuple[str, ...]
    entity: str
    entity_kind: str
    item: str
    forward: bool = True

    @property
    def relation(self) -> str:
        """The relation the link is about (the item's side for a two-hop path)."""
        return self.relations[-1]


@dataclass
class Facts:
    """Everything an item's evidence states, as data."""

    item: Title
    genres: list[str]
    titles: dict[str, Title] = field(default_factory=dict)
    seeds: set[str] = field(default_factory=set)
    cf: list[CFStat] = field(default_factory=list)
    comentions: list[CoMention] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    people: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    """norm(name) -> role -> norm(titles) on which the person holds it."""
    person_names: dict[str, str] = field(default_factory=dict)
    entities: dict[str, str] = field(default_factory=dict)
    """norm(name) -> kind of the genre/tag/decade/other named entities on the paths."""
    snippets: list[str] = field(default_factory=list)
    n_ratings: int | None = None
    other: list[str] = field(default_factory=list)
    """Texts of evidence kinds this module does not know (plugins)."""

    def add_title(self, name: str, year: int | None = None) -> Title:
        title, parsed = split_title(name)
        known = self.titles.get(norm(title))
        t = Title(title, year or parsed or (known.year if known else None))
        self.titles[norm(title)] = t
        return t

    def add_person(self, name: str, relation: str, titles: list[str]) -> None:
        role = ROLE_OF.get(relation, relation)
        roles = self.people.setdefault(norm(name), {})
        roles.setdefault(role, set()).update(norm(t) for t in titles)
        self.person_names[norm(name)] = name

    def is_item(self, title: str) -> bool:
        return norm(title) == norm(self.item.title)


def _node_kind(node: str, relation: str) -> str:
    prefix, sep, _ = node.partition(":")
    if sep and prefix in ("item", "person", "genre", "tag", "decade"):
        return prefix
    if relation in PERSON_ROLES:
        return "person"
    return relation if relation in ("genre", "tag", "decade") else "entity"


def path_parts(ev: Evidence) -> tuple[list[str], list[str], list[str], list[bool]] | None:
    """(node ids, names, relations, directions) of a kg_path, from data or parsed from text."""
    data = ev.data or {}
    nodes, relations = data.get("nodes"), data.get("relations")
    names, directions = data.get("names"), data.get("directions")
    if nodes and relations and names and len(names) == len(nodes):
        dirs = directions if directions and len(directions) == len(relations) else \
            [True] + [False] * (len(relations) - 1)
        return list(nodes), [str(n) for n in names], list(relations), [bool(d) for d in dirs]
    parts = _HOP.split(ev.text.strip())
    if len(parts) < 3 or len(parts) % 2 == 0:
        return None
    names = parts[0::2]
    hops = parts[1::2]
    rels = [h.strip("-<>").strip().replace(" ", "_") for h in hops]
    dirs = [h.endswith("->") for h in hops]
    names = ["" if n.startswith("(") and n.endswith(")") else n for n in names]
    if len(names) == 3:
        middle = _node_kind("", rels[0]) + ":" + names[1]
        nodes = ["item:" + names[0], middle, "item:" + names[2]]
    elif rels[0] in ITEM_LINKS or _TITLE_YEAR.match(names[0]):
        nodes = ["item:" + names[0], "item:" + names[1]]
    else:
        nodes = [_node_kind("", rels[0]) + ":" + names[0], "item:" + names[1]]
    return nodes, names, rels, dirs


def _add_path(facts: Facts, ev: Evidence) -> None:
    parts = path_parts(ev)
    if parts is None:
        facts.other.append(ev.text)
        return
    nodes, names, relations, directions = parts
    if any(not name for name in names):  # a nameless entity: nothing to say about it
        return
    item_name = names[-1]
    item = facts.add_title(item_name)
    if len(nodes) == 2 and nodes[0].startswith("item:"):
        seed = facts.add_title(names[0])
        facts.seeds.add(norm(seed.title))
        facts.links.append(Link(seed.title, True, tuple(relations), "", "item", item.title,
                                directions[0]))
        return
    if len(nodes) == 2:
        kind = _node_kind(nodes[0], relations[0])
        facts.links.append(Link(names[0], False, tuple(relations), names[0], kind, item.title))
        if kind == "person":
            facts.add_person(names[0], relations[0], [item.title])
        else:
            facts.entities[norm(names[0])] = kind
        return
    if len(nodes) != 3:
        facts.other.append(ev.text)
        return
    seed = facts.add_title(names[0])
    facts.seeds.add(norm(seed.title))
    kind = _node_kind(nodes[1], relations[1])
    facts.links.append(Link(seed.title, True, tuple(relations), names[1], kind, item.title))
    if kind == "person":
        facts.add_person(names[1], relations[0], [seed.title])
        facts.add_person(names[1], relations[1], [item.title])
    else:
        facts.entities[norm(names[1])] = kind


def cf_stat(ev: Evidence) -> CFStat | None:
    """The statistic of a cf_neighbour evidence (from data, or parsed from its text)."""
    d = ev.data or {}
    try:
        return CFStat(str(d["seed_title"]), str(d["item_title"]), int(d["n_seed_fans"]),
                      int(d["n_both"]), int(d["percent"]), float(d["share"]),
                      float(d["min_rating"]))
    except (KeyError, TypeError, ValueError):
        m = _CF_TEXT.match(ev.text.strip())
        if not m:
            return None
        base, both = int(m.group("base")), int(m.group("both"))
        return CFStat(m.group("seed"), m.group("item"), base, both, int(m.group("pct")),
                      both / base if base else 0.0, float(m.group("r")))


def _add_cf(facts: Facts, ev: Evidence, years: Mapping[str, int | None]) -> None:
    stat = cf_stat(ev)
    if stat is None:
        facts.other.append(ev.text)
        return
    facts.cf.append(stat)
    seed = facts.add_title(stat.seed, years.get(str((ev.data or {}).get("seed_id", ""))))
    facts.seeds.add(norm(seed.title))


def comention_of(ev: Evidence) -> CoMention | None:
    """The count of a comention evidence (None when its data lacks one)."""
    d = ev.data or {}
    n = d.get("n_conversations", d.get("n_users"))
    if not isinstance(n, int) or "seed_title" not in d or "item_title" not in d:
        return None
    rating = d.get("min_rating")
    return CoMention(str(d["seed_title"]), str(d["item_title"]), n, "n_conversations" in d,
                     float(rating) if isinstance(rating, int | float) else None)


def _add_comention(facts: Facts, ev: Evidence, years: Mapping[str, int | None]) -> None:
    stat = comention_of(ev)
    if stat is None:
        facts.other.append(ev.text)
        return
    facts.comentions.append(stat)
    seed_id = str((ev.data or {}).get("seed_id", ""))
    if ":" in seed_id and not seed_id.startswith("item:"):
        facts.entities[norm(stat.seed)] = seed_id.split(":", 1)[0]
    else:
        facts.seeds.add(norm(facts.add_title(stat.seed, years.get(seed_id)).title))


def facts_of(item: Item, evidence: list[Evidence],
             years: Mapping[str, int | None] | None = None) -> Facts:
    """Read an item's evidence into Facts (from `Evidence.data`; the text only for old data).

    Args:
        item: The recommended item.
        evidence: Its evidence.
        years: Item id -> year, to know the years of the liked films a CF statistic names
            (its data holds their ids, not their years); without it those years are unknown.
    """
    years = years or {}
    facts = Facts(item=Title(item.title, item.year), genres=list(item.genres))
    facts.titles[norm(item.title)] = facts.item
    for ev in evidence:
        if ev.kind == "kg_path":
            _add_path(facts, ev)
        elif ev.kind == "cf_neighbour":
            _add_cf(facts, ev, years)
        elif ev.kind == "comention":
            _add_comention(facts, ev, years)
        elif ev.kind == "snippet":
            snippet = str((ev.data or {}).get("snippet") or ev.text).strip()
            if snippet:
                facts.snippets.append(snippet)
        elif ev.kind == "popularity":
            n = (ev.data or {}).get("n_ratings")
            facts.n_ratings = int(n) if isinstance(n, int | float) else None
            facts.other.append(ev.text.strip())
        elif ev.text.strip():
            facts.other.append(ev.text.strip())
    facts.titles[norm(item.title)] = facts.item  # the item's own year wins
    return facts
