"""Catalog-aware reading before the LLM: the titles, people, genres, eras and cards a message names."""

from __future__ import annotations

import logging
import re

from rapidfuzz import fuzz, process

from agent import lexicon as lx
from agent import reading_genres as rgenres
from agent import reading_names as rnames
from agent import reading_rules as rules
from agent.linking import EntityLinker
from agent.mood_model import MoodModel
from agent.reaction_model import ReactionModel
from agent.span_scorer import SpanScorer
from agent.spans import YEAR_PAREN, _Token
from agent.spans import Label as Label
from agent.spans import Reading as Reading
from agent.spans import Span as Span
from agent.spans import SpanKind as SpanKind
from catalog.text import normalize_title

log = logging.getLogger(__name__)

LABELS: tuple[str, ...] = ("liked", "disliked", "seen", "neutral")
"""Labels the LLM may choose for a span."""

_TOKEN = re.compile(r"[A-Za-z0-9\u00C0-\u024F][A-Za-z0-9\u00C0-\u024F'’&.\-:!?,·*]*")
_CLAUSE_BREAK = re.compile(r"[.!?;,]|(?<!anything )(?<!everything )(?<!all )\bbut\b|\bthough\b|"
                           r"\bhowever\b|\balthough\b", re.IGNORECASE)
_TASTE_BEFORE = re.compile(r"\b(like[sd]?|love[sd]?|hated?|disliked|seen|saw|watched|enjoyed|"
                           r"favou?rites? (is|are|was)|"
                           r"(great|good|amazing|awesome|brilliant|fantastic|excellent|perfect) in|"
                           r"prefer|rather (watch|see)|"
                           r"fan of|about|called|rewatch(ed)?|(the|that|this) (movie|film)|"
                           r"(movie|film) (is|was)|(get|got|getting) into|hype (around|about|of|for)|"
                           r"obsessed with)\s+(the\s+)?$", re.IGNORECASE)
_NAMED_BEFORE = re.compile(r"\b((the|a|that) (movie|film)( called)?|called|titled)\s+$",
                           re.IGNORECASE)
"""'the movie get out': everyday words named as a film."""
_TASTE_AFTER = re.compile(r"^\W*(is|was|are|were)\s+(my\s+)?((so|really|very|way|pretty|such|"
                          r"a|an|totally|kinda|just)\s+)*(favou?rite|great|good|awesome|amazing|"
                          r"the best|hilarious|brilliant|classic|overrated|underrated|terrible|"
                          r"awful|boring|bad|too long|too slow|sick|amazing|perfect|better|worse|"
                          r"peak)\b|^\W*(especially|in particular)\b", re.IGNORECASE)
_JUDGED_INTENSE = re.compile(r"^\s+(is|was)\s+(so|really|very|super|pretty|such a)\s+[a-z]{4,}",
                             re.IGNORECASE)
"""'gone girl was so twisted': any word after an intensifier judges the words before it."""
_REJECTED_AFTER = re.compile(r"^\W*(movies?\W+|films?\W+)?(isn'?t|isnt|is not|aren'?t|arent|"
                             r"are not|not)\s+(really\s+|quite\s+)?(my (thing|cup of tea|style|"
                             r"type|taste|jam)|for me)\b|^\W*(\w+\W+)?makes? me cringe",
                             re.IGNORECASE)
"""'horror isnt my thing': a genre or person refused by the words after it."""
_PLACE_THE = re.compile(r"\b(all|on|in|at|into|from|over|under|around|through|across)\s+the\s+$",
                        re.IGNORECASE)
"""'all the others', 'on the radio': a lower-case word after these is a noun, not a title."""
_INNER_APOSTROPHE = re.compile(r"(?<=[A-Za-z])[’‘`´](?=[A-Za-z])")
"""A typographic apostrophe inside a word ("Haven’t", "Schindler’s"): read as "'"."""
_QUOTED = re.compile(r"[\"“”‘’«»]([^\"“”«»]{2,80})[\"“”’«»]")
_MAX_TITLE_WORDS = 10
_INTERJECTIONS = {"eh", "oh", "ah", "uh", "um", "umm", "hmm", "hm", "meh", "lol", "yeah", "ok",
                  "okay", "well", "so", "wow", "ugh"}
"""A fuzzy title never starts with one of these ("eh its complicated" is no It's Complicated)."""
_ADVERBS = frozenset({"absolutely", "definitely", "totally", "exactly", "seriously", "honestly",
                      "obviously", "anyway", "anyways", "certainly", "surely", "actually"})
"""One capitalised word people start a run-on sentence with ("Absolutely. I wanna ...")."""
_GROUP = re.compile(r"\b((both|all|either|each|neither) of (those|them|these|the (two|three))|"
                    r"(seen|saw|watched|love|loved|like|liked|enjoyed) (them )?(both|all)( of them)?"
                    r"(?! (the|of)\b))\b", re.IGNORECASE)
"""'I have seen both', 'I love both of those': a reaction said of all the suggestions."""
_GREETING = re.compile(r"^\W*(h+e+y+|hi+|hello+|howdy|yo+|sup|good (morning|evening|night)|gm)\b",
                       re.IGNORECASE)
_INTENSIFIERS = frozenset({"super", "really", "totally", "pretty", "extremely", "seriously"})
_LISTED_WITH_GENRE = re.compile(
    r"\b(comed(y|ies)|horrors?|dramas?|thrillers?|romances?|westerns?|musicals?|"
    r"documentar(y|ies)|cartoons?)\s*(,|and|or|&)\s*#|#\s*(,|and|or|&)\s*(comed(y|ies)|horrors?|"
    r"dramas?|thrillers?|romances?|westerns?|musicals?|documentar(y|ies)|cartoons?)\b",
    re.IGNORECASE)
"""A lower-case word listed with genres is a kind of film ("romantics and comedies")."""
_OTHERS = re.compile(r"\b(the other (ones|two|three|films|movies|picks)|the others|the rest)\b",
                     re.IGNORECASE)
_SMALL_WORDS = {"of", "the", "a", "an", "and", "in", "on", "to", "at", "for", "with", "from",
                "vs", "de", "la", "le", "or", "is", "my", "me", "i", "&"}


class Reader:
    """Finds mentions with the catalog's own indexes (no LLM)."""

    def __init__(self, linker: EntityLinker, use_scorer: bool = True) -> None:
        self.linker = linker
        catalog = linker.catalog
        self.genres = set(catalog.genres())
        self.newest_year = max((i.year for i in catalog.items.values() if i.year), default=2018)
        pop = linker._popularity
        fame: dict[str, int] = {}
        for item in catalog.items.values():
            for names in item.people.values():
                for name in names:
                    fame[name] = fame.get(name, 0) + pop.get(item.id, 0) + 1
        self.fame = fame
        self.surnames: dict[str, str] = {}
        for name in sorted(fame, key=lambda n: -fame[n]):
            key = normalize_title(name)
            last = key.rsplit(" ", 1)[-1]
            if " " in key and len(last) >= 3 and not last.isdigit():
                self.surnames.setdefault(last, name)
        by_first: dict[str, list[str]] = {}
        for name in sorted(fame, key=lambda n: -fame[n]):
            key = normalize_title(name)
            if " " in key:
                by_first.setdefault(key.split(" ", 1)[0], []).append(name)
        for first, names in by_first.items():  # "Michael" is a first name, not Simon Michaël
            if len(names) >= 3:
                self.surnames.pop(first, None)
        self.first_names = {first: names[0] for first, names in by_first.items()
                            if len(first) >= 5 and first not in lx.COMMON_WORDS
                            and (len(names) == 1 or fame[names[0]] >= 3 * fame[names[1]])
                            and first not in self.surnames}
        """A distinctive first name ("Denzel") names its best-known bearer."""
        self.people_keys = linker._people_keys
        self.tags = {normalize_title(t): t for t in linker._tags if len(t) >= 4}
        by_year: dict[int, list[str]] = {}
        for key, ids in linker._titles.items():
            for item_id in ids:
                year = catalog.items[item_id].year
                if year:
                    by_year.setdefault(year, []).append(key)
        self.title_keys_by_year = by_year
        self.keys_of_item: dict[str, list[str]] | None = None
        self.subtitles = rules.subtitle_index(catalog)
        """Item id -> its index keys (built on first use by the context rule)."""
        self.scorer: SpanScorer | None = SpanScorer.load() if use_scorer else None
        """The learned second look at titles the rules passed over (None: rules only)."""
        self.mood: MoodModel | None = MoodModel.load() if use_scorer else None
        """The learned mood -> genre model, asked where the lexicon finds no genre."""
        self.reactions: ReactionModel | None = ReactionModel.load() if use_scorer else None
        """The learned reaction reader, asked where the rules read no reaction to a suggestion."""

    # ---- entry point -------------------------------------------------------------------
    def read(self, text: str, *, role: str = "user", context_items: list[str] | None = None,
             slot: str | None = None, question: str = "",
             context_people: list[str] | None = None) -> Reading:
        """Read one message.

        Args:
            text: The message (already cleaned).
            role: "user" or "assistant" (the other side of a transcript: titles it names are
                suggestions, nothing else is read).
            context_items: Item ids the agent (or the other side) just showed, oldest first;
                card references and reactions resolve against them.
            slot: The slot the agent's last question asked about ("genre", "era", ...).
            question: The other side's last question: a bare "yes"/"no" answers it.
            context_people: People ("person:Name") the other side just named: "I love
                him" is about the one of them.
        """
        text = _INNER_APOSTROPHE.sub("'", text)  # same length: spans still point into it
        reading = Reading(text=text)
        tokens = tokenize(text)
        self._titles_with_year(text, tokens, reading)
        self._quoted_titles(text, reading)
        if role != "user":
            self._titles_plain(text, tokens, reading, None, strict=True)
            for span in reading.spans:
                span.label = "suggested"
            rnames.named_people(self, text, tokens, reading)
            reading.spans.sort(key=lambda s: s.start)  # the order they were named in
            return reading
        rules.context_titles(self, text, tokens, reading, context_items or [])
        rnames.franchises(self, text, tokens, reading)
        rnames.numbered_titles(self, text, tokens, reading)
        rnames.nicknames(self, text, reading)
        rnames.fuzzy_people(self, text, tokens, reading)
        rules.whole_title_lists(self, text, reading)
        self._titles_plain(text, tokens, reading, slot)
        self._people(text, tokens, reading, slot)
        rnames.pronoun_person(text, reading, context_people or [])
        rnames.lower_first_names(self, text, tokens, reading)
        rnames.short_first_names(self, text, tokens, reading)
        rnames.compact_titles(self, text, tokens, reading)
        rnames.surname_typos(self, text, tokens, reading)
        rnames.one_word_typos(self, text, tokens, reading)
        rnames.rare_word_titles(self, text, tokens, reading)
        self._partial_titles(text, tokens, reading)
        rules.listed_titles(self, text, tokens, reading)
        rnames.titles_too(self, text, tokens, reading)
        rules.sequels(self, text, reading)
        rules.remakes(self, text, reading)
        if self.scorer is not None:
            self.scorer.add_titles(self, text, tokens, reading, context_items or [])
        rgenres.genres_and_tags(self, text, tokens, reading, slot)
        rgenres.eras(self, text, reading)
        self._cards(text, reading, context_items or [])
        self._label(text, reading, context_items or [])
        if question and not any(s.kind in ("title", "person", "card") for s in reading.spans):
            self._answer(text, question, reading, context_items or [], slot)
        elif reading.reaction is None and context_items and rules.answered_seen(text, question):
            reading.reaction = "seen"  # "Yes. Not a big fan of Will Ferrell" to "seen Anchorman?"
        if self.reactions is not None and reading.reaction is None and context_items:
            self._reactions(reading, context_items)
        if self.mood is not None:
            self._moods(text, reading)
        self._intent(text, reading, context_items or [])
        self._loose_capitals(text, tokens, reading)
        reading.keywords = self._keywords(tokens, reading)
        reading.spans.sort(key=lambda s: s.start)
        return reading

    def _moods(self, text: str, reading: Reading) -> None:
        """Genres the mood model reads where the lexicon found none; without the embedding
        model (missing or damaged) the reader goes on with the lexicon alone."""
        assert self.mood is not None
        try:
            self.mood.add_genres(self.genres, text, reading)
        except Exception as exc:  # noqa: BLE001 - any failure of the model only loses moods
            log.warning("mood model switched off (%s)", exc)
            self.mood = None

    def _reactions(self, reading: Reading, context_items: list[str]) -> None:
        """The reaction the learned model reads where the rules read none; without the
        embedding model the reader goes on with the rules alone."""
        assert self.reactions is not None
        try:
            self.reactions.react(reading, context_items)
        except Exception as exc:  # noqa: BLE001 - any failure of the model only loses reactions
            log.warning("reaction model switched off (%s)", exc)
            self.reactions = None

    # ---- titles ------------------------------------------------------------------------
    def _free(self, reading: Reading, start: int, end: int) -> bool:
        return not any(s.overlaps(start, end) for s in reading.spans)

    def _free_except(self, reading: Reading, span: Span, start: int, end: int) -> bool:
        return not any(s.overlaps(start, end) for s in reading.spans if s is not span)

    def _lookup(self, key: str, year: int | None = None) -> list[str]:
        """Ids a key names: main titles, then aliases, except an alias dated like a film of
        that very title (a ReDial mislink: "It (1990)" is no name of Goodfellas), then
        subtitles ("fury road"). `year` is unused here: the caller's pick decides by year."""
        ids = list(self.linker._titles.get(key, ()))
        items = self.linker.catalog.items
        years = {items[i].year for i in ids}
        ids += [i for i in self.linker._aliases.get(key, ())
                if i not in ids and items[i].year not in years]
        return ids or list(self.subtitles.get(key, ()))

    def _pick(self, ids: list[str], year: int | None, strict: bool) -> str | None:
        items = self.linker.catalog.items
        if year is not None:
            exact = [i for i in ids if items[i].year == year]
            near = [i for i in ids if items[i].year and abs(items[i].year - year) <= 1]
            undated = [i for i in ids if not items[i].year]  # "Ready Player One (2018)"
            ids = exact or near or undated or ([] if strict else ids)
        if not ids:
            return None
        return self.linker._best(ids, None)

    def _titles_with_year(self, text: str, tokens: list[_Token], reading: Reading) -> None:
        """'Title (Year)': the longest run of words before the year that names a catalog film
        of that year (a stated year picks the remake and never links another year)."""
        last_end = 0
        for m in YEAR_PAREN.finditer(text):
            year = int(m.group(1))
            before = [t for t in tokens if last_end <= t.start and t.end <= m.start()]
            last_end = m.end()  # "Jane (1915) Dawson City: Frozen Time (2016)": two titles
            before = before[-_MAX_TITLE_WORDS:]
            found: tuple[int, str] | None = None
            for n in range(len(before), 0, -1):
                window = before[-n:]
                start = window[0].start
                if not self._free(reading, start, m.end()):
                    continue
                key = normalize_title(text[start:window[-1].end])
                main = list(self.linker._titles.get(key, ())) if key else []
                item_id = (self._pick(main, year, strict=True) if main else None) or (  # "Heat
                    self._pick(self._lookup(key, year), year, strict=True) if key else None)  # (1996)"
                if item_id:
                    found = (start, item_id)
                    break
            if found is None:
                found = self._fuzzy_with_year(text, before, year, reading, m.end())
            if found is None:
                found = self._unique_title_near_year(text, before, year, reading, m.end())
            if found is not None:
                start, item_id = found
                reading.spans.append(Span("title", text[start:m.end()], start, m.end(), item_id))
                continue
            name, start = self._capital_run(text, before)
            if not name:
                name, start = self._remake_missing(text, before, year, reading, m.end())
            if name and self._free(reading, start, m.end()):
                reading.unknown.append(f"{name} ({year})")
                reading.spans.append(Span("title", text[start:m.end()], start, m.end(), "",
                                          label="neutral"))

    def _remake_missing(self, text: str, before: list[_Token], year: int, reading: Reading,
                        end: int) -> tuple[str, int]:
        """'lion king (2019)': words that name catalog films of other years only, far from
        the stated one: a remake the catalog lacks, reported as unknown."""
        items = self.linker.catalog.items
        for n in range(min(len(before), _MAX_TITLE_WORDS), 0, -1):
            window = before[-n:]
            if not self._free(reading, window[0].start, end):
                continue
            key = normalize_title(text[window[0].start:window[-1].end])
            ids = self.linker._titles.get(key) if key else None
            if ids and len(key) >= 5 and all(
                    items[i].year and abs(items[i].year - year) > 10 for i in ids):
                return text[window[0].start:window[-1].end], window[0].start
        return "", 0

    def _fuzzy_with_year(self, text: str, before: list[_Token], year: int, reading: Reading,
                         end: int) -> tuple[int, str] | None:
        keys = [k for y in (year - 1, year, year + 1) for k in self.title_keys_by_year.get(y, [])]
        if not keys:
            return None
        best: tuple[float, int, str] | None = None
        for n in range(min(len(before), 8), 0, -1):
            window = before[-n:]
            if not self._free(reading, window[0].start, end):
                continue
            key = normalize_title(text[window[0].start:window[-1].end])
            if len(key) < 4:
                continue
            cutoff = 85 if len(key) >= 8 else 92  # "The Take (2007)" is no Taken (2008)
            hit = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=cutoff)
            if hit and (best is None or hit[1] > best[0]):
                item_id = self._pick(self._lookup(hit[0], year), year, strict=True)
                if item_id:
                    best = (hit[1], window[0].start, item_id)
        return (best[1], best[2]) if best else None

    def _unique_title_near_year(self, text: str, before: list[_Token], year: int,
                                reading: Reading, end: int) -> tuple[int, str] | None:
        """A title only one catalog film has, dated a few years off: ReDial's names carry
        release years that MovieLens sometimes dates differently (Independence Day (2000))."""
        items = self.linker.catalog.items
        for n in range(len(before), 0, -1):
            window = before[-n:]
            if not self._free(reading, window[0].start, end):
                continue
            if re.search(r"\w\s*:\s*((the|a|an)\s+)?$", text[:window[0].start], re.I):
                continue  # "BearCity 2: The Proposal (2012)": the end of a longer title
            prev = [t for t in before if t.end <= window[0].start][-1:]
            if prev and prev[0].capital and _inside_capitals(text, prev[0], window[0]):
                continue  # "Full Metal Village (2006)" is no The Village (2004)
            ids = self.linker._titles.get(normalize_title(text[window[0].start:window[-1].end]))
            if ids and len(ids) == 1 and items[ids[0]].year and \
                    abs(items[ids[0]].year - year) <= 10 and window[0].capital:
                return window[0].start, ids[0]
            typed = window[0].text.lower()
            if ids and typed in ("the", "a", "an"):  # "The Mask (1988)" is The Mask, not Mask
                ids = [i for i in ids if items[i].title.lower().startswith(typed + " ")] or ids
            nearest = rules.nearest_year(items, list(ids), year) if ids and len(ids) > 1 \
                and window[0].capital else None
            if nearest:
                return window[0].start, nearest
        return None

    @staticmethod
    def _capital_run(text: str, before: list[_Token]) -> tuple[str, int]:
        run: list[_Token] = []
        for tok in reversed(before):
            if tok.capital or (run and tok.text.lower() in _SMALL_WORDS - {"and", "or", "&"}):
                run.insert(0, tok)
            else:
                break
        while run and run[0].text.lower() in _SMALL_WORDS - {"the", "a", "an"}:
            run.pop(0)
        return (text[run[0].start:run[-1].end], run[0].start) if run else ("", 0)

    def _quoted_titles(self, text: str, reading: Reading) -> None:
        for m in _QUOTED.finditer(text):
            start, end = m.start(1), m.end(1)
            if not self._free(reading, start, end):
                continue
            item_id = self.linker.link_title(m.group(1))
            if item_id:
                reading.spans.append(Span("title", m.group(1), start, end, item_id))

    def _titles_plain(self, text: str, tokens: list[_Token], reading: Reading,
                      slot: str | None, strict: bool = False) -> None:
        """Titles without a year: exact index hits on word windows, longest first, with rules
        against everyday words; typos by fuzzy match on capitalised windows. `strict` (the
        other side's words): capitalised exact names only, no typos."""
        n_tok = len(tokens)
        for n in range(min(_MAX_TITLE_WORDS, n_tok), 0, -1):
            if n == 1 and not strict:  # a misspelt longer title before one exact word
                self._fuzzy_titles(text, tokens, reading)  # ("shawshenk redemption")
            for i in range(n_tok - n + 1):
                window = tokens[i:i + n]
                start, end = window[0].start, window[-1].end
                if not self._free(reading, start, end):
                    continue
                key = normalize_title(text[start:end])
                if not key:
                    continue
                ids = self._lookup(key)
                if not ids or not self._plausible_title(key, window, i, tokens, text, slot):
                    continue
                lead = window[0].text.lower() if window[0].text.lower() in ("a", "an") else (
                    tokens[i - 1].text.lower() if i and n == 1 else "")
                if lead in ("a", "an") and len(key.split()) == 1 and not any(
                        self.linker.catalog.items[x].title.lower().startswith(("a ", "an "))
                        for x in ids if x in self.linker.catalog.items):
                    continue  # "a Girls night in movie" is not The Girls
                if strict and not self._named_by_other_side(key, window, i, text):
                    continue
                item_id = self._pick(ids, None, strict=False)
                if item_id:
                    reading.spans.append(Span("title", text[start:end], start, end, item_id))

    @staticmethod
    def _named_by_other_side(key: str, window: list[_Token], i: int, text: str) -> bool:
        """A title in the recommender's words: capitalised, not one everyday word, not a
        sentence's first word unless the rest of the title follows it."""
        if not all(t.capital for t in window if t.text.lower() not in _SMALL_WORDS):
            return False
        words = key.split()
        if all(w in lx.COMMON_WORDS or w in lx.GENRE_WORDS or w in lx.CALENDAR_WORDS
               for w in words) and len(words) < 2:
            return False
        sentence_start = i == 0 or text[:window[0].start].rstrip()[-1:] in ".!?"
        judged = bool(_TASTE_AFTER.search(text[window[-1].end:]) or _JUDGED_INTENSE.match(
            text[window[-1].end:]))  # "Bright was really good"
        return not (sentence_start and len(words) == 1 and not judged)

    def _plausible_title(self, key: str, window: list[_Token], i: int, tokens: list[_Token],
                         text: str, slot: str | None) -> bool:
        words = key.split()
        if key in lx.GENRE_WORDS or key in self.surnames or self._is_person_key(key):
            return False
        if len(window) > 1 and window[-1].text in ("movies", "films", "flicks"):
            return False  # "I hate disaster movies" names no Disaster Movie
        if key in self.first_names and rnames.NAME_BEFORE.search(text[:window[0].start]):
            return False  # "something with keanu": Keanu Reeves, not the film Keanu
        if all(w.isdigit() for w in words) and not (slot == "liked_title" and len(tokens) <= 2):
            return False  # "seen it like 10 times" names no film "10"
        if self._inside_name(window, i, tokens, text):
            return False  # "Julia" of "Julia Roberts" is no film
        if re.search(r"\b(i am|i'm|im|my name is|call me|this is)\s+$", text[:window[0].start],
                     re.IGNORECASE):
            return False  # "Hi, I'm Michael" introduces a person
        everyday = all(w in lx.COMMON_WORDS or w in lx.GENRE_WORDS or w in lx.CALENDAR_WORDS
                       for w in words)
        capital = all(t.capital for t in window if t.text.lower() not in _SMALL_WORDS)
        sentence_start = i == 0 or text[:window[0].start].rstrip()[-1:] in ".!?"
        if slot == "liked_title" and len(tokens) <= len(window) + 2:
            return True  # answering "what's a movie you loved?": a bare title is a title
        if len(words) == 1 and len(tokens) > 1 and re.match(r"\s*\?", text[window[-1].end:]) \
                and re.search(r"[.!?][\d!?.]*\s*$", text[:window[0].start]):
            return False  # "Mission impossible is amazing! Others?" asks for more
        cue = bool(_TASTE_BEFORE.search(text[:window[0].start])) or bool(
            _TASTE_AFTER.search(text[window[-1].end:])) or (len(words) >= 2 and bool(
                _JUDGED_INTENSE.match(text[window[-1].end:])))  # "gone girl was so twisted"
        whole = len(window) >= 0.6 * len(tokens)
        if everyday:
            named = len(words) >= 2 and bool(_NAMED_BEFORE.search(text[:window[0].start]))
            judged = len(words) >= 2 and bool(_TASTE_AFTER.search(text[window[-1].end:]))
            if len(words) == 1 and key in rules.PRONOUNS and not _TASTE_BEFORE.search(
                    text[:window[0].start]):
                return False  # "It was a great movie" says nothing of the film "It"
            return named or judged or (capital and not sentence_start and (len(words) >= 2 or cue))
        if capital:
            if len(words) == 1 and _inside_longer_run(text, window):
                return False  # "Princess Protection Program" (unknown) names no "Princess"
            return cue if len(words) == 1 and key in _ADVERBS else True  # "movies Absolutely."
        if re.match(r"\s+(movies|films|flicks)\b", text[window[-1].end:], re.IGNORECASE) and \
                not any(rules.rare_word(w) for w in words):
            return False  # "haunted house movies" is a kind of film
        if not capital and not any(rules.rare_word(w) for w in words) and _GREETING.match(text):
            return False  # "heyy movie buddy" greets
        if len(words) == 1 and (key in _INTENSIFIERS or _listed_with_genre(
                text, window[0].start, window[-1].end)):
            return False  # "yes! super funny!", "I like romantics and comedies"
        if len(words) == 1:
            before = text[:window[0].start].lower()
            article = (before.endswith("the ") or (before.endswith(("first ", "original "))
                                                   and rules.rare_word(key))) \
                and not _PLACE_THE.search(text[:window[0].start])  # "first contact with aliens"
            if not rules.rare_word(key):  # an everyday word: "a thing about cars", "the killer"
                cue = cue and not re.search(r"\babout\s+$", text[:window[0].start], re.I)
                article = article and bool(re.match(r"\s*($|[.!?])", text[window[-1].end:])
                                           or re.search(r"(^|[.!?]\s+)the\s+$", before))
            return cue or (len(key) >= 5 and (article or len(tokens) <= 3))
        rare = all(w not in lx.COMMON_WORDS for w in words) and not re.search(
            r"\b(for|with)\s+$", text[:window[0].start], re.IGNORECASE)  # "for grown ups"
        return cue or whole or rare

    def _partial_titles(self, text: str, tokens: list[_Token], reading: Reading) -> None:
        """A rare capitalised word that only one film's title holds ("I loved Shawshank")."""
        for n, tok in enumerate(tokens):
            key = normalize_title(tok.text)
            if n and tokens[n - 1].capital and _inside_capitals(text, tokens[n - 1], tok):
                continue  # "Five Dances" (unknown) is no Dances with Wolves
            cued = not tok.capital and len(key) >= 7 and bool(
                _TASTE_BEFORE.search(text[:tok.start])) and bool(re.match(
                    r"\s*($|[.!?,;]|(and|too|so|a lot|the most)\b)", text[tok.end:],
                    re.IGNORECASE))  # "i loved shawshank", not "i like cinematography of"
            if (len(key) < 6 or not (tok.capital or cued) or key in lx.COMMON_WORDS or key in _ADVERBS
                    or key in lx.GENRE_WORDS
                    or key in lx.CALENDAR_WORDS
                    or not self._free(reading, tok.start, tok.end) or key in self.surnames):
                continue
            if rules.modifies_next_noun(text, tok.end) or (
                    not tok.capital and _listed_with_genre(text, tok.start, tok.end)):
                continue  # "Japanese chicks": an adjective, not "Japanese Story"
            if text[tok.end:].lstrip()[:1] == "!" and (
                    tok.start == 0 or text[:tok.start].rstrip()[-1:] in ".!?"):
                continue  # "Excellent!" exclaims; it is no Bill & Ted's Excellent Adventure
            hits = self._word_index().get(key, [])
            if len(hits) == 1:
                reading.spans.append(Span("title", tok.text, tok.start, tok.end, hits[0]))

    def _word_index(self) -> dict[str, list[str]]:
        if not hasattr(self, "_words"):
            words: dict[str, list[str]] = {}
            for key, ids in self.linker._titles.items():
                for w in set(key.split()):
                    if len(w) >= 6:
                        words.setdefault(w, []).extend(ids)
            self._words = words
        return self._words

    def _is_person_key(self, key: str) -> bool:
        return key in self.linker._people

    def _inside_name(self, window: list[_Token], i: int, tokens: list[_Token], text: str) -> bool:
        """The window is part of a person's full name written around it."""
        j = i + len(window)
        spans = ([(tokens[i - 1].start, window[-1].end)] if i > 0 else []) + (
            [(window[0].start, tokens[j].end)] if j < len(tokens) else [])
        return any(self._is_person_key(normalize_title(text[a:b])) for a, b in spans)

    def _fuzzy_titles(self, text: str, tokens: list[_Token], reading: Reading) -> None:
        keys = rnames.fuzzy_title_keys(self)  # main titles, then the short names before a colon
        n_tok = len(tokens)
        for n in range(min(5, n_tok), 1, -1):
            for i in range(n_tok - n + 1):
                window = tokens[i:i + n]
                start, end = window[0].start, window[-1].end
                if not self._free(reading, start, end):
                    continue
                key = normalize_title(text[start:end])
                if len(key) < 6 or len(key.split()) < 2 or \
                        all(w in lx.COMMON_WORDS for w in key.split()) or \
                        window[0].text.lower() in _INTERJECTIONS or \
                        window[-1].text in ("movies", "films", "flicks") or \
                        window[-1].text.lower() in _SMALL_WORDS | {"was", "are", "were"}:
                    continue
                lower_ok = any(w not in lx.COMMON_WORDS and w not in lx.GENRE_WORDS
                               for w in key.split()) and (
                    _TASTE_BEFORE.search(text[:start]) or _TASTE_AFTER.search(text[end:])
                    or len(window) >= 0.6 * len(tokens))
                if not ((window[0].capital and window[-1].capital) or lower_ok):
                    continue
                hit = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=88)
                if hit:
                    item_id = self._pick(self._lookup(hit[0]), None, strict=False)
                    if item_id:
                        reading.spans.append(Span("title", text[start:end], start, end, item_id))

    # ---- people, genres, tags, eras ------------------------------------------------------
    def _people(self, text: str, tokens: list[_Token], reading: Reading,
                slot: str | None) -> None:
        people = self.linker._people
        n_tok = len(tokens)
        for n in (4, 3, 2):
            for i in range(n_tok - n + 1):
                window = tokens[i:i + n]
                start, end = window[0].start, window[-1].end
                if not self._free(reading, start, end):
                    continue
                key = rules.possessive_key(normalize_title(text[start:end]))
                name = people.get(key)
                lower_ok = all(w not in lx.COMMON_WORDS for w in key.split())
                if name is None and len(key) >= 7 and (
                        (window[0].capital and window[-1].capital) or lower_ok):
                    hit = process.extractOne(key, self.people_keys, scorer=fuzz.ratio,
                                             score_cutoff=90)
                    name = people[hit[0]] if hit else None
                if name is None and n == 2:
                    name = rules.short_first_name(self.surnames, key)
                if name:
                    reading.spans.append(Span("person", text[start:end], start, end,
                                              f"person:{name}"))
        for i, tok in enumerate(tokens):
            key = rules.possessive_key(normalize_title(tok.text))
            if not self._free(reading, tok.start, tok.end) or re.search(
                    r"\b(i am|i'm|im|my name is|call me|this is)\s+$", text[:tok.start], re.I):
                continue
            if key in self.first_names and tok.capital and key not in lx.GENRE_WORDS and \
                    (not self._lookup(key) or rnames.NAME_BEFORE.search(text[:tok.start])):
                reading.spans.append(Span("person", tok.text, tok.start, tok.end,
                                          f"person:{self.first_names[key]}"))
                continue
            if key not in self.surnames:
                continue
            sentence_start = i == 0 or text[:tok.start].rstrip()[-1:] in ".!?"
            common = key in lx.COMMON_WORDS or key in lx.GENRE_WORDS or \
                text[:tok.start].lower().endswith(("the ", "of the ")) or \
                text[tok.end:].lower().startswith((" of ", " and the ")) or \
                bool(re.match(r"\s+\d", text[tok.end:]))
            asked = slot == "person" and len(tokens) <= 3
            prev = tokens[i - 1].text if i else ""
            compound = not rules.rare_surname(key) and prev.islower() and \
                prev not in lx.COMMON_WORDS  # "haunted house movies"
            whose = not tok.capital and not common and not compound and len(key) >= 5 and (
                not self._lookup(key) or rules.names_whose_films(text, tok.end)) \
                and (rules.lower_surname_ok(text, tok.start, tok.end)  # "hitchcock movies"
                     or rules.rare_surname(key))  # "kubrick fan here"
            if (tok.capital and not common and (not sentence_start or len(tokens) <= 3)) or asked \
                    or whose:
                reading.spans.append(Span("person", tok.text, tok.start, tok.end,
                                          f"person:{self.surnames[key]}"))

    def _cards(self, text: str, reading: Reading, context: list[str]) -> None:
        if not context:
            return
        for m in lx.CARD_GROUP.finditer(text):
            n = {"two": 2, "three": 3}.get(m.group("n").lower()) or int(m.group("n"))
            picked = context[:n] if m.group("side").lower() != "last" else context[-n:]
            if len(context) >= n and self._free(reading, m.start(), m.end()):
                reading.spans += [Span("card", m.group(0), m.start(), m.end(), item_id)
                                  for item_id in picked]
        for m in lx.CARD_REF.finditer(text):
            if not self._free(reading, m.start(), m.end()):
                continue
            if m.group("num"):
                index = int(m.group("num")) - 1
            else:
                index = lx.ORDINALS[m.group("ord").lower()]
            index = len(context) - 1 if index == -1 else index
            if 0 <= index < len(context):
                reading.spans.append(Span("card", m.group(0), m.start(), m.end(), context[index]))
        self._other_cards(text, reading, context)

    @staticmethod
    def _other_cards(text: str, reading: Reading, context: list[str]) -> None:
        """'aliens is a classic, seen the others', 'titanic yes!! not the other two': the
        suggestions in context the message does not name (in lower case "the others" is no
        film of that name)."""
        m = _OTHERS.search(text)
        if not m:
            return
        reading.spans = [s for s in reading.spans if not (
            s.kind == "title" and s.overlaps(m.start(), m.end()) and s.text.islower())]
        if len(context) < 2:
            return
        if any(s.overlaps(m.start(), m.end()) for s in reading.spans):
            return
        named = {s.value for s in reading.spans if s.kind in ("title", "card")}
        rest = [i for i in context if i not in named]
        if named and rest:
            reading.spans += [Span("card", m.group(0), m.start(), m.end(), i) for i in rest]

    # ---- labels, intent, keywords ----------------------------------------------------------
    def _label(self, text: str, reading: Reading, context: list[str]) -> None:
        reaction = _reaction(rnames.without_person_clauses(text, reading, _clause, context))
        reading.reaction = reaction
        reading.reaction_plural = bool(re.search(r"\b(them|those|both|all|these|they|"
                                                 r"(suggestions|picks|recommendations|recs)\b(?! for)"
                                                 r")\b", text, re.IGNORECASE))
        reading.reaction_group = bool(reaction and _GROUP.search(text))
        for span in reading.spans:
            if span.label == "neutral":
                continue
            clause_start, clause_end = _clause(text, span.start, span.end)
            before = text[clause_start:span.start]
            after = text[span.end:clause_end]
            if span.kind == "era":
                if lx.NEGATIVE_CUES.search(_strip_idioms(before)):
                    span.label = "disliked"
                continue
            if span.kind == "card" and _OTHERS.fullmatch(span.text):
                clause = before + after  # "seen the others": its own words only
                span.label = "unseen" if lx.UNSEEN_CUES.search(clause) or re.search(
                    r"\b(new to me|never heard)", clause, re.I) else "disliked" if \
                    lx.REACT_DISLIKED.search(clause) or \
                    lx.NEGATIVE_CUES.search(_strip_idioms(before)) else "liked" if \
                    lx.REACT_LIKED.search(clause) or lx.POSITIVE_CUES.search(clause) else \
                    "seen" if lx.REACT_SEEN.search(clause) or lx.SEEN_CUES.search(before) else \
                    reaction or "liked"
                span.sure = True
                continue
            if span.kind in ("card",) or (span.kind == "title" and span.value in context):
                clause = before + after
                if lx.UNSEEN_CUES.search(clause):
                    span.label = "liked" if rules.INTEREST_AFTER_UNSEEN.search(
                        _sentence(text, span.start, span.end)) or rules.interest_next(
                        text, span.end) else "unseen"
                elif lx.REACT_DISLIKED.search(clause) or lx.NEGATIVE_CUES.search(
                        _strip_idioms(before)):
                    span.label = "disliked"
                elif lx.REACT_LIKED.search(text) or lx.POSITIVE_CUES.search(clause):
                    span.label = "liked"  # "I've seen X, but it is a really good one"
                elif lx.REACT_SEEN.search(clause) or lx.SEEN_CUES.search(before):
                    span.label = "seen"
                else:
                    span.label = reaction or "liked"
                span.sure = True
                continue
            sentence = _sentence(text, span.start, span.end)
            asked = sentence.rstrip().endswith("?") or bool(re.match(  # "Is that with the Rock"
                r"^\W*(is|was|isn'?t|wasn'?t) (it|that|this)\b", sentence, re.IGNORECASE))
            if span.kind in ("title", "person") and asked and \
                    re.search(r"\b(is it|is that|was it|was that|besides|other than|that one|"
                              r"the one with|right\W*$)", sentence, re.IGNORECASE):
                span.label, span.sure = "neutral", False  # asked about, not a taste
                continue
            negative = bool(lx.NEGATIVE_CUES.search(_strip_idioms(before)))
            negative_after = bool(re.search(r"^\W*(\w+\W+){0,3}(was|is|were)\s+((so|really|very|"
                                            r"way|pretty|kinda|kind of|totally|a)\s+)*(bad|"
                                            r"terrible|awful|boring|overrated|not good|too long|"
                                            r"too slow|meh|letdown|disappointing|disappointment|"
                                            r"dumb|stupid)", after, re.I))
            positive = bool(lx.POSITIVE_CUES.search(before + after))
            if span.kind == "title":
                if lx.UNSEEN_CUES.search(before) or re.match(
                        r"^\W*(i\s+)?(haven'?t|have not|never)\s+(seen|watched)", after, re.I):
                    span.label, span.sure = "unseen", True
                    if rules.INTEREST_AFTER_UNSEEN.search(sentence) or \
                            rules.interest_next(text, span.end):
                        span.label = "liked"  # "haven't seen X yet, but it looks good"
                elif negative or negative_after:
                    span.label, span.sure = "disliked", not positive
                elif lx.QUESTION_CUES.search(before):
                    span.label, span.sure = "liked", False
                elif lx.SEEN_CUES.search(before) and not positive:
                    span.label, span.sure = "seen", True
                else:
                    span.label, span.sure = "liked", positive or bool(YEAR_PAREN.search(
                        span.text)) or len(text.split()) <= 8
            else:
                negative = negative or bool(_REJECTED_AFTER.match(after))  # "horror isnt my thing"
                span.label = "disliked" if negative else "liked"
                span.sure = not (negative and positive)

    def _answer(self, text: str, question: str, reading: Reading, context: list[str],
                slot: str | None) -> None:
        """'yes'/'no' to "Do you like horror?" labels the question's own mentions; 'yes' to
        "Have you seen X?" is seen."""
        yes = bool(re.match(r"^\W*(yes|yeah|yep|yup|sure|i do|definitely|absolutely|of course)\b",
                            text, re.IGNORECASE))
        no = bool(re.match(r"^\W*(no|nope|nah|not really|i don'?t)\b", text, re.IGNORECASE))
        if not (yes or no):
            return
        if re.search(r"\b(have|did) you (ever )?(seen|see|watched|watch)\b|\bseen\b", question,
                     re.IGNORECASE):
            if yes and reading.reaction is None and context:
                reading.reaction = "seen"
            return
        asked = self.read(question, slot=slot)
        offered = any(s.kind == "title" and s.value for s in asked.spans)
        for span in asked.spans:
            if span.kind == "person" and offered:
                continue  # "Yes!" to "or Salt (2010) with Angelina Jolie?" is about the film
            if span.kind in ("genre", "person", "era", "tag"):
                span.label = "liked" if yes else "disliked"
                span.start = span.end = 0
                reading.spans.append(span)

    def _intent(self, text: str, reading: Reading, context: list[str]) -> None:
        has_content = any(s.kind != "card" and s.value not in context for s in reading.spans)
        if lx.DUNNO.match(text):
            reading.dunno = True
        about_context = bool(context) and (
            reading.reaction is not None or bool(reading.of_kind("card"))
            or bool(lx.UNSEEN_CUES.search(text))
            or any(s.value in context for s in reading.spans)
            or bool(re.search(r"\b(that|this|it|those|them|these)\b( one| movie| film)?",
                              text, re.IGNORECASE) and len(text.split()) <= 12))
        if lx.ASK_WORDS.search(text):
            reading.intent = "ask_recommendations"
        elif about_context and not has_content:
            reading.intent = "react"
        elif has_content:
            reading.intent = "give_preferences"
        elif lx.GREETINGS.match(text) or lx.CHITCHAT.match(text) or reading.dunno:
            reading.intent = "chitchat"
        else:
            reading.intent = "other"
        if re.search(r"\bmore like\b", text, re.IGNORECASE) and reading.spans:
            reading.intent = "ask_recommendations"

    def _loose_capitals(self, text: str, tokens: list[_Token], reading: Reading) -> None:
        """Capitalised runs outside every span; after a taste cue ("loved X") they are unknown
        titles, otherwise only candidates the LLM may confirm."""
        runs: list[list[_Token]] = [[]]
        for i, tok in enumerate(tokens):
            low = tok.text.lower()
            free = self._free(reading, tok.start, tok.end)
            sentence_start = i == 0 or text[:tok.start].rstrip()[-1:] in ".!?"
            if sentence_start and runs[-1]:
                runs.append([])  # "never seen Five Dances. I'll look": a run ends with its sentence
            if free and tok.capital and low != "i" and not tok.text.isdigit() and not (
                    sentence_start and (low in lx.COMMON_WORDS or lx.ASK_WORDS.match(low))) \
                    and not lx.GREETINGS.match(low):
                runs[-1].append(tok)
            elif free and runs[-1] and low in _SMALL_WORDS - {"and", "or", "&", "i", "my", "me"}:
                runs[-1].append(tok)
            else:
                runs.append([])
        for run in runs:
            while run and run[-1].text.lower() in _SMALL_WORDS:
                run.pop()
            if not run or all(t.text.lower() in lx.COMMON_WORDS for t in run):
                continue
            name = text[run[0].start:run[-1].end]
            clause_start, _ = _clause(text, run[0].start, run[-1].end)
            before = text[clause_start:run[0].start]
            cued = re.search(r"\b(lik\w*|lov\w*|seen|saw|watched|enjoy\w*|hate\w*|"
                             r"favou?rite\w* is|and)\s*$", before, re.IGNORECASE)
            if cued and (reading.unknown or cued.group(1).lower() != "and"):
                if name not in reading.unknown:
                    reading.unknown.append(name)
            else:
                reading.loose.append(name)

    def _keywords(self, tokens: list[_Token], reading: Reading) -> list[str]:
        """Runs of content words outside every span: free text for retrieval."""
        if reading.intent in ("chitchat", "react") or reading.dunno:
            return []
        runs: list[list[str]] = [[]]
        for tok in tokens:
            word = tok.text.lower().strip("'’")
            inside = any(s.overlaps(tok.start, tok.end) for s in reading.spans) or any(
                tok.text in name.split() for name in reading.unknown)
            if inside or word in lx.COMMON_WORDS or len(word) < 3 or not word.isalpha() \
                    or lx.NEGATIVE_CUES.fullmatch(word) or lx.POSITIVE_CUES.fullmatch(word) \
                    or lx.ASK_WORDS.fullmatch(word):
                runs.append([])
            else:
                runs[-1].append(word)
        phrases = [" ".join(r) for r in runs if r]
        phrases += [s.text.lower() for s in reading.spans if s.kind == "genre"
                    and s.label != "disliked" and normalize_title(s.text) in lx.TOPIC_WORDS]
        return list(dict.fromkeys(phrases))[:4]


def tokenize(text: str) -> list[_Token]:
    """The message's words with their offsets (trailing punctuation dropped)."""
    tokens = [_Token(m.group(0).rstrip(".,:!?'’"), m.start(), m.start()
                     + len(m.group(0).rstrip(".,:!?'’"))) for m in _TOKEN.finditer(text)]
    return [t for t in tokens if t.text]


def tok_key(word: str) -> str:
    """A single word as a lexicon key."""
    return normalize_title(word)


def _strip_idioms(text: str) -> str:
    """Remove negations that are no preference ("I don't know", "not sure", "no idea")."""
    return re.sub(r"\b(i )?(don'?t|do not) (know|mind|care)\b|\bnot sure\b|\bno idea\b|"
                  r"\bno problem\b|\bnot (too )?(long|much)\b", " ", text, flags=re.IGNORECASE)


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the clause around [start, end)."""
    left = 0
    for m in _CLAUSE_BREAK.finditer(text, 0, start):
        left = m.end()
    right_m = _CLAUSE_BREAK.search(text, end)
    return left, right_m.start() if right_m else len(text)


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around [start, end), with its final punctuation."""
    left = max(text.rfind(c, 0, start) for c in ".!?") + 1
    rights = [i for i in (text.find(c, end) for c in ".!?") if i >= 0]
    right = min(rights) + 1 if rights else len(text)
    return text[left:right]


def _listed_with_genre(text: str, start: int, end: int) -> bool:
    """The word is listed beside a genre ("romantics and comedies"): a kind of film too."""
    return bool(_LISTED_WITH_GENRE.search(f"{text[max(0, start - 30):start]}#{text[end:end + 30]}"))


def _inside_longer_run(text: str, window: list[_Token]) -> bool:
    """The word sits in a run of three or more capitalised words mid-sentence ("Princess
    Protection Program"): the run is the name, not the word."""
    left = re.search(r"((?:[A-Z][\w'’]*\s+){1,4})$", text[:window[0].start])
    right = re.match(r"^((?:\s+[A-Z][\w'’]*){1,4})", text[window[-1].end:])
    words = (left.group(1).split() if left else []) + (right.group(1).split() if right else [])
    return len([w for w in words if w.lower() not in _SMALL_WORDS and w != "I"]) >= 2


def _inside_capitals(text: str, prev: _Token, tok: _Token) -> bool:
    """`tok` continues a capitalised name that `prev` starts within one sentence."""
    return prev.text.lower() not in lx.COMMON_WORDS | _SMALL_WORDS and not re.search(
        r"[.!?,;:]\s*$", text[:tok.start])


def _reaction(text: str) -> Label | None:
    """A whole-message reaction: disliked > liked > seen; 'haven't seen' is none."""
    rest = re.sub(r"^\W*(no|nope|nah)\b\W*", "", text, flags=re.IGNORECASE)
    if rest != text and lx.REACT_LIKED.search(rest) and not lx.REACT_DISLIKED.search(rest):
        return "liked"  # "Nope, I will try that one." to "Have you seen X?"
    if lx.REACT_DISLIKED.search(text):
        return "disliked"
    if lx.REACT_LIKED.search(text):
        return "liked"
    if lx.REACT_UNSEEN.search(text):  # "not yet but it looks good" is interest
        interest = rules.INTEREST_AFTER_UNSEEN.search(text) or rules.INTEREST_ANYWHERE.search(text)
        return "liked" if interest else None
    if lx.REACT_SEEN.search(text):
        return "seen"
    return None
