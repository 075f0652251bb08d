"""Number claims of a justification: shares, counts, rating thresholds (a mixin of agent.claims)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from agent.claim_words import NUMBER_WORDS
from agent.facts import CFStat, CoMention, Facts, norm

log = logging.getLogger(__name__)

_PEOPLE = r"(?:people|viewers|users|fans|those|others|audiences?|everyone|anyone|raters|folks)"
_CF_BASE = re.compile(rf"\b(?:{_PEOPLE}\b[\w ,]*?\b(?:who|that)\b[\w ]*?\b(?:rated|liked|loved|"
                      rf"enjoyed|watched|gave|rating)|fans of|lovers of|who (?:also )?(?:rated|liked|"
                      rf"loved|enjoyed|watched))\b")
_CF_ALSO = re.compile(r"(?<!who )(?<!that )\balso (?:rated|liked|loved|enjoyed|gave|"
                      r"watched)\b")
_CF_WORDS = re.compile(rf"\b{_PEOPLE}\b|\bfans?\b|\brated\b|\balso (?:liked|loved|enjoyed)\b")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b)")
_RATING = re.compile(r"\b(\d(?:\.\d)?)\s*(?:\+|\s*stars?\b|\s*(?:or|and) (?:more|higher|above|"
                     r"up)\b|\s*out of (?:5|five)\b|/5\b)")
_YEAR = re.compile(r"\b(1[89]\d\d|20[0-3]\d)\b(?!s)")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_SEQUENCE = re.compile(r"\b(?:soon after|after rating|recommended after|right after|"
                       r"conversations?)\b")
_RATED_PCT = re.compile(r"\b(?:rating|rated|score[ds]?|approval|grade)\b[\w ]{0,12}?\d+\s*(?:%|"
                        r"percent)|\d+\s*(?:%|percent)\s+(?:rating|approval|score)")


@dataclass
class Mention:
    """A title, person, named entity or quoted description found in a text."""

    start: int
    end: int
    kind: str  # "title" | "person" | "entity" | "quote"
    key: str  # norm(name)


class NumberChecks:
    """The number checks of `agent.claims._Checker` (which provides the text and helpers)."""

    low: str
    text: str
    facts: Facts
    mentions: list[Mention]
    source_words: set[str]

    def bad(self, kind: str, detail: str) -> None:
        raise NotImplementedError

    def good(self, detail: str) -> None:
        raise NotImplementedError

    def in_mention(self, pos: int) -> bool:
        raise NotImplementedError

    def masked(self, start: int, end: int, kinds: tuple[str, ...] = ("title", "quote")) -> str:
        raise NotImplementedError

    def titles_in(self, start: int, end: int) -> list[Mention]:
        raise NotImplementedError

    def other_titles(self, start: int, end: int) -> set[str]:
        raise NotImplementedError

    def next_title(self, pos: int, end: int, max_words: int = 3) -> Mention | None:
        """The title right after `pos` (within a few words), if any."""
        nxt = self.titles_in(pos, end)
        if nxt and len(self.low[pos:nxt[0].start].split()) <= max_words:
            return nxt[0]
        return None

    def cf_for(self, start: int, end: int) -> list[CFStat]:
        """The CF statistics a clause can be about: those whose seed it (or the text) names."""
        seeds = self.other_titles(start, end) or self.other_titles(0, len(self.text))
        return [s for s in self.facts.cf if norm(s.seed) in seeds]

    def comentions_for(self, start: int, end: int) -> list[CoMention]:
        seeds = self.other_titles(start, end) or self.other_titles(0, len(self.text))
        named = {m.key for m in self.mentions if m.kind == "entity"}
        return [c for c in self.facts.comentions if norm(c.seed) in seeds | named]

    def count_values(self, start: int, end: int, field_: str) -> set[int]:
        """The counts a number in this clause may be, by what the clause is about."""
        clause = self.low[start:end]
        about_sequence = bool(_SEQUENCE.search(clause))
        about_cf = bool(_PERCENT.search(clause) or _CF_ALSO.search(clause)
                        or _RATING.search(clause) or _CF_BASE.search(clause))
        values: set[int] = set()
        if about_cf or not about_sequence:
            for s in self.cf_for(start, end) or self.facts.cf:
                values |= {s.base} if field_ == "base" else {s.both} if field_ == "both" \
                    else {s.base, s.both}
        if about_sequence or not about_cf:
            values |= {c.n for c in self.comentions_for(start, end) or self.facts.comentions}
        if self.facts.n_ratings is not None:
            values.add(self.facts.n_ratings)
        for text in self.facts.other:  # plugin evidence: its numbers, unbound
            values |= {int(n) for n in re.findall(r"\b\d+\b", text)}
        return values

    def check_numbers(self, start: int, end: int) -> None:
        clause = self.low[start:end]
        used: list[tuple[int, int]] = []
        if _PERCENT.search(clause) or _CF_BASE.search(clause) or _CF_ALSO.search(clause):
            self.check_cf_direction(start, end)
        if _RATED_PCT.search(clause):
            self.bad("number", "a share of people is given as a rating")
        stats = self.cf_for(start, end)
        for m in _PERCENT.finditer(self.low, start, end):
            if self.in_mention(m.start()):
                continue
            used.append(m.span())
            pct = float(m.group(1))
            if not self.facts.cf:
                self.bad("number", f"{m.group().strip()} has no statistic behind it")
            elif not stats:
                self.bad("number", f"{m.group().strip()} is not said of whose fans")
            elif any(abs(pct - s.share * 100) < 1.0 or pct == s.percent for s in stats):
                self.good(f"share {m.group().strip()}")
            else:
                self.bad("number", f"{m.group().strip()} is not the share in the evidence")
        for m in _RATING.finditer(self.low, start, end):
            if self.in_mention(m.start()):
                continue
            used.append(m.span())
            value = float(m.group(1))
            thresholds = {s.min_rating for s in self.facts.cf} | {
                c.min_rating for c in self.facts.comentions if c.min_rating is not None}
            before = re.sub("§+", "§", self.masked(start, m.start()))
            attached = re.search(r"\b(?:rat(?:ed|ing|e|es)|gave(?: it)?|scored?|stars?)\b"
                                 r"(?:\W+\w+){0,3}\W*$", before) or \
                re.match(r"\s*stars?\b|\s*(?:rating|or (?:more|higher|above))\b",
                         self.low[m.end():])
            if not attached:
                self.bad("number", f"'{m.group().strip()}' is not attached to a rating")
            elif value in thresholds:
                self.good(f"rating threshold {m.group(1)}")
            else:
                self.bad("number", f"rating {m.group(1)} is not the evidence's threshold")
        self.check_quantity_words(self.masked(start, end), stats)
        for m in _NUMBER.finditer(self.low, start, end):
            if any(s <= m.start() < e for s, e in used) or _YEAR.fullmatch(m.group()) or \
                    self.in_mention(m.start()):
                continue
            if re.match(r"\d0s|'\d0s", self.low[m.start():m.end() + 1]):
                continue  # a decade
            value = int(m.group().replace(",", "").split(".")[0])
            field_ = self.count_field(m.start(), m.end(), end)
            if value in self.count_values(start, end, field_):
                self.good(f"count {value} ({field_})")
            else:
                what = {"base": "people who rated the liked film", "both": "people who rated "
                        "both"}.get(field_, "counts")
                self.bad("number", f"{value} is not among the evidence's {what}")

    def count_field(self, start: int, end: int, clause_end: int) -> str:
        """Which CF count a number's wording makes it: 'base', 'both' or 'any'."""
        before = self.low[max(0, start - 14):start]
        after = self.low[end:clause_end]
        if re.search(r"\b(?:of|among|out of|from)\s+(?:the\s+|all\s+|those\s+)?$", before):
            return "base"
        if re.match(r"\s*(?:of|out of)\s+(?:the|those|these|them|\d)", after) or \
                re.search(r"%\s*\($", before) or re.match(r"\s*\)", after):
            return "both"
        if re.match(rf"\s*(?:{_PEOPLE}|of them)\b", after):
            rest = re.split(r"\d+\s*(?:%|percent)", after)[0]
            return "both" if re.search(r"\balso\b", rest) else "base"
        return "any"

    def check_quantity_words(self, clause: str, stats: list[CFStat]) -> None:
        """'More than half', 'a third', 'most' ...: the share must be that large."""
        ranges = {"half": (45, 55), "a third": (30, 37), "one third": (30, 37),
                  "a quarter": (22, 28), "two thirds": (63, 70), "three quarters": (72, 78)}
        for m in re.finditer(r"\b(more than|over|nearly|almost|about|around|roughly|under|"
                             r"less than)?\s*(half|a third|one third|a quarter|two thirds|"
                             r"three quarters)\b", clause):
            low, high = ranges[m.group(2)]
            mod = m.group(1) or ""
            if mod in ("more than", "over"):
                low, high = high - 4, 100
            elif mod in ("nearly", "almost", "under", "less than"):
                low, high = 0 if "than" in mod or mod == "under" else low - 8, low + 1
            if stats and any(low <= s.percent <= high for s in stats):
                self.good(f"quantity '{m.group().strip()}'")
            else:
                self.bad("number", f"'{m.group().strip()}' does not match the share")
        for m in re.finditer(r"\b(?:most|majority)\b", clause):
            if not (stats and any(s.percent > 50 for s in stats)):
                self.bad("number", f"'{m.group()}' needs a share above half")
        for word in re.findall(r"[a-z]+", clause):
            if word in NUMBER_WORDS and word not in self.source_words:
                self.bad("number", f"'{word}' is a number the evidence does not give")

    def check_cf_direction(self, start: int, end: int) -> None:
        """Who rated what: the liked film after 'people who rated', the item after 'also'."""
        if not self.facts.cf:
            self.bad("relation", "no ratings statistic backs what people rated")
            return
        for m in _CF_BASE.finditer(self.low, start, end):
            nxt = self.next_title(m.end(), end)
            pronoun = re.match(r"\s*(?:it|this(?: one| film| movie)?|them)\b", self.low[m.end():])
            if (nxt and self.facts.is_item(nxt.key)) or (pronoun and not nxt) or (
                    pronoun and nxt and nxt.start > m.end() + pronoun.end()):
                self.bad("relation", "the ratings statistic is read backwards")
        for m in _CF_ALSO.finditer(self.low, start, end):
            nxt = self.next_title(m.end(), end)
            if nxt and not self.facts.is_item(nxt.key):
                self.bad("relation", f"the statistic is about {self.facts.item.title}, "
                         f"not {nxt.key}")

    # ---- people and relations ---------------------------------------------------------
