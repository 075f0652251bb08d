"""Reading names as people type them: franchises, lower-case sequels, nicknames, misspellings."""

from __future__ import annotations

import bisect
import collections
import logging
import re
from collections.abc import Callable

from rapidfuzz import fuzz, process

from agent import lexicon as lx
from agent import reading_rules as rules
from agent.spans import ReaderLike as Reader
from agent.spans import Reading, Span, _Token
from catalog.text import normalize_title

log = logging.getLogger(__name__)

_SERIES_WORDS = frozenset({"movies", "films", "flicks", "ones", "trilogy", "series", "franchise",
                           "saga", "sequels", "prequels"})
_NOT_FRANCHISE = frozenset({"christmas", "halloween", "holiday", "holidays", "marvel", "dc",
                            "disney", "pixar", "dreamworks", "netflix", "hollywood", "bollywood",
                            "summer", "winter", "easter", "thanksgiving", "valentine", "oscar",
                            "dark", "black", "white", "big", "little", "super", "bad", "best",
                            "spy", "monster", "pirate", "robot", "car", "dog", "cat", "horse",
                            "dinosaur", "ninja", "ghost", "witch", "alien", "sports", "boxing",
                            "fighting", "racing", "dance", "teen", "disaster", "vampire",
                            "shark", "prison", "heist", "police", "army", "sea", "ocean"})
"""Studios, holidays and adjectives: 'Christmas movies' is a kind of film, not a series."""
_SMALL = frozenset({"the", "of", "a", "an", "and", "in", "on", "to", "at", "for", "with"})
_SEQUEL_MARK = re.compile(r"^(?:[2-9]|ii|iii|iv|vi|vii|viii|ix)$", re.IGNORECASE)
_SEQUEL_LEAD = {"part", "vol", "volume", "chapter", "episode"}
_ROMAN = {"ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9}
_MARKS = {2: ("2", "ii", "two"), 3: ("3", "iii", "three"), 4: ("4", "iv", "four"),
          5: ("5", "v", "five"), 6: ("6", "vi", "six"), 7: ("7", "vii", "seven"),
          8: ("8", "viii", "eight"), 9: ("9", "ix", "nine")}

NICKNAMES: dict[str, str] = {
    "the rock": "Dwayne Johnson", "arnie": "Arnold Schwarzenegger", "arnold": "Arnold Schwarzenegger",
    "rdj": "Robert Downey Jr.", "marky mark": "Mark Wahlberg", "jlo": "Jennifer Lopez",
    "j lo": "Jennifer Lopez", "scarjo": "Scarlett Johansson", "the duke": "John Wayne",
    "sly": "Sylvester Stallone", "leo": "Leonardo DiCaprio", "bobby de niro": "Robert De Niro",
    "the governator": "Arnold Schwarzenegger", "sam jackson": "Samuel L. Jackson",
    "jlaw": "Jennifer Lawrence", "j law": "Jennifer Lawrence", "sly stallone": "Sylvester Stallone",
    "leo dicaprio": "Leonardo DiCaprio", "arnie schwarzenegger": "Arnold Schwarzenegger",
}
"""Nicknames and short names people use for well-known actors (checked against the catalog)."""
_NICK_NEEDS_CUE = frozenset({"the rock", "the duke", "sly", "leo", "arnold"})
"""Nicknames that are also titles or words: a person only after 'with', 'starring', ... or
before "'s" / 'movies' / 'in it'."""
_NICK_BEFORE = re.compile(r"\b(with|starring|stars|featuring|fan of( both)?)\s+$", re.IGNORECASE)
_NICK_AFTER = re.compile(r"^((['’]s)?\s+(movies|films|flicks|stuff)|\s+in it|\s+(was|is)\s+((so|really)"
                         r"\s+)?(great|good|amazing|awesome|brilliant|fantastic|the best))\b",
                         re.IGNORECASE)
_NICK_PERSON_AFTER = re.compile(r"^\s+(is|was|has been)\s+(\w+\s+){0,3}?(actor|actress|guy|dude|"
                                r"becoming|hilarious|funny|so funny|underrated|overrated)\b",
                                re.IGNORECASE)
"""After a nickname, words said of a person: "the rock is a good actor", "is becoming a star"."""
NAME_BEFORE = re.compile(r"\b(with|w/?|starring|stars|featuring|by|directed by|fan of)\s*$",
                         re.IGNORECASE)
"""Before a lower-case or misspelt name: who is in it or who made it ('with denzel')."""
_NAME_AFTER = re.compile(r"^(['’]s\s+(movies|films|flicks|stuff|work)|\s+(is|was)\s+(my|the|so|"
                         r"a|such))\b", re.IGNORECASE)
"""After it: "denzel is my guy", "scorcese's films" (not 'christian movies')."""
_LOWER_NAME_BEFORE = re.compile(r"\b(starring|by|directed by|fan of)\s+$", re.IGNORECASE)
"""A lower-case surname typo needs a stronger cue than 'with' ('movies with meaning')."""
_TASTE_VERB = re.compile(r"\b(loved|liked|enjoyed|love|like|adore[d]?|watched|rewatched|seen|saw)"
                         r"\s+$", re.IGNORECASE)


def _is_name_word(reader: Reader, key: str) -> bool:
    return key in reader.surnames or key in reader.first_names or reader._is_person_key(key)


def _everyday(words: list[str]) -> bool:
    return all(w in lx.COMMON_WORDS or w in lx.GENRE_WORDS or w in lx.CALENDAR_WORDS
               for w in words)


def franchise_items(reader: Reader, key: str) -> list[str]:
    """Films of the series a name stands for: the title itself and every title or alias that
    starts with it (articles aside): 'bourne' -> The Bourne Identity, Supremacy, ..."""
    base = re.sub(r"^(the|a|an) ", "", key)
    ids: list[str] = []
    for table in (reader.linker._titles, reader.linker._aliases):
        for k, found in table.items():
            rest = re.sub(r"^(the|a|an) ", "", k)
            if rest == base or rest.startswith(base + " "):
                ids += [i for i in found if i not in ids]
    return ids


def _series(reader: Reader, base: str) -> list[str]:
    """The ids `franchise_items` gives, by binary search in a sorted index of title and alias
    keys without their article (built once per reader)."""
    index: list[tuple[str, str]] | None = getattr(reader, "_series_index", None)
    if index is None:
        index = sorted({(re.sub(r"^(the|a|an) ", "", k), i)
                        for table in (reader.linker._titles, reader.linker._aliases)
                        for k, found in table.items() for i in found})
        reader._series_index = index  # type: ignore[attr-defined]
    ids: list[str] = []
    for rest, item_id in index[bisect.bisect_left(index, (base, "")):]:
        if rest != base and not rest.startswith(base + " "):
            if rest > base + " ~":
                break
            continue
        if item_id not in ids:
            ids.append(item_id)
    return ids


def franchises(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'the bourne movies', 'the Toy Story ones', 'the lord of the rings trilogy': a name
    before a series word that starts the titles of a series stands for its best-known film."""
    for j, tok in enumerate(tokens):
        if j == 0 or tok.text.lower() not in _SERIES_WORDS:
            continue
        for n in range(min(6, j), 0, -1):
            window = tokens[j - n:j]
            start, end = window[0].start, window[-1].end
            key = normalize_title(text[start:end])
            base = re.sub(r"^(the|a|an) ", "", key)
            words = base.split()
            if not words or len(base) < 4 or not reader._free(reading, start, end):
                continue
            if (len(words) == 1 and (_everyday(words) or words[0] in _NOT_FRANCHISE)) or (
                    all(w in lx.GENRE_WORDS or w in lx.COMMON_WORDS for w in words)) or \
                    _is_name_word(reader, base) or base in lx.GENRE_WORDS:
                continue
            article = bool(re.search(r"\b(the|those|these)\s+$", text[:start], re.IGNORECASE))
            strong = article or (len(words) >= 2 and all(
                t.capital for t in window if t.text.lower() not in _SMALL))
            # one word needs 'the': "French films" is a kind, "the Bourne movies" a series
            if not strong or (len(words) == 1 and base in reader.tags):
                continue  # "I hate disaster movies": a kind of film
            ids = franchise_items(reader, base)
            exact = bool(reader._lookup(key) or reader._lookup(base))
            if len(ids) >= 2 or (ids and exact):
                reading.spans.append(Span("title", text[start:end], start, end,
                                          reader.linker._best(ids, None)))
                break


def numbered_titles(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'men in black 2', 'shrek part 2', 'toy story 2' in lower case: words before a sequel
    number that begin a title carrying that number name the sequel."""
    for j, tok in enumerate(tokens):
        if not _SEQUEL_MARK.match(tok.text) or j == 0:
            continue
        raw = tok.text.lower()
        number = int(raw) if raw.isdigit() else _ROMAN[raw]
        lead = j - 1 if tokens[j - 1].text.lower().rstrip(".") in _SEQUEL_LEAD else j
        for n in range(min(6, lead), 0, -1):
            window = tokens[lead - n:lead]
            start, end = window[0].start, tok.end
            base = re.sub(r"^(the|a|an) ", "", normalize_title(text[start:window[-1].end]))
            words = base.split()
            if not words or len(base) < 4 or words[0] in rules.PRONOUNS or \
                    (len(words) == 1 and _everyday(words)) or not reader._free(reading, start, end):
                continue
            hits: list[str] = []
            for table in (reader.linker._titles, reader.linker._aliases):
                for k, ids in table.items():
                    rest = re.sub(r"^(the|a|an) ", "", k)
                    if rest.startswith(base + " ") and any(
                            w in _MARKS[number] for w in rest[len(base) + 1:].split()[:3]):
                        hits += [i for i in ids if i not in hits]
            if not hits and not raw.isalpha() and len(words) >= 2:  # "harry potter 3"
                items = reader.linker.catalog.items
                series = sorted((i for i in _series(reader, base) if items[i].year),
                                key=lambda i: items[i].year or 0)
                hits = [series[number - 1]] if 3 <= len(series) and number <= len(series) and \
                    number > 1 else []
            if hits:
                reading.spans.append(Span("title", text[start:end], start, end,
                                          reader.linker._best(hits, None)))
                break


def nicknames(reader: Reader, text: str, reading: Reading) -> None:
    """'anything with the Rock', 'RDJ was perfect', 'arnie's films': nicknames of actors."""
    people = reader.linker._people
    for nick, name in NICKNAMES.items():
        if normalize_title(name) not in people:
            continue
        pattern = re.escape(nick).replace(r"\ ", r"[\s.\-]?")  # "j lo", "J.Lo", "j-lo"
        for m in re.finditer(r"(?<![\w'’])" + pattern + r"(s(?=\s+(movies|films|flicks)))?(?![\w-])",
                             text, re.IGNORECASE):  # "arnolds movies"
            if not reader._free(reading, m.start(), m.end()):
                continue
            films_after = bool(m.group(0).lower().endswith("s") and not nick.endswith("s")
                               ) or bool(_NICK_AFTER.match(text[m.end():]))
            if nick in _NICK_NEEDS_CUE and not (
                    _NICK_BEFORE.search(text[:m.start()]) or films_after
                    or _NICK_PERSON_AFTER.match(text[m.end():])
                    or _next_to_person(reader, text, m.start(), m.end())):
                continue
            if nick in ("leo", "sly", "arnold") and not (m.group(0)[0].isupper() or films_after):
                continue
            if re.match(r"\s+[A-Z][a-z]", text[m.end():]):
                continue  # "Leo Varadkar", "Arnold Palmer": a full name is read elsewhere
            reading.spans.append(Span("person", m.group(0), m.start(), m.end(),
                                      f"person:{people[normalize_title(name)]}"))


def _next_to_person(reader: Reader, text: str, start: int, end: int) -> bool:
    """'kevin hart and the rock', 'the Rock or Jason Statham': a nickname listed beside a
    person's full name (written in any case) is that person too."""
    before = re.search(r"((?:[\w.'’-]+\s+){1,2})?[\w.'’-]+\s+(and|&|or)\s+$", text[:start])
    after = re.match(r"^\s+(and|&|or)\s+([\w.'’-]+(?:\s+[\w.'’-]+){1,2})", text[end:])
    keys = []
    if before:
        words = text[before.start():start].split()[:-1]
        keys += [" ".join(words[-2:]), " ".join(words[-3:])]
    if after:
        words = after.group(2).split()
        keys += [" ".join(words[:2]), " ".join(words[:3])]
    return any(len(k.split()) >= 2 and reader._is_person_key(normalize_title(k)) for k in keys)


def fuzzy_people(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'Julia Styles', 'Matthew McConnehey': an exact first name and a surname spelt close to
    a catalog person's; lower case or an everyday first name ("will ferral") only for a
    well-known person and a closer surname."""
    people = reader.linker._people
    for i in range(len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        if not reader._free(reading, a.start, b.end):
            continue
        first, last = normalize_title(a.text), rules.possessive_key(normalize_title(b.text))
        key = f"{first} {last}"
        if key in people or len(last) < 4 or reader._lookup(key):
            continue
        loose = not (a.capital and b.capital) or first in lx.COMMON_WORDS  # "will ferral"
        if loose and (len(last) < 5 or last in lx.COMMON_WORDS or last in lx.GENRE_WORDS):
            continue
        same_first = [k for k in reader.people_keys if k.startswith(first + " ")
                      and k.count(" ") == 1]
        hit = process.extractOne(last, [k.split(" ", 1)[1] for k in same_first],
                                 scorer=fuzz.ratio, score_cutoff=76 if loose else 75)
        if hit and (not loose or reader.fame.get(people[same_first[hit[2]]], 0) >= 20):
            name = people[same_first[hit[2]]]
            reading.spans.append(Span("person", text[a.start:b.end], a.start, b.end,
                                      f"person:{name}"))
    for i in range(len(tokens) - 1):  # "stephen spielburg": both names a little off
        a, b = tokens[i], tokens[i + 1]
        key = normalize_title(text[a.start:b.end])
        words = key.split()
        if len(key) < 10 or len(words) != 2 or any(w in lx.COMMON_WORDS or w in lx.GENRE_WORDS
                                                   for w in words) \
                or not reader._free(reading, a.start, b.end) or reader._lookup(key) \
                or key in people:
            continue
        full = process.extractOne(key, reader.people_keys, scorer=fuzz.ratio, score_cutoff=84)
        if full and reader.fame.get(people[full[0]], 0) >= 20 and full[0].count(" ") == 1 and \
                all(fuzz.ratio(w, g) >= 75 for w, g in zip(words, full[0].split(), strict=True)):
            reading.spans.append(Span("person", text[a.start:b.end], a.start, b.end,
                                      f"person:{people[full[0]]}"))


def surname_typos(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'something by scorcese': one word spelt close to a well-known surname, with a name cue
    ('by', 'with', "'s films"), that is no first name and starts no full name."""
    surnames = [s for s in reader.surnames if len(s) >= 6]
    firsts = _first_words(reader)
    for i, tok in enumerate(tokens):
        key = rules.possessive_key(normalize_title(tok.text))
        if len(key) < 6 or key in reader.surnames or key in lx.COMMON_WORDS or key in firsts or \
                key in lx.GENRE_WORDS or not reader._free(reading, tok.start, tok.end) or \
                reader._lookup(key) or (i + 1 < len(tokens) and tokens[i + 1].capital):
            continue
        before = NAME_BEFORE if tok.capital else _LOWER_NAME_BEFORE
        films = rules.rare_word(key) and re.match(r"['’]?s?\s+(movies|films|flicks)\b", text[tok.end:])
        if not (before.search(text[:tok.start]) or _NAME_AFTER.match(text[tok.end:]) or films):
            continue  # "being from England", "friends from school", "movies with meaning"
        hit = process.extractOne(key, surnames, scorer=fuzz.ratio, score_cutoff=85)
        if hit:
            reading.spans.append(Span("person", tok.text, tok.start, tok.end,
                                      f"person:{reader.surnames[hit[0]]}"))


def _first_words(reader: Reader) -> frozenset[str]:
    """Every first name of a catalog person (built once per reader)."""
    cached: frozenset[str] | None = getattr(reader, "_person_first_words", None)
    if cached is None:
        cached = frozenset(k.split(" ", 1)[0] for k in reader.people_keys if " " in k)
        reader._person_first_words = cached  # type: ignore[attr-defined]
    return cached


def lower_first_names(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'denzel is my guy', 'anything with denzel': a distinctive first name in lower case,
    with a name cue around it."""
    for tok in tokens:
        key = normalize_title(tok.text)
        cued = bool(NAME_BEFORE.search(text[:tok.start]))
        if tok.capital or key not in reader.first_names or len(key) < 5 or \
                not reader._free(reading, tok.start, tok.end) or (reader._lookup(key)
                                                                  and not cued):
            continue
        if NAME_BEFORE.search(text[:tok.start]) or _NAME_AFTER.match(text[tok.end:]):
            reading.spans.append(Span("person", tok.text, tok.start, tok.end,
                                      f"person:{reader.first_names[key]}"))


def one_word_typos(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'I loved gladiater': one rare word right after a taste verb, spelt close to a one-word
    title (the first word of a list: 'and braveheart' then joins it)."""
    keys = _one_word_keys(reader)
    for tok in tokens:
        key = normalize_title(tok.text)
        if len(key) < 7 or key in lx.COMMON_WORDS or key in lx.GENRE_WORDS or \
                _is_name_word(reader, key) or not reader._free(reading, tok.start, tok.end) or \
                not _TASTE_VERB.search(text[:tok.start]) or reader._lookup(key):
            continue
        prev = text[:tok.start].split()[-1:] or [""]
        if key in reader.tags or rules.modifies_next_noun(text, tok.end) or \
                normalize_title(f"{prev[0]} {key}") in lx.GENRE_WORDS or \
                re.match(r"\s+(movies|films|flicks|ones|shows|stuff)\b", text[tok.end:], re.I):
            continue  # "vampire movies", "science fiction", "love stories"
        hit = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=88)
        if hit:
            item_id = reader._pick(reader._lookup(hit[0]), None, strict=False)
            if item_id:
                reading.spans.append(Span("title", tok.text, tok.start, tok.end, item_id))


def rare_word_titles(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'goonies never gets old', 'shawshank is the best', 'i liked the increidbles': a
    lower-case word no common English word spells that is a one-word title, the rare word of
    only one title, or one typo from a one-word title no common word spells, names that film
    without a cue."""
    keys: list[str] | None = getattr(reader, "_rare_one_word_keys", None)
    if keys is None:
        keys = [k for k in _one_word_keys(reader) if rules.rare_surname(k)]
        reader._rare_one_word_keys = keys  # type: ignore[attr-defined]
    for tok in tokens:
        key = normalize_title(tok.text)
        if tok.capital or len(key) < 6 or not rules.rare_word(key) or plot_words(reader)[key] >= 2 or \
                re.search(r"\b(a|an|i|we|you|they|to)\s+$", text[:tok.start], re.I) or \
                key in lx.COMMON_WORDS or key in lx.GENRE_WORDS or key in reader.tags or \
                _is_name_word(reader, key) or not reader._free(reading, tok.start, tok.end) or \
                re.match(r"\s+(movies|films|flicks|ones|shows|stuff|type)\b", text[tok.end:], re.I) or \
                re.match(r"\s+(\d|ii\b|iii\b|part\b)", text[tok.end:], re.I):  # "gladiator 2 (2024)"
            continue
        ids = reader._lookup(key)
        if not ids and not rules.modifies_next_noun(text, tok.end):  # "the shawshank prison"
            ids = sorted(set(reader._word_index().get(key, [])))
            if len(ids) > 1:
                continue  # a rare word several titles hold names none of them
        if not ids:
            hit = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=88)
            ids = reader._lookup(hit[0]) if hit else []
        item_id = reader._pick(ids, None, strict=False) if ids else None
        if item_id:
            reading.spans.append(Span("title", tok.text, tok.start, tok.end, item_id))


def plot_words(reader: Reader) -> collections.Counter[str]:
    """In how many catalog plots each lower-case word occurs (built once per reader): a word
    several plots use ("mobsters", "roommates") is an everyday noun, not a film's name."""
    cached: collections.Counter[str] | None = getattr(reader, "_plot_words", None)
    if cached is None:
        cached = collections.Counter()
        for item in reader.linker.catalog.items.values():
            cached.update(set(re.findall(r"[a-z]+", (item.text or "").lower())))
        reader._plot_words = cached  # type: ignore[attr-defined]
    return cached


def _one_word_keys(reader: Reader) -> list[str]:
    """One-word main-title keys of seven letters or more (built once per reader)."""
    cached: list[str] | None = getattr(reader, "_one_word_title_keys", None)
    if cached is None:
        cached = [k for k in reader.linker._titles if " " not in k and len(k) >= 7
                  and k not in lx.COMMON_WORDS]
        reader._one_word_title_keys = cached  # type: ignore[attr-defined]
    return cached


def fuzzy_title_keys(reader: Reader) -> list[str]:
    """Main-title keys, then alias keys of two words or more ("terminator 2", "pirates of the
    caribbean"): what a typo is matched against (built once per reader)."""
    cached: list[str] | None = getattr(reader, "_fuzzy_title_keys", None)
    if cached is None:
        main = list(reader.linker._title_keys)
        seen = set(main)
        people = reader.linker._people  # "Kevin Hart: Laugh at My Pain" -> no "kevin hart"
        short = {normalize_title(re.split(r":| - ", item.title.split(" (")[0])[0])
                 for item in reader.linker.catalog.items.values()}
        cached = [k for k in main if k not in people] + [
            k for k in short if k not in seen and " " in k and k not in people]
        reader._fuzzy_title_keys = cached  # type: ignore[attr-defined]
    return cached


def titles_too(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'loved it. memento too': a rare lower-case word that is a whole title, followed by
    'too' / 'as well', in a message that already names a title."""
    if not reading.of_kind("title"):
        return
    for tok in tokens:
        key = normalize_title(tok.text)
        if len(key) < 5 or key in lx.COMMON_WORDS or key in lx.GENRE_WORDS or \
                _is_name_word(reader, key) or not reader._free(reading, tok.start, tok.end) or \
                not re.match(r"\s+(too|as well|also)\b", text[tok.end:], re.IGNORECASE):
            continue
        item_id = reader._pick(reader._lookup(key), None, strict=False)
        if item_id:
            reading.spans.append(Span("title", tok.text, tok.start, tok.end, item_id))


def without_person_clauses(text: str, reading: Reading,
                           clause: Callable[[str, int, int], tuple[int, int]],
                           context: list[str] | None = None) -> str:
    """The message without the clauses that judge a person ("Will Ferrell is one of my
    favourite actors") or a film of its own, not one in `context` ("I have already seen
    Monster-in-Law (2005)"): a whole-message reaction to the suggestion is read from the rest."""
    own = set(context or [])
    spans = sorted((s for s in reading.spans if s.end > s.start and (
        s.kind == "person" or (context is not None and s.kind == "title" and s.value not in own))),
        key=lambda s: s.start)
    if not spans:
        return text
    out, last = [], 0
    for span in spans:
        a, b = clause(text, span.start, span.end)
        if re.search(r"\b(it|that|this|that one|this one|that movie|the movie|those|these|"
                     r"both|them)\b", text[a:b], re.IGNORECASE):
            continue  # "Russel Crowe is great in it" judges the film too
        if a >= last:
            out.append(text[last:a])
            last = b
    return " ".join(out + [text[last:]])


def short_first_names(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'sam l jackson', 'leo dicaprio', 'sandy bullock': a first name shortened, the rest of a well-known name
    as written (initials included) name that person."""
    by_rest = _people_by_rest(reader)
    for n in (3, 2):
        for i in range(len(tokens) - n + 1):
            window = tokens[i:i + n]
            start, end = window[0].start, window[-1].end
            words = normalize_title(text[start:end]).split()
            if len(words) != n or len(words[0]) < 3 or words[0] in lx.COMMON_WORDS or \
                    not reader._free(reading, start, end):
                continue
            names = [k for k in by_rest.get(" ".join(words[1:]), [])
                     if shortened(words[0], k.split(" ", 1)[0])]
            if names:
                best = max(names, key=lambda k: reader.fame.get(reader.linker._people[k], 0))
                reading.spans.append(Span("person", text[start:end], start, end,
                                          f"person:{reader.linker._people[best]}"))


def shortened(short: str, first: str) -> bool:
    """'leo' of 'leonardo', or a pet form sharing the first three letters ('sandy' of
    'sandra', 'danny' of 'daniel')."""
    if short == first:
        return False
    return first.startswith(short) or (short.endswith(("y", "ie")) and len(short) <= 6
                                       and short[:3] == first[:3])


def _people_by_rest(reader: Reader) -> dict[str, list[str]]:
    """Person keys by everything after the first name ('l jackson' -> 'samuel l jackson')."""
    cached: dict[str, list[str]] | None = getattr(reader, "_people_by_rest", None)
    if cached is None:
        cached = {}
        for k in reader.people_keys:
            if " " in k:
                cached.setdefault(k.split(" ", 1)[1], []).append(k)
        reader._people_by_rest = cached  # type: ignore[attr-defined]
    return cached


def compact_titles(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """'Slapshot', 'Spiderman 2'-style run-together names: one capitalised word that is a
    two-word title written without its space."""
    index = _compact_index(reader)
    for tok in tokens:
        key = normalize_title(tok.text)
        if not tok.capital or len(key) < 7 or key in lx.COMMON_WORDS or \
                not reader._free(reading, tok.start, tok.end) or reader._lookup(key):
            continue
        ids = index.get(key)
        if ids:
            reading.spans.append(Span("title", tok.text, tok.start, tok.end,
                                      reader.linker._best(ids, None)))


def _compact_index(reader: Reader) -> dict[str, list[str]]:
    cached: dict[str, list[str]] | None = getattr(reader, "_compact_titles", None)
    if cached is None:
        cached = {}
        for k, ids in reader.linker._titles.items():
            words = k.split()
            if len(words) == 2 and not all(w in lx.COMMON_WORDS for w in words):
                cached.setdefault("".join(words), []).extend(ids)
        reader._compact_titles = cached  # type: ignore[attr-defined]
    return cached


_PRONOUN_TASTE = re.compile(
    r"\b(?:love[sd]?|like[sd]?|adore[sd]?|enjoy(?:ed)?|dig|fan of|hate[sd]?|dislike[sd]?|"
    r"can'?t stand|cannot stand)\s+(?P<pronoun>him|her)\b|\b(?P<subject>he|she)\s+(is|was|can be|"
    r"'?s)\s+((so|pretty|really|very|super|always)\s+)?(funny|hilarious|great|amazing|awesome|"
    r"talented|brilliant|fantastic|the best)\b", re.IGNORECASE)


def named_people(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """People the other side names in full and capitalised ("Do you like any Brad Pitt
    movies?"), kept neutral: what "I love him" in the next message refers to."""
    found = Reading(text=text, spans=list(reading.spans))
    fuzzy_people(reader, text, tokens, found)
    reader._people(text, tokens, found, None)
    for span in found.spans[len(reading.spans):]:
        words = span.text.split()
        if span.kind == "person" and len(words) >= 2 and all(w[:1].isupper() for w in words):
            span.label = "neutral"
            reading.spans.append(span)
    reading.spans.sort(key=lambda s: s.start)


def pronoun_person(text: str, reading: Reading, context_people: list[str]) -> None:
    """'oh nice I do like her' after 'if you like Agatha Christie ...': the one person the
    other side just named, when the message names none itself."""
    people = list(dict.fromkeys(context_people))
    if len(people) != 1 or reading.of_kind("person"):
        return
    m = _PRONOUN_TASTE.search(text)
    group = ("pronoun" if m.group("pronoun") else "subject") if m else ""
    if m and not any(s.overlaps(m.start(group), m.end(group)) for s in reading.spans):
        reading.spans.append(Span("person", m.group(group), m.start(group), m.end(group),
                                  people[0]))  # "she can be pretty funny": liked

