"""Reading rules that refine the reader's title and person spans (context, sequels, lists, remakes)."""

from __future__ import annotations

import functools
import logging
import re
from typing import TYPE_CHECKING, Any

from agent import lexicon as lx
from agent.spans import ReaderLike as Reader
from agent.spans import Reading, Span, _Token
from catalog.text import normalize_title

if TYPE_CHECKING:
    from catalog.models import Catalog

log = logging.getLogger(__name__)

_NUMBER_WORDS = {2: ("2", "ii", "two", "second"), 3: ("3", "iii", "three", "third"),
                 4: ("4", "iv", "four"), 5: ("5", "v", "five"), 6: ("6", "vi", "six"),
                 7: ("7", "vii", "seven"), 8: ("8", "viii", "eight"), 9: ("9", "ix", "nine")}
_ROMAN = {"ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9}
_SEQUEL_AFTER = re.compile(r"^\s*(?:part|episode|chapter|vol\.?|volume|no\.?)?\s*"
                           r"(?P<n>[2-9]|ii|iii|iv|vi|vii|viii|ix|v)\b", re.IGNORECASE)
_LIST_JOIN = re.compile(r"^\s*(?:,\s*(?:and|&|or)?|and|&|or|plus|as well as)\s+", re.IGNORECASE)
_NEWEST = re.compile(r"\b(new|newer|newest|latest|recent|remake|reboot|\d{4})\b(\s+[\w'’-]+){0,3}"
                     r"\s*(movie|film|version|one)?\s*$", re.IGNORECASE)
_NEWEST_AFTER = re.compile(r"\s+(remake|reboot|re-?make)\b", re.IGNORECASE)
"""'the ghostbusters remake': the newest film of that title."""
_OLDEST = re.compile(r"\b(original|old|older|oldest|classic)\b(\s+[\w'’-]+){0,2}\s*$",
                     re.IGNORECASE)
_PRONOUNS = {"i", "me", "it", "you", "we", "us", "he", "she", "him", "her", "they", "them",
             "this", "that", "those", "these", "a", "an", "the", "so", "too", "also"}
PRONOUNS = frozenset(_PRONOUNS)
"""Words that refer, never name a film by themselves."""
_SURNAME_LOWER_AFTER = re.compile(r"^(['’]s)?\s+(movies|films|flicks|stuff|work|ones?|"
                                  r"(is|was) (a |an |the )?(genius|legend|master|goat|best|"
                                  r"my (fav|fave|favou?rite)))\b", re.IGNORECASE)
_SURNAME_LOWER_BEFORE = re.compile(r"\b(by|with|w/?|starring|directed by|from|fan of)\s*$",
                                   re.IGNORECASE)
INTEREST_AFTER_UNSEEN = re.compile(
    r"\b(but|though|although)\b.*\b(look(s|ed)? (good|great|interesting|fun|cool|awesome)|"
    r"sounds? (good|great|interesting|fun|cool)|want(ed)? to (see|watch)|"
    r"(will|i'?ll|ill|gonna|going to) (have to )?(go )?(check|watch|see|look|try)|"
    r"(would|'d) (like|love) to( see| watch)?\b|(maybe |really )?i should\b|"
    r"look (that|it) up|on my list|heard (good|great)|"
    r"heard (a lot of |lots of |so many |many )?(good|great) things)", re.IGNORECASE)
"""'haven't seen X yet, but it looks good': the set labels that interest as liked."""
INTEREST_ANYWHERE = re.compile(
    r"\b((would|'d) (like|love) to (see|watch)|heard (a lot of |lots of |so many |many )?"
    r"(good|great) things|(looks|sounds) (really )?(good|great|interesting)|"
    r"(will|i'?ll|ill) (need to|have to|got to) (find|get|rent|watch|see|check)|"
    r"(will|i'?ll|ill) look into (it|that|them)|"
    r"(will|i'?ll|ill) (definitely |surely )?(look for|look out for|watch for) (it|that|this|them))\b",
    re.IGNORECASE)
"""Interest that needs no 'but' before it: "haven't seen it, heard a lot of great things"."""
_INTEREST_NEXT = re.compile(r"^([^.!?]*[.!?]+)?\s*((maybe|perhaps|so|but) )?(i(?:'| )(?:really |"
                            r"definitely )?(should|need to|want to|have to|must|will|ll)\b"
                            r"(?! (never|not)\b)|(it|that) (looks|sounds) (good|great|"
                            r"interesting))", re.IGNORECASE)
"""Interest in the next sentence, or right after the title ("I did not see John Wick (2014)
I'll have to check that one out"); never "I will never watch it"."""


def interest_next(text: str, end: int) -> bool:
    """'I haven't seen X yet, actually. I really should.': interest in the next sentence."""
    return bool(_INTEREST_NEXT.match(text[end:]))


_HAVE_YOU_SEEN = re.compile(r"\b(have|did|had) you (ever )?(had a chance to )?(seen|see|"
                            r"watched|watch)\b", re.IGNORECASE)


def compact(key: str) -> str:
    """A normalised title without spaces and a leading article ("spider man" -> "spiderman")."""
    return re.sub(r"^(the|a|an) ", "", key).replace(" ", "")


def possessive_key(key: str) -> str:
    """'spielberg s' (from "Spielberg's") -> 'spielberg', 'robert downey junior' -> 'robert
    downey jr'; other keys unchanged."""
    key = key[:-7] + " jr" if key.endswith(" junior") and key.count(" ") >= 2 else key
    return key[:-2] if key.endswith(" s") and len(key) > 4 else key


def item_keys(reader: Reader, item_id: str) -> list[str]:
    """Every index key (main title and aliases) that names one item."""
    if reader.keys_of_item is None:
        index: dict[str, list[str]] = {}
        for table in (reader.linker._titles, reader.linker._aliases):
            for key, ids in table.items():
                for i in ids:
                    index.setdefault(i, []).append(key)
        reader.keys_of_item = index
    return reader.keys_of_item.get(item_id, [])


def context_titles(reader: Reader, text: str, tokens: list[_Token], reading: Reading,
                   context: list[str]) -> None:
    """Words that name a suggestion in context, however loosely written: "Home alone 2" for
    Home Alone 2: Lost in New York, "spiderman" for Spider-Man: Homecoming, "Death Wish" for
    the remake just suggested. The context decides between same-named films."""

    if not context:
        return
    keyed = [(item_id, key, compact(key)) for item_id in context
             for key in item_keys(reader, item_id)]
    n_tok = len(tokens)
    for n in range(min(6, n_tok), 0, -1):
        for i in range(n_tok - n + 1):
            window = tokens[i:i + n]
            start, end = window[0].start, window[-1].end
            if not reader._free(reading, start, end):
                continue
            key = normalize_title(text[start:end])
            words = key.split()
            short = len(key) < 4 and (key in _PRONOUNS or not _judged_here(text, start, end))
            if short or reader._is_person_key(possessive_key(key)):
                continue  # "I love Adam Sandler" is no "Adam Sandler's Eight Crazy Nights"
            if all(w in lx.COMMON_WORDS or w in lx.GENRE_WORDS or w.isdigit() for w in words) \
                    and not _judged_here(text, start, end):
                continue
            ck = compact(key)
            the = text[start:end].lower().startswith("the ") or bool(
                re.search(r"\bthe\s+$", text[:start], re.IGNORECASE))
            for item_id, full, cfull in keyed:
                prefix = len(ck) >= 6 and (full.startswith(key + " ") or cfull.startswith(ck))
                suffix = full.endswith(" " + key) and (  # "the Hulk", "Cuckoo's nest"
                    (the and len(key) >= 4 and " " not in key) or (" " in key and len(key) >= 8))
                if prefix and _longer_title_follows(reader, text, tokens, i, n):
                    continue  # "Batman Begins" is no "Batman & Robin" just suggested
                if key == full or ck == cfull or prefix or suffix:
                    reading.spans.append(Span("title", text[start:end], start, end, item_id))
                    break


_JUDGED_AFTER = re.compile(r"^\s+(is|was)\s+((so|really|very|pretty|just|way|kinda)\s+)*"
                           r"(great|good|ok|okay|fine|alright|awesome|amazing|boring|bad|"
                           r"terrible|better|worse|the best|a classic)\b", re.IGNORECASE)


def _judged_here(text: str, start: int, end: int) -> bool:
    """Everyday words that are a suggestion's whole title, judged right after ("heat is
    great") or starting a clause after a taste verb."""
    return bool(_JUDGED_AFTER.match(text[end:]) or re.match(r"\s+(too|as well)\b", text[end:],
                                                           re.IGNORECASE)
                or re.search(r"\b(seen|saw|watched|loved|liked|enjoyed)\s+$", text[:start],
                             re.IGNORECASE))


def _longer_title_follows(reader: Reader, text: str, tokens: list[_Token], i: int,
                          n: int) -> bool:
    """The window and the next words (up to four) are an exact catalog title."""
    for extra in range(1, 5):
        if i + n + extra > len(tokens):
            break
        key = normalize_title(text[tokens[i].start:tokens[i + n + extra - 1].end])
        if reader.linker._titles.get(key):
            return True
    return False


def sequels(reader: Reader, text: str, reading: Reading) -> None:
    """'the godfather 2', 'john wick 2', 'star wars episode 5': a number after a title picks
    the sequel whose title carries that number, and the span takes the number in."""
    titles = reader.linker._titles
    aliases = reader.linker._aliases
    for span in reading.of_kind("title"):
        m = _SEQUEL_AFTER.match(text[span.end:])
        if not span.value or not m:
            continue
        raw = m.group("n").lower()
        number = int(raw) if raw.isdigit() else _ROMAN[raw]
        key = normalize_title(span.text)
        base = re.sub(r"^(the|a|an) ", "", key)
        if number == 2 and re.search(r"\b(2|ii|two)\b", key):
            continue
        marks = _NUMBER_WORDS[number]
        hits: list[str] = []
        for table in (titles, aliases):
            for k, ids in table.items():
                rest = k.removeprefix("the ")
                if rest.startswith(base + " ") and any(
                        w in marks for w in rest[len(base) + 1:].split()[:3]):
                    hits += [i for i in ids if i not in hits]
        end = span.end + m.end()
        if hits and reader._free_except(reading, span, span.end, end):
            span.value = reader.linker._best(hits, None)
            span.end, span.text = end, text[span.start:end]


def listed_titles(reader: Reader, text: str, tokens: list[_Token], reading: Reading) -> None:
    """A title joined to a found one by ',' / 'and' / 'or' is a title even when written in
    lower case or as a genre-like word ("the dark knight and inception", "Alien, Aliens")."""

    changed = True
    while changed:
        changed = False
        for span in list(reading.of_kind("title")):
            if not span.value:
                continue
            join = _LIST_JOIN.match(text[span.end:])
            if not join:
                continue
            after = [t for t in tokens if t.start >= span.end + join.end()][:6]
            for n in range(len(after), 0, -1):
                window = after[:n]
                start, end = window[0].start, window[-1].end
                if not reader._free(reading, start, end):
                    continue
                key = normalize_title(text[start:end])
                words = key.split()
                if not key or key in _PRONOUNS or key.isdigit() or reader._is_person_key(key):
                    continue
                everyday = all(w in lx.COMMON_WORDS or w in lx.GENRE_WORDS for w in words)
                capital = all(t.capital for t in window if t.text.lower() not in {
                    "of", "the", "a", "an", "and", "in", "on", "to"})
                if everyday and not (capital and len(key) >= 2):
                    continue
                ids = reader._lookup(key)
                item_id = reader._pick(ids, None, strict=False) if ids else None
                if item_id:
                    reading.spans.append(Span("title", text[start:end], start, end, item_id))
                    changed = True
                    break


_LIST_CUE = re.compile(r"\b(lik(e|es|ed)|lov(e|es|ed)|enjoyed|watched|seen|saw|such as)\s+",
                       re.IGNORECASE)
_ABOUT_FILMS = re.compile(r"\b(movies?|films?|flicks?|stuff|ones|watched|seen|saw|pixar|disney|"
                          r"classics?|favou?rites?)\b", re.IGNORECASE)
_LIST_SEP = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or|&)\s)\s*", re.IGNORECASE)


def whole_title_lists(reader: Reader, text: str, reading: Reading) -> None:
    """'I liked get out and us': after a taste verb, a list of two or more parts that runs to
    the end of the sentence, every part of it a whole catalog title, names those films (even
    when each is an everyday word)."""
    _one_title_after_past_taste(reader, text, reading)
    if not _ABOUT_FILMS.search(text):
        return  # "I like dogs and cats" is no list of films
    for cue in _LIST_CUE.finditer(text):
        stop = re.search(r"[.!?;]|$", text[cue.end():])
        end = cue.end() + (stop.start() if stop else 0)
        seps = list(_LIST_SEP.finditer(text, cue.end(), end))
        bounds = [cue.end(), *[x for m in seps for x in (m.start(), m.end())], end]
        parts = [(bounds[k], bounds[k + 1]) for k in range(0, len(bounds), 2)]
        if len(parts) < 2:
            continue
        found: list[Span] = []
        for a, b in parts:
            raw = text[a:b].strip()
            key = normalize_title(raw)
            if not key or key in _PRONOUNS or key.isdigit() or reader._is_person_key(key) \
                    or key in lx.GENRE_WORDS or not reader._free(reading, a, b):
                break
            ids = reader._lookup(key)
            item_id = reader._pick(ids, None, strict=False) if ids else None
            if not item_id:
                break
            found.append(Span("title", raw, a, a + len(raw), item_id))
        else:
            reading.spans.extend(found)


_TIME_OR_AMOUNT = frozenset({"last", "this", "next", "every", "all", "some", "many", "much", "lots",
                             "yesterday", "today", "tonight", "once", "twice", "again", "with",
                             "at", "on", "in", "for", "my", "our", "your", "his", "her"})
"""'I watched last night': a time or an amount, not the title of the film."""
_PAST_TASTE = re.compile(r"\b(loved|liked|enjoyed|watched|seen|saw)\s+", re.IGNORECASE)


def _one_title_after_past_taste(reader: Reader, text: str, reading: Reading) -> None:
    """'i enjoyed get out, it was creepy': everyday words of two or more, no pronoun among
    them, right after a past taste verb and filling the clause, that are a whole title."""
    for cue in _PAST_TASTE.finditer(text):
        stop = re.search(r"[.,!?;]|$", text[cue.end():])
        raw = text[cue.end():cue.end() + (stop.start() if stop else 0)].strip()
        key = normalize_title(raw)
        words = key.split()
        first = raw.lower().split()[0] if raw else ""
        if len(words) < 2 or any(w in _PRONOUNS or w.isdigit() for w in raw.lower().split()) \
                or first in _TIME_OR_AMOUNT \
                or reader._is_person_key(key) or key in lx.GENRE_WORDS \
                or not reader._free(reading, cue.end(), cue.end() + len(raw)):
            continue
        ids = reader._lookup(key)
        item_id = reader._pick(ids, None, strict=False) if ids else None
        if item_id:
            reading.spans.append(Span("title", raw, cue.end(), cue.end() + len(raw), item_id))


def remakes(reader: Reader, text: str, reading: Reading) -> None:
    """'the new Death Wish' is the newest film of that title, 'the original Death Wish' the
    oldest (only where the title names several films and no year is written)."""
    items = reader.linker.catalog.items
    for span in reading.of_kind("title"):
        if not span.value or re.search(r"\(\s*\d{4}\s*\)", span.text):
            continue
        key = normalize_title(span.text)
        ids = [i for i in dict.fromkeys([*reader.linker._titles.get(key, ()),
                                         *reader.linker._aliases.get(key, ())])
               if items[i].year]
        if len(ids) < 2:
            continue
        before = text[max(0, span.start - 40):span.start]
        before = re.split(r"[.!?;,]", before)[-1]
        if _NEWEST.search(before) or _NEWEST_AFTER.match(text[span.end:]):
            span.value = max(ids, key=lambda i: items[i].year or 0)
        elif _OLDEST.search(before):
            span.value = min(ids, key=lambda i: items[i].year or 9999)


def nearest_year(items: dict[str, Any], ids: list[str], year: int,
                 window: int = 5) -> str | None:
    """The one film of `ids` dated closest to `year` (within `window` years, and strictly
    closer than every other): "Cinderella (1947)" is the 1950 film, not the 2015 one."""
    dated = sorted((abs(items[i].year - year), i) for i in ids if items[i].year)
    if not dated or dated[0][0] > window or (len(dated) > 1 and dated[1][0] == dated[0][0]):
        return None
    return dated[0][1]


def modifies_next_noun(text: str, end: int) -> bool:
    """The word ending at `end` is followed by a lower-case content word (it qualifies that
    noun: "Japanese chicks" is no partial title of "Japanese Story")."""
    m = re.match(r"\s+([a-z][a-z'’]+)\b", text[end:])
    if m is None:
        return False
    word = m.group(1)
    return word not in lx.COMMON_WORDS and len(word) >= 3 and \
        word not in ("and", "the", "was", "is", "are", "were", "too", "so")


def names_whose_films(text: str, end: int) -> bool:
    """'hitchcock movies', "kubrick's films": the word before names who made them."""
    return bool(_SURNAME_LOWER_AFTER.match(text[end:]))


def lower_surname_ok(text: str, start: int, end: int) -> bool:
    """A lower-case surname is a person when it names whose films ("nolan movies",
    "spielberg's films", "something by kubrick")."""
    return bool(_SURNAME_LOWER_AFTER.match(text[end:]) or _SURNAME_LOWER_BEFORE.search(
        text[:start]) or re.match(r"['’]s\b", text[end:]))


@functools.lru_cache(maxsize=1)
def _wordpieces() -> frozenset[str]:
    """The whole words of the shipped MiniLM's vocabulary (30k common English words and
    names); empty when the model package is missing."""
    try:
        from tools.engines.embeddings import default_model_dir

        lines = (default_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except Exception as exc:  # noqa: BLE001 - without the list only cued surnames are read
        log.warning("no word list for lower-case surnames (%s)", exc)
        return frozenset()
    return frozenset(w for w in lines if w.isalpha())


def rare_surname(key: str) -> bool:
    """A lower-case surname no common word spells ("kubrick", "villeneuve", "hanks", not
    "close", "stone" or "white"): it names the person without a cue."""
    words = _wordpieces()
    return bool(words) and len(key) >= 5 and key.isalpha() and key not in words


def rare_word(key: str) -> bool:
    """A lower-case word that is no common word, nor the plural of one ("goonies",
    "shawshank", not "clowns" or "roommates")."""
    words = _wordpieces()
    plural = key.endswith("s") and (key[:-1] in words or (key.endswith("es") and key[:-2] in words))
    return rare_surname(key) and not plural


def answered_seen(text: str, question: str) -> bool:
    """'yes ...' to "Have you seen X?" says the suggestion was seen, whatever else follows."""
    return bool(question and _HAVE_YOU_SEEN.search(question) and re.match(
        r"^\W*(yes|yeah|yep|yup|i have|i did|of course|i('?ve| have)? already (did|have|seen|"
        r"watched))\b", text, re.IGNORECASE))


def subtitle_index(catalog: Catalog) -> dict[str, list[str]]:
    """What follows a title's colon or dash, as people say it alone ("fury road", "the two
    towers", "infinity war"): two words or more, not only numbers and everyday words ("part
    ii", "the sequel")."""
    index: dict[str, list[str]] = {}
    for item in catalog.items.values():
        main = item.title.split(" (")[0]
        for sep in (": ", " - "):
            if sep not in main:
                continue
            key = re.sub(r"^(the|a|an) ", "", normalize_title(main.split(sep, 1)[1]))
            words = key.split()
            if len(words) >= 2 and not all(
                    w in lx.COMMON_WORDS or w.isdigit() or w in _ROMAN
                    or w in ("part", "chapter", "episode", "vol", "volume") for w in words):
                for k in (key, f"the {key}"):
                    index.setdefault(k, []).append(item.id)
    return index


def short_first_name(surnames: dict[str, str], key: str) -> str | None:
    """'leo dicaprio', 'sam jackson': a shortened first name before a known surname names the
    best-known bearer of that surname whose first name it begins."""
    first, _, last = key.partition(" ")
    name = surnames.get(last)
    if name is None or len(first) < 3 or first in lx.COMMON_WORDS:
        return None
    full_first = normalize_title(name).split(" ", 1)[0]
    return name if full_first != first and full_first.startswith(first) else None
