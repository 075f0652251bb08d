"""Reading genres, tags and eras: the everyday-words lexicon, genre typos and year phrases."""

from __future__ import annotations

import functools
import re

from rapidfuzz import fuzz, process

from agent import lexicon as lx
from agent.spans import YEAR_PAREN, Reading, Span, _Token
from agent.spans import ReaderLike as Reader
from catalog.text import normalize_title

MOVIE_CONTEXT = re.compile(r"\b(movies?|films?|flicks?|something|anything|ones?|stuff|show|"
                           r"genre|kind|type|mood|watch)\b", re.IGNORECASE)
_NOT_GENRE_TYPOS = {"trailer", "trailers", "sports", "sorts", "dramatic", "musician", "musicians"}
"""Words spelt close to a genre that are words of their own."""


@functools.cache
def _genre_typo_keys() -> list[str]:
    """One-word genre keys of five letters or more that are the genre's own name or its
    plural ("comedies", "thrillers", "scifi"; no mood words): what a typo is matched against."""
    def names_its_genre(key: str) -> bool:
        genres = [g for alt in lx.GENRE_WORDS[key].split("|") for g in alt.split("/")]
        return any(key.startswith(g[:4]) or fuzz.ratio(key, g) >= 75 for g in genres)

    return [k for k in lx.GENRE_WORDS if " " not in k and len(k) >= 5
            and k not in lx.GENRE_WORD_NEEDS_CONTEXT and k not in lx.COMMON_WORDS
            and names_its_genre(k)]


def genres_and_tags(reader: Reader, text: str, tokens: list[_Token], reading: Reading,
                    slot: str | None) -> None:
    """Genres from the everyday-words lexicon (and typos of genre names), catalog tags."""
    about_movies = bool(MOVIE_CONTEXT.search(text)) or slot in ("genre", "keywords")
    n_tok = len(tokens)
    for n in (4, 3, 2, 1):
        for i in range(n_tok - n + 1):
            window = tokens[i:i + n]
            start, end = window[0].start, window[-1].end
            if not reader._free(reading, start, end):
                continue
            if n > 1 and window[0].text.lower() in ("a", "an", "the", "some"):
                continue
            key = normalize_title(text[start:end]) if n > 1 else normalize_title(window[0].text)
            value = lx.GENRE_WORDS.get(key)
            genres = [next((g for g in alt.split("/") if g in reader.genres), "")
                      for alt in (value or "").split("|")]
            genres = [g for g in genres if g]
            if genres:
                if key in lx.GENRE_WORD_NEEDS_CONTEXT and not about_movies:
                    continue
                if key in ("kids", "kid", "children", "son", "daughter") and re.search(
                        r"\b(my|our|his|her)\s+$", text[:start], re.IGNORECASE):
                    continue  # "my kids loved Up" tells who, not what
                for genre in genres:
                    reading.spans.append(Span("genre", text[start:end], start, end,
                                              f"genre:{genre}"))
            elif key in reader.tags and not all(w in lx.COMMON_WORDS for w in key.split()):
                reading.spans.append(Span("tag", text[start:end], start, end,
                                          f"tag:{reader.tags[key]}"))
    if about_movies:
        _genre_typos(reader, text, tokens, reading)
    for g in reader.genres:  # catalog genre names not in the lexicon ("imax", "film-noir")
        for m in re.finditer(rf"\b{re.escape(g)}\b", text, re.IGNORECASE):
            if reader._free(reading, m.start(), m.end()) and len(g) >= 4:
                reading.spans.append(Span("genre", m.group(0), m.start(), m.end(),
                                          f"genre:{g}"))

def _genre_typos(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'horrow', 'thrilleres', 'comedys': one word of five letters or more, spelt close to
    a genre word (same first letter), in a message about movies."""
    keys = _genre_typo_keys()
    for tok in tokens:
        word = normalize_title(tok.text)
        if len(word) < 5 or word in lx.COMMON_WORDS or word in lx.GENRE_WORDS or \
                word in _NOT_GENRE_TYPOS or \
                not word.isalpha() or not reader._free(reading, tok.start, tok.end):
            continue
        hit = process.extractOne(word, [k for k in keys if k[0] == word[0]],
                                 scorer=fuzz.ratio, score_cutoff=82)
        genres = [g for alt in lx.GENRE_WORDS[hit[0]].split("|")
                  for g in alt.split("/")[:1] if g in reader.genres] if hit else []
        for genre in genres:
            reading.spans.append(Span("genre", tok.text, tok.start, tok.end,
                                      f"genre:{genre}"))

def eras(reader: Reader, text: str, reading: Reading) -> None:
    """Decades, 'between X and Y', 'before/after YEAR', 'recent', 'old classics'."""
    plain = YEAR_PAREN.sub(lambda m: " " * len(m.group(0)), text)
    found: list[tuple[int, int, int | None, int | None]] = []
    for m in lx.ERA_BETWEEN.finditer(plain):
        a, b = sorted((int(m.group("a")), int(m.group("b"))))
        found.append((m.start(), m.end(), a, b))
    for m in lx.ERA_DECADE.finditer(plain):
        digit = int(m.group("digit"))
        century = m.group("century")
        base = int(century) * 100 if century else (2000 if digit <= 2 else 1900)
        found.append((m.start(), m.end(), base + digit * 10, base + digit * 10 + 9))
    low = plain.lower()
    for word, start_year in lx.DECADE_WORDS.items():
        for m in re.finditer(rf"\b{word}\b", low):
            found.append((m.start(), m.end(), start_year, start_year + 9))
    for m in lx.ERA_BEFORE.finditer(plain):
        found.append((m.start(), m.end(), None, int(m.group("y")) - 1))
    for m in lx.ERA_AFTER.finditer(plain):
        found.append((m.start(), m.end(), int(m.group("y")), None))
    for m in lx.ERA_RECENT.finditer(plain):
        if MOVIE_CONTEXT.search(plain) or len(plain.split()) <= 4:
            found.append((m.start(), m.end(), reader.newest_year - lx.RECENT_SPAN, None))
    for m in lx.ERA_OLD.finditer(plain):
        if not re.search(r"\bthe\s+$", plain[:m.start()], re.IGNORECASE):
            found.append((m.start(), m.end(), None, lx.OLD_BEFORE - 1))
    for start, end, lo, hi in found:
        if reader._free(reading, start, end):
            reading.spans.append(Span("era", text[start:end], start, end,
                                      f"era:{lo or ''}-{hi or ''}"))
