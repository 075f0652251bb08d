"""Small text helpers shared by the loaders: title normalisation, genre names, safe text."""

from __future__ import annotations

import re
from typing import Any

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


_UNSAFE = re.compile("(?P<pair>[\ud800-\udbff][\udc00-\udfff])|(?P<esc>[\udc80-\udcff]+)|[\ud800-\udfff]")


def _fix_surrogates(match: re.Match[str]) -> str:
    if match.group("pair"):  # a UTF-16 pair split into two code points: the character it means
        hi, lo = (ord(c) for c in match.group("pair"))
        return chr(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
    if match.group("esc"):  # bytes kept by surrogateescape: decoded again, U+FFFD where invalid
        return bytes(ord(c) - 0xDC00 for c in match.group("esc")).decode("utf-8", "replace")
    return "\ufffd"


def safe_text(text: str | bytes) -> str:
    """Text that encodes as UTF-8: lone surrogates become U+FFFD, everything else is kept.

    Bytes that stdin, argv or a file decoder kept with `surrogateescape` (U+DC80-U+DCFF) are
    decoded as UTF-8 again (so a run that is valid UTF-8 is recovered, the rest is U+FFFD); a
    high+low surrogate pair becomes the character it encodes. Bytes are decoded as UTF-8 with
    U+FFFD for what is not UTF-8; anything else is passed through `str()`.
    """
    if isinstance(text, (bytes, bytearray)):
        return safe_bytes(bytes(text))
    if not isinstance(text, str):
        text = str(text)
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_fix_surrogates, text)


def safe_bytes(raw: bytes) -> str:
    """Decode bytes as UTF-8, with U+FFFD for every sequence that is not UTF-8."""
    return raw.decode("utf-8", errors="replace")


def safe_data(value: Any) -> Any:
    """`safe_text` applied to every string (keys included) in JSON-like data; returns a copy."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_data(k): safe_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_data(v) for v in value]
    return value
