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
WANT_CUE = re.compile(r"\b(need|want|wanna|craving|crave|in the mood|looking for|up for|"
                      r"feel like|feeling like|gimme|give me|something|anything)\b", re.IGNORECASE)
"""A wish: a mood word after it is about what to watch ("need a good laugh tonight"), not
about a film already seen ("I was laughing the whole movie")."""
CHILD_AGE = re.compile(r"\b(?:my|our|his|her|a)\s+(?P<age>\d{1,2}|one|two|three|four|five|six|"
                       r"seven|eight|nine|ten|eleven|twelve)[\s-]*(?:yr|yrs|year|years)?[\s-]*"
                       r"olds?\b", re.IGNORECASE)
"""'my 6 yr old', 'our five-year-old': a child (twelve or younger) is watching."""
_ABOUT_YOU = re.compile(r"\b(you|ur|u|you'?re|youre|you are|u r|are you|r u)\s+((so|really|"
                        r"very|pretty|kinda|too|a|an)\s+)*$", re.IGNORECASE)
"""'haha ur funny', 'are you a real person': the words describe the one they talk to."""
_AGE_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten "
                                         "eleven twelve".split())}
_SUFFIXES = (("iest", "y"), ("ier", "y"), ("ied", "y"), ("ies", "y"), ("ing", ""), ("ed", ""),
             ("es", ""), ("s", ""), ("er", ""))
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


def stem(word: str) -> str:
    """A crude English stem for matching inflections of lexicon words: 'scared', 'scary' and
    'scare' -> 'scar'; 'makes' -> 'mak'; 'laughing' -> 'laugh'."""
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[:-len(suffix)] + repl
            break
    return word[:-1] if len(word) >= 4 and word[-1] in "ey" else word


def _stem_key(key: str) -> str:
    return " ".join(stem(w) for w in key.split())


@functools.cache
def _stemmed_genre_words() -> dict[str, str]:
    """Lexicon keys by stem, for inflections the lexicon does not list ('makes me cry',
    'scared', 'laughing'). A stem shared with an everyday word ('moving' / 'moves') is left
    out, and so is one shared by two keys with different genres."""
    common = {_stem_key(w) for w in lx.COMMON_WORDS} | {_stem_key(w) for w in _NOT_GENRE_TYPOS}
    out: dict[str, str] = {}
    clash: set[str] = set()
    for key, value in lx.GENRE_WORDS.items():
        sk = _stem_key(key)
        if sk in common or len(sk.replace(" ", "")) < 4:
            continue
        if sk in out and lx.GENRE_WORDS[out[sk]] != value:
            clash.add(sk)
        out.setdefault(sk, key)
    return {sk: key for sk, key in out.items() if sk not in clash}


def lexicon_key(key: str, wish: bool = True) -> str | None:
    """The lexicon key a normalised window stands for: itself, or (in a wish) the key it
    inflects."""
    if key in lx.GENRE_WORDS:
        return key
    if not wish or all(w in lx.COMMON_WORDS for w in key.split()):
        return None
    return _stemmed_genre_words().get(_stem_key(key))


def genres_and_tags(reader: Reader, text: str, tokens: list[_Token], reading: Reading,
                    slot: str | None) -> None:
    """Genres from the everyday-words lexicon (and typos of genre names), catalog tags."""
    wish = bool(WANT_CUE.search(text)) or slot in ("genre", "keywords")
    kind_of = re.compile(r"^\s+(movies?|films?|flicks?)\b", re.IGNORECASE)  # "robot movies"
    about_movies = bool(MOVIE_CONTEXT.search(text)) or wish
    n_tok = len(tokens)
    tags: list[Span] = []
    for n in (4, 3, 2, 1):
        for i in range(n_tok - n + 1):
            window = tokens[i:i + n]
            start, end = window[0].start, window[-1].end
            if not reader._free(reading, start, end):
                continue
            if n > 1 and window[0].text.lower() in ("a", "an", "the", "some"):
                continue
            key = normalize_title(text[start:end]) if n > 1 else normalize_title(window[0].text)
            key = lexicon_key(key, wish or bool(kind_of.match(text[end:]))) or key
            value = lx.GENRE_WORDS.get(key)
            genres = [next((g for g in alt.split("/") if g in reader.genres), "")
                      for alt in (value or "").split("|")]
            genres = [g for g in genres if g]
            if genres:
                if key in lx.GENRE_WORD_NEEDS_CONTEXT and not about_movies:
                    continue
                if _ABOUT_YOU.search(text[:start]):
                    continue  # "haha ur funny" describes the one they talk to
                if n == 1 and any(t.overlaps(start, end) for t in tags):
                    continue  # "very funny" (a tag) describes; "fun family movie" names family
                if key in ("kids", "kid", "children", "son", "daughter") and re.search(
                        r"\b(my|our|his|her)\s+$", text[:start], re.IGNORECASE):
                    continue  # "my kids loved Up" tells who, not what
                for genre in genres:
                    reading.spans.append(Span("genre", text[start:end], start, end,
                                              f"genre:{genre}"))
            elif key in reader.tags and not all(w in lx.COMMON_WORDS for w in key.split()) \
                    and (n > 1 or about_movies or key in lx.GENRE_WORDS) \
                    and not any(t.overlaps(start, end) for t in tags):
                # one everyday word is a tag only about movies: "eh its complicated" is none
                tags.append(Span("tag", text[start:end], start, end, f"tag:{reader.tags[key]}"))
    reading.spans += tags  # after the genres: "fun family movie" is a tag, and family
    if about_movies:
        _genre_typos(reader, text, tokens, reading)
        _child_age(reader, text, reading)
    for g in reader.genres:  # catalog genre names not in the lexicon ("imax", "film-noir")
        for m in re.finditer(rf"\b{re.escape(g)}\b", text, re.IGNORECASE):
            if reader._free(reading, m.start(), m.end()) and len(g) >= 4:
                reading.spans.append(Span("genre", m.group(0), m.start(), m.end(),
                                          f"genre:{g}"))

def _child_age(reader: Reader, text: str, reading: Reading) -> None:
    """'my 6 yr old is bored, what can she watch': children's films."""
    if "children" not in reader.genres or any(s.value == "genre:children" for s in reading.spans):
        return
    for m in CHILD_AGE.finditer(text):
        age = m.group("age").lower()
        years = int(age) if age.isdigit() else _AGE_WORDS.get(age, 99)
        if years <= 12 and reader._free(reading, m.start(), m.end()):
            reading.spans.append(Span("genre", m.group(0), m.start(), m.end(), "genre:children"))
            return


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
