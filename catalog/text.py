"""Small text helpers shared by every layer: the one text normaliser, titles, genres, safe text."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_YEAR_SUFFIX = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:[-–]\d{0,4})?\)\s*$")
_ARTICLE_SUFFIX = re.compile(r"^(?P<head>.*), (?P<art>The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$")


def split_title_year(raw: str) -> tuple[str, int | None]:
    """Split 'Alien (1979)' into ('Alien', 1979); a title without a year gives None."""
    match = _YEAR_SUFFIX.match(raw.strip())
    if not match:
        return raw.strip(), None
    return match.group("title").strip(), int(match.group("year"))


_ALTERNATE_SUFFIX = re.compile(r"\s+\([^()]+\)\s*$")
_OPEN_ENDING = re.compile(r"(?:[:,&-]|\b(?:or|and|of|the|a|an))$", re.IGNORECASE)


def main_title(title: str) -> str:
    """A title without the alternate names MovieLens keeps in trailing parentheses, for display.

    'Fist of Fury (Chinese Connection, The) (Jing wu men)' -> 'Fist of Fury'. A parenthesis
    that completes the title stays: 'Birdman: Or (The Unexpected Virtue of Ignorance)'.
    """
    short = title.strip()
    while (match := _ALTERNATE_SUFFIX.search(short)) and match.start() > 0:
        head = short[:match.start()].rstrip()
        if not head or _OPEN_ENDING.search(head):
            break
        short = head
    return short


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


_TRANSLIT = {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l",
             "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i"}
"""Latin letters that NFKD does not decompose into ASCII, spelled the usual way."""
APOSTROPHES = "'\u2019"
ARTICLES = ("the ", "a ", "an ")
_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}


def _fold_char(ch: str, lower: bool, drop_apostrophes: bool) -> str:
    """What one character becomes in folded text: ASCII letters/digits, ' ', ' and ' or ''."""
    if ch == "&":
        return " and "
    if drop_apostrophes and ch in APOSTROPHES:
        return ""
    plain = _TRANSLIT.get(ch)
    if plain is None:
        plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if lower:
        plain = plain.lower()
    return "".join(c if c.isascii() and c.isalnum() else " " for c in plain)


class _FoldTable(dict[int, str]):
    """A `str.translate` table that works out (and keeps) each character's folding on first use."""

    def __init__(self, lower: bool, drop_apostrophes: bool) -> None:
        super().__init__()
        self.lower = lower
        self.drop_apostrophes = drop_apostrophes

    def __missing__(self, code: int) -> str:
        self[code] = out = _fold_char(chr(code), self.lower, self.drop_apostrophes)
        return out


_TABLES = {(lower, drop): _FoldTable(lower, drop) for lower in (True, False) for drop in (True, False)}


def fold_text(text: str, *, lower: bool = True, drop_apostrophes: bool = False) -> str:
    """THE text normaliser: ASCII letters and digits in words separated by single spaces.

    Every comparison of titles, names, mentions and replies goes through it (or a named variant
    below), so two spellings of one thing meet: accents are stripped ('Amélie' -> 'amelie', also
    when the input is already decomposed), a few letters NFKD keeps are spelled out ('ß' -> 'ss',
    'ø' -> 'o'), '&' reads 'and', and every other character (punctuation, curly quotes, dashes,
    symbols, other scripts) separates words.

    Args:
        text: Any text.
        lower: Lower-case the result (False keeps capitals, for matching short titles as words).
        drop_apostrophes: Remove straight and curly apostrophes instead of splitting on them
            ("O'Bannon" -> 'obannon' rather than 'o bannon'): the KG name index's keys.
    """
    return " ".join(text.translate(_TABLES[lower, drop_apostrophes]).split())


def fold_text_with_map(text: str, *, lower: bool = True) -> tuple[str, list[int]]:
    """`fold_text`, with the index in `text` that each character of the result came from.

    Used to redact a span of the original text found in its folded form.
    """
    table = _TABLES[lower, False]
    out: list[str] = []
    index: list[int] = []
    for pos, ch in enumerate(text):
        for c in table[ord(ch)]:
            if c == " " and (not out or out[-1] == " "):
                continue
            out.append(c)
            index.append(pos)
    while out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


def strip_article(text: str) -> str:
    """Folded text without one leading 'the', 'a' or 'an' ('the matrix' -> 'matrix')."""
    for art in ARTICLES:
        if text.startswith(art):
            return text[len(art):]
    return text


def normalize_title(text: str) -> str:
    """`fold_text` for title keys: Roman numerals II-IX as digits and no leading article.

    'The Godfather: Part II' -> 'godfather part 2'; used on both sides of title linking.
    """
    return strip_article(" ".join(_ROMAN.get(w, w) for w in fold_text(text).split()))


def normalize_name(text: str) -> str:
    """`fold_text` with apostrophes removed: the key of the KG name index.

    'Ridley  Scott' -> 'ridley scott', 'Sci-Fi' -> 'sci fi', "Dan O'Bannon" -> 'dan obannon',
    'Amélie' -> 'amelie'.
    """
    return fold_text(text, drop_apostrophes=True)
