"""Small text helpers shared by the loaders: title normalisation and genre names."""

from __future__ import annotations

import re

_YEAR_SUFFIX = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:[-–]\d{0,4})?\)\s*$")
_ARTICLE_SUFFIX = re.compile(r"^(?P<head>.*), (?P<art>The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$")


def split_title_year(raw: str) -> tuple[str, int | None]:
    """Split 'Alien (1979)' into ('Alien', 1979); a title without a year gives None."""
    match = _YEAR_SUFFIX.match(raw.strip())
    if not match:
        return raw.strip(), None
    return match.group("title").strip(), int(match.group("year"))


def unsuffix_article(title: str) -> str:
    """Turn MovieLens' 'Usual Suspects, The' into 'The Usual Suspects'.

    Handles an alternative title in parentheses: 'City of Lost Children, The (Cité des ...)'.
    """
    alt = ""
    paren = title.find(" (")
    if paren > 0:
        title, alt = title[:paren], title[paren:]
    match = _ARTICLE_SUFFIX.match(title)
    if match:
        art = match.group("art")
        sep = "" if art.endswith("'") else " "
        title = f"{art}{sep}{match.group('head')}"
    return title + alt


def normalize_genre(name: str) -> str:
    """Canonical lower-case genre name shared by all catalogs ('Children's' -> 'children')."""
    g = name.strip().lower().replace("'s", "").replace("science fiction", "sci-fi")
    return {"scifi": "sci-fi", "film noir": "film-noir", "noir": "film-noir"}.get(g, g)
