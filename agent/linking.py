"""Entity linking: title, genre and person mentions -> catalog item ids and KG entity ids."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from catalog.models import Catalog
from catalog.text import normalize_genre, normalize_title, split_title_year

GENRE_SYNONYMS = {
    "scifi": "sci-fi", "sci fi": "sci-fi", "science fiction": "sci-fi", "space": "sci-fi",
    "animated": "animation", "cartoon": "animation", "cartoons": "animation",
    "kids": "children", "kid": "children", "family": "children", "child": "children",
    "romantic": "romance", "romcom": "romance", "rom-com": "romance", "love story": "romance",
    "funny": "comedy", "comedies": "comedy", "scary": "horror", "horror movies": "horror",
    "thrillers": "thriller", "suspense": "thriller", "noir": "film-noir",
    "film noir": "film-noir", "musicals": "musical", "westerns": "western",
    "documentaries": "documentary", "docs": "documentary", "war movies": "war",
    "superhero": "action", "action movies": "action", "dramas": "drama", "crime drama": "crime",
    "whodunit": "mystery", "mysteries": "mystery", "fantasy movies": "fantasy",
}


@dataclass
class LinkResult:
    """Linked ids for one utterance, and the mentions that could not be linked."""

    items: list[tuple[str, str]] = field(default_factory=list)  # (mention, item_id)
    unknown: list[str] = field(default_factory=list)


class EntityLinker:
    """Links mentions against one catalog (exact, alias, then fuzzy matching)."""

    def __init__(self, catalog: Catalog, fuzzy_cutoff: float = 86.0) -> None:
        self.catalog = catalog
        self.fuzzy_cutoff = fuzzy_cutoff
        self._popularity = catalog.popularity()
        self._titles: dict[str, list[str]] = defaultdict(list)
        self._aliases: dict[str, list[str]] = defaultdict(list)
        for item in catalog.items.values():
            main = item.title.split(" (")[0]
            self._titles[normalize_title(main)].append(item.id)
            for alt in re.findall(r"\(([^)]*)\)", item.title):
                alt = re.sub(r"^(a\.k\.a\.|aka)\s+", "", alt.strip(), flags=re.IGNORECASE)
                self._aliases[normalize_title(alt)].append(item.id)
            redial = item.attributes.get("redial_name", "")
            if redial:  # ReDial's own name ("Star Wars (1977)") is how people write it
                self._aliases[normalize_title(split_title_year(redial)[0])].append(item.id)
            for sep in (":", " - "):
                if sep in main:
                    self._aliases[normalize_title(main.split(sep)[0])].append(item.id)
        self._title_keys = list(self._titles)
        self._genres = set(catalog.genres())
        self._people: dict[str, str] = {}
        for item in catalog.items.values():
            for names in item.people.values():
                for name in names:
                    self._people.setdefault(normalize_title(name), name)
        self._people_keys = list(self._people)
        self._tags = {t for item in catalog.items.values() for t in item.tags}

    def _best(self, ids: list[str], year: int | None) -> str:
        if year is not None:
            dated = [i for i in ids if self.catalog.items[i].year == year]
            if dated:
                ids = dated
        return max(ids, key=lambda i: (self._popularity.get(i, 0), -int(i.isdigit() and i or 0)))

    def link_title(self, mention: str) -> str | None:
        """Return the item id for a title mention, or None when unknown."""
        title, year = split_title_year(mention)
        if year is None:
            match = re.match(r"^(.*\S)\s+(19\d\d|20\d\d)$", title)
            if match:
                title, year = match.group(1), int(match.group(2))
        key = normalize_title(title)
        if not key:
            return None
        for index in (self._titles, self._aliases):
            if key in index:
                return self._best(index[key], year)
        found = process.extract(key, self._title_keys, scorer=fuzz.ratio,
                                score_cutoff=self.fuzzy_cutoff, limit=5)
        if not found:
            return None
        top = found[0][1]
        ids = [i for choice, score, _ in found if score >= top - 0.01
               for i in self._titles[choice]]
        return self._best(ids, year)

    def link_titles(self, mentions: list[str]) -> LinkResult:
        """Link several title mentions, keeping the unknown ones."""
        result = LinkResult()
        for mention in mentions:
            item_id = self.link_title(mention)
            if item_id is None:
                result.unknown.append(mention)
            elif item_id not in (i for _, i in result.items):
                result.items.append((mention, item_id))
        return result

    def link_genre(self, mention: str) -> str | None:
        """Return `genre:<name>` for a genre mention known to the catalog, or None."""
        raw = mention.strip().lower()
        g = GENRE_SYNONYMS.get(raw, normalize_genre(raw))
        g = GENRE_SYNONYMS.get(g, g)
        if g in self._genres:
            return f"genre:{g}"
        if g.endswith("s") and g[:-1] in self._genres:
            return f"genre:{g[:-1]}"
        found = process.extractOne(g, sorted(self._genres), scorer=fuzz.ratio, score_cutoff=85)
        return f"genre:{found[0]}" if found else None

    def link_person(self, mention: str) -> str | None:
        """Return `person:<Name>` for a director/actor known to the catalog, or None."""
        key = normalize_title(mention)
        if not key or not self._people:
            return None
        if key in self._people:
            return f"person:{self._people[key]}"
        found = process.extractOne(key, self._people_keys, scorer=fuzz.ratio, score_cutoff=88)
        return f"person:{self._people[found[0]]}" if found else None

    def link_tag(self, keyword: str) -> str | None:
        """Return `tag:<tag>` when a keyword is exactly a catalog tag."""
        k = keyword.strip().lower()
        return f"tag:{k}" if k in self._tags else None
