"""Claim-level check of a justification against its evidence's data (not just its words).

A sentence is split into clauses and read for the claims it makes: titles and their years,
numbers bound to the field they are attached to (a share, a count of people, a rating
threshold), people in roles on films, relations (same director, sequel, genre ...),
quantity comparisons, negations and evaluations. Each claim must be backed by `Facts`
read from `Evidence.data`; every unbacked one is a violation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from agent.claim_numbers import _CF_WORDS, _PEOPLE, _SEQUENCE, _YEAR, Mention, NumberChecks
from agent.claim_words import (
    COMPARATIVES,
    EVALUATIVE,
    FLUFF,
    GENRE_WORDS,
    NUMBER_WORDS,
    PERSON_ROLES,
    RELATION_GROUP,
    RELATION_WORDS,
    STARTERS,
    STOPWORDS,
)
from agent.facts import Facts, Link, facts_of, norm
from catalog.models import Item
from tools.base import Evidence

log = logging.getLogger(__name__)

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*%?")
_CLAUSE = re.compile(r";|\. |, (?:and|but|while|plus|so|whereas) | and also | while ")
_YOU_LIKED = re.compile(r"\byou(?:'ve| have)? (?:liked|loved|enjoyed|mentioned|watched|"
                        r"like|love|enjoy)\b|\byour (?:love|liking|taste) (?:of|for)\b|"
                        r"\bfan of\b")
_WHICH_YOU_LIKED = re.compile(r"\b(?:which|that|as|like) you(?:'ve| have| also)? (?:liked|loved|"
                              r"enjoyed|mentioned|watched|rated)\b|\bone of your favou?rites\b")
_DECADE = re.compile(r"\b(?:(1[89]\d0|20[0-3]0)|'?(\d0))s\b")
# Between a title and its year: nothing, "(", ", from", or the title's alternate name in
# parentheses first ("Raiders of the Lost Ark (Indiana Jones and the Raiders of the Lost Ark) (1981)").
_YEAR_AFTER_TITLE = re.compile(r"[\s)]*(?:\([^()]*\)[\s)]*)*[(,]?\s*(?:from |in |released in )?")
_GENERAL_LIKING = re.compile(rf"\b(?:many|most|lots of|a lot of|plenty of|countless)?\s*"
                             rf"{_PEOPLE}\s+(?:have\s+|also\s+)?(?:liked|loved|enjoyed|rated|"
                             rf"love|like|enjoy|praised)\b")
_NEGATION = re.compile(r"\b(?:not|never|no|nor|neither|without|unlike|none|nothing)\b|n't\b")


@dataclass
class ClaimCheck:
    """The verdict on one text: ok when no claim lacks backing."""

    ok: bool
    violations: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    """What was checked and found backed (for audits)."""

    @property
    def kinds(self) -> set[str]:
        """The kinds of violation ('number', 'year', 'name', 'relation', ...)."""
        return {v.split(":", 1)[0] for v in self.violations}



def _find(pattern: str, text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(pattern, text, flags=re.I)]


def _name_pattern(name: str) -> str:
    words = [re.escape(w) for w in re.findall(r"[A-Za-z0-9]+", name)]
    return r"\b" + r"[^A-Za-z0-9]{1,3}".join(words) + r"\b" if words else r"(?!)"


def _mentions(text: str, facts: Facts) -> list[Mention]:
    """Titles, people and named entities found in the text, longest names first."""
    names: list[tuple[str, str, str]] = []
    for key, t in facts.titles.items():
        names.append((t.title, "title", key))
        for alias in (re.sub(r"^(?:the|a|an) ", "", t.title, flags=re.I),
                      re.sub(r"\s*\([^)]*\)", "", t.title).strip()):
            if alias and alias != t.title:  # 'Twelve Monkeys' for 'Twelve Monkeys (a.k.a. ...)'
                names.append((alias, "title", key))
    names += [(n, "person", k) for k, n in facts.person_names.items()]
    names += [(k, "entity", k) for k in facts.entities]
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for name, kind, key in sorted(names, key=lambda n: -len(n[0])):
        for start, end in _find(_name_pattern(name), text):
            if any(start < e and end > s for s, e in taken):
                continue
            if name.endswith(".") and text[end:end + 1] == ".":
                end += 1  # 'Monsters, Inc.' keeps its full stop
            taken.append((start, end))
            found.append(Mention(start, end, kind, key))
    snippets = " ".join(norm(x) for x in [*facts.snippets, *facts.entities, *facts.other])
    for m in re.finditer(r'"([^"]{3,})"', text):
        if norm(m.group(1)) and norm(m.group(1)) in snippets:
            found = [f for f in found if not m.start() <= f.start < m.end()]
            found.append(Mention(m.start(), m.end(), "quote", norm(m.group(1))))
    return sorted(found, key=lambda m: m.start)


def _clauses(text: str, mentions: list[Mention]) -> list[tuple[int, int]]:
    """Clause spans; a title such as 'E.T. the Extra-Terrestrial' is never cut."""
    spans, last = [], 0
    for m in _CLAUSE.finditer(text):
        if any(n.start <= m.start() < n.end for n in mentions):
            continue
        spans.append((last, m.start()))
        last = m.end()
    spans.append((last, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


class _Checker(NumberChecks):
    """One check of one text against one item's facts."""

    def __init__(self, text: str, facts: Facts) -> None:
        self.text = " ".join(text.replace("’", "'").replace("“", '"').replace("”", '"').split())
        self.low = self.text.lower()
        self.facts = facts
        self.mentions = _mentions(self.text, facts)
        self.violations: list[str] = []
        self.claims: list[str] = []
        self.snippet_text = " ".join(facts.snippets + facts.other).lower()
        self.source_words = set(re.findall(r"[a-z0-9]+", self.snippet_text))

    def bad(self, kind: str, detail: str) -> None:
        if f"{kind}: {detail}" not in self.violations:
            self.violations.append(f"{kind}: {detail}")

    def good(self, detail: str) -> None:
        self.claims.append(detail)

    def in_mention(self, pos: int) -> bool:
        return any(m.start <= pos < m.end for m in self.mentions)

    def masked(self, start: int, end: int, kinds: tuple[str, ...] = ("title", "quote")) -> str:
        """The lower-cased span with mentions of these kinds replaced by '§' characters."""
        chars = list(self.low[start:end])
        for m in self.mentions:
            if m.kind in kinds and start <= m.start < end:
                for i in range(m.start, min(m.end, end)):
                    chars[i - start] = "§"
        return "".join(chars)

    def titles_in(self, start: int, end: int) -> list[Mention]:
        return [m for m in self.mentions if m.kind == "title" and start <= m.start < end]

    def other_titles(self, start: int, end: int) -> set[str]:
        """Titles in a span other than the recommended item."""
        return {m.key for m in self.titles_in(start, end) if not self.facts.is_item(m.key)}

    def run(self) -> ClaimCheck:
        if not self.text:
            self.bad("empty", "no text")
        self.check_names()
        self.check_years()
        for start, end in _clauses(self.low, self.mentions):
            self.check_clause(start, end)
        self.check_words()
        if self.text and not re.search(r"[.!?][\"')]*$", self.text):
            self.bad("cut", "the sentence is unfinished")
        words = re.findall(r"[a-z]+", self.masked(0, len(self.low), ()))
        repeats = max((words.count(w) for w in set(words) if w not in STOPWORDS), default=0)
        titles = [m.key for m in self.mentions if m.kind == "title"]
        if repeats >= 5 or max((titles.count(t) for t in titles), default=0) >= 4:
            self.bad("degenerate", "the text repeats itself")
        said = self.claims or any(m.kind in ("person", "entity", "quote") for m in self.mentions)
        if self.text and not said:
            self.bad("empty", "it states none of the evidence's facts")
        return ClaimCheck(not self.violations, self.violations, self.claims)

    # ---- names and years --------------------------------------------------------------
    def check_names(self) -> None:
        """Every capitalised word must belong to a name the evidence holds."""
        covered = [(m.start, m.end) for m in self.mentions]
        for m in _WORD.finditer(self.text):
            word = m.group().rstrip("%")
            if not word[0].isupper() or any(s <= m.start() < e for s, e in covered):
                continue
            bare = word.removesuffix("'s").removesuffix("'")
            sentence_start = m.start() == 0 or self.text[:m.start()].rstrip()[-1:] in ".!?:\""
            low = bare.lower()
            if low in STARTERS or sentence_start:
                continue  # a sentence's first word: judged as a word by `check_words`
            if low in self.facts.entities or low in GENRE_WORDS or low in self.source_words:
                continue  # a genre or tag written with a capital, a name from a description
            self.bad("name", f"{bare} is not named by the evidence")

    def check_years(self) -> None:
        """A year must be that of the title it is attached to (or of the item)."""
        for m in _YEAR.finditer(self.text):
            if self.in_mention(m.start()):
                continue  # '2001: A Space Odyssey'
            year = int(m.group(1))
            before = [t for t in self.titles_in(0, m.start()) if t.end <= m.start()]
            after = [t for t in self.titles_in(m.end(), len(self.text))]
            gap_before = self.text[before[-1].end:m.start()] if before else ""
            if before and _YEAR_AFTER_TITLE.fullmatch(gap_before):
                title = self.facts.titles[before[-1].key]
            elif after and re.fullmatch(r"\s*(?:'s)?\s*(?:\w+\s*){0,2}",
                                        self.text[m.end():after[0].start]):
                title = self.facts.titles[after[0].key]
            else:
                title = self.facts.item
            if title.year != year:
                shown = title.year or "unknown"
                self.bad("year", f"{year} given for {title.title} (evidence: {shown})")
            else:
                self.good(f"year {year} of {title.title}")
        for m in _DECADE.finditer(self.low):
            if self.in_mention(m.start()):
                continue
            decade = m.group(1) or ("19" + m.group(2) if m.group(2) else "")
            label = f"{decade}s"
            years = [t.year for t in self.facts.titles.values() if t.year]
            if label.lower() in self.facts.entities or any(
                    y // 10 * 10 == int(decade) for y in years if decade):
                self.good(f"decade {label}")
            else:
                self.bad("year", f"the {label} are not in the evidence")

    # ---- clauses ----------------------------------------------------------------------
    def check_clause(self, start: int, end: int) -> None:
        clause = self.masked(start, end)
        titles = self.other_titles(start, end)
        self.check_negation_and_comparison(clause)
        self.check_liked(start, end)
        self.check_numbers(start, end)
        self.check_people(start, end, titles)
        self.check_relations(clause, titles, start, end)
        self.check_genres(start, end, titles)
        self.check_evaluations(clause, start, end)

    def check_negation_and_comparison(self, clause: str) -> None:
        for m in _NEGATION.finditer(clause):
            said = re.match(r"\S*\s*\w+", clause[m.start():])
            if said and said.group() in self.snippet_text:
                self.good(f"'{said.group()}' from the description")
                continue
            self.bad("negation", f"'{m.group().strip()}' states what the evidence cannot hold")
        scrubbed = re.sub(r"\b(?:more|over) than (?:half|a third|a quarter|\d+\s*(?:%|percent))|"
                          r"\bmost (?:of|fans|people|viewers)\b", "", clause)
        for word in re.findall(r"[a-z]+", scrubbed):
            if word in COMPARATIVES:
                self.bad("comparison", f"'{word}' compares without evidence")

    def check_liked(self, start: int, end: int) -> None:
        """'Since you liked T': T must be a film the user liked (a seed of the evidence)."""
        for m in _YOU_LIKED.finditer(self.low, start, end):
            nxt = self.next_title(m.end(), end, max_words=2)
            if nxt is not None and re.fullmatch(r"\s*(?:the (?:film|movie)\s*)?",
                                                self.low[m.end():nxt.start]):
                key = nxt.key
                if key in self.facts.seeds:
                    self.good(f"you liked {key}")
                else:
                    self.bad("relation", f"the evidence does not say you liked {key}")
        for m in re.finditer(r"['\"]([a-z0-9' -]+)['\"] in (?:its|the) (?:title|name)", self.low):
            if start <= m.start() < end:
                if norm(m.group(1)) and norm(m.group(1)) in norm(self.facts.item.title):
                    self.good(f"'{m.group(1)}' in the title")
                else:
                    self.bad("relation", f"'{m.group(1)}' is not in the title")
        for m in re.finditer(r"\b(?:both|all) of which you(?:'ve| have)? (?:liked|loved|enjoyed)\b",
                             self.low):
            if start <= m.start() < end:
                named = [t.key for t in self.titles_in(start, m.start())
                         if not self.facts.is_item(t.key)]
                if named and all(k in self.facts.seeds for k in named):
                    self.good("you liked " + ", ".join(named))
                else:
                    self.bad("relation", "the evidence does not say you liked all of those")
        for m in _WHICH_YOU_LIKED.finditer(self.low, start, end):
            before = [t for t in self.titles_in(start, m.start()) if t.end <= m.start()]
            if before and re.fullmatch(r"[\s,(]*(?:\(\d{4}\))?[\s,]*",
                                       self.low[before[-1].end:m.start()]):
                key = before[-1].key
                if key in self.facts.seeds:
                    self.good(f"you liked {key}")
                else:
                    self.bad("relation", f"the evidence does not say you liked {key}")

    def stated_roles(self, start: int, end: int) -> set[str]:
        """Roles that role words right next to a person's mention give them."""
        lo, hi = max(0, start - 28), min(len(self.low), end + 22)
        for m in self.mentions:
            if m.kind == "person" and m.end <= start:
                lo = max(lo, m.end)
            if m.kind == "person" and m.start >= end:
                hi = min(hi, m.start)
        before = re.split(r"[;.]", self.low[lo:start])[-1]
        after = re.split(r"[;.,]| and ", self.low[end:hi])[0]
        window = before + " § " + after
        return {role for role in PERSON_ROLES if re.search(RELATION_WORDS[role], window)}

    def check_people(self, start: int, end: int, titles: set[str]) -> None:
        for m in self.mentions:
            if m.kind != "person" or not start <= m.start < end:
                continue
            held = self.facts.people.get(m.key, {})
            name = self.facts.person_names.get(m.key, m.key)
            for role in self.stated_roles(m.start, m.end):
                if role in held:
                    self.good(f"{name} is a {role}")
                else:
                    self.bad("person", f"{name} is not a {role} in the evidence "
                             f"({', '.join(sorted(held)) or 'no role'})")
            films = set().union(*held.values()) if held else set()
            for key in titles - films:
                self.bad("person", f"the evidence does not link {name} to {key}")

    def links_with(self, role: str) -> list[Link]:
        return [link for link in self.facts.links
                if role in (RELATION_GROUP.get(r, r) for r in link.relations)]

    def check_relations(self, clause: str, titles: set[str], start: int, end: int) -> None:
        cleaned = self.masked(start, end)  # 'Star Wars' must not read as 'star'
        cleaned = re.sub(r"\d(?:\.\d)?\+?\s*stars?", "", cleaned)
        for role, pattern in RELATION_WORDS.items():
            if not re.search(pattern, cleaned):
                continue
            if role == "cf":
                if not (self.facts.cf or self.facts.comentions or self.facts.n_ratings):
                    self.bad("relation", "no ratings statistic backs what people liked")
                elif self.cf_for(start, end) or self.comentions_for(start, end) or (
                        self.facts.n_ratings and not titles):
                    self.good("ratings statistic")
                elif titles:
                    self.bad("relation", "the ratings statistic is about another film")
                continue
            if role == "sequence":
                about = r"\b(?:rat(?:ed|ing)|liked|loved|enjoyed|recommended|conversations?)\b"
                if re.search(r"\b(?:released|came out|made|premiered)\b", cleaned):
                    self.check_release_order(start, end, cleaned)
                elif self.comentions_for(start, end) and re.search(about, cleaned):
                    backwards = [m for m in re.finditer(r"\bafter (?:rating|watching|seeing|"
                                                        r"liking|loving)\b", self.low[:end])
                                 if m.start() >= start and (nxt := self.next_title(m.end(), end))
                                 and self.facts.is_item(nxt.key)]
                    if backwards:
                        self.bad("relation", "the co-mention is read backwards")
                    else:
                        self.good("co-mention")
                else:
                    self.bad("relation", "no co-mention statistic backs what came after what")
                continue
            if role == "plot":
                tags = [m for m in self.mentions if m.kind == "entity" and start <= m.start < end
                        and self.facts.entities.get(m.key) == "tag"]
                if self.facts.snippets:
                    self.good("description")
                elif tags:
                    self.good("about a tag")
                else:
                    self.bad("relation", "no description backs a plot claim")
                continue
            if role == "decade":
                links = self.links_with("decade")
                if links:
                    self.good("decade link")
                else:
                    self.bad("relation", "no decade link in the evidence")
                continue
            if role in ("franchise", "sequel", "prequel"):
                links = [lk for lk in self.facts.links if lk.relation in ("sequel", "prequel")]
            else:
                links = self.links_with(role)
            if not links:
                self.bad("relation", f"no {role} link in the evidence")
                continue
            seeds = {norm(lk.seed) for lk in links} | {norm(lk.item) for lk in links}
            if titles and not titles & seeds:
                self.bad("relation", f"the {role} link is not with {', '.join(sorted(titles))}")
            elif role in ("sequel", "prequel"):
                self.check_direction(role, self.low[start:end], links)
            else:
                self.good(f"{role} link")

    def check_release_order(self, start: int, end: int, clause: str) -> None:
        """'Released soon after T': the years must say so (a co-mention is about ratings)."""
        others = [self.facts.titles[k] for k in self.other_titles(start, end)]
        item_year = self.facts.item.year
        after = bool(re.search(r"\bafter\b", clause))
        if re.search(r"\b(?:soon|shortly|right|just)\s+(?:after|before)\b", clause):
            self.bad("relation", "'soon after' is about when people rated it, not when it came out")
            return
        if item_year and others and all(t.year for t in others) and all(
                (item_year >= t.year) if after else (item_year <= t.year) for t in others):
            self.good("release order from the years")
        else:
            self.bad("relation", "the evidence does not say when it was released relative "
                     "to the film named")

    def check_direction(self, role: str, clause: str, links: list[Link]) -> None:
        """'It is the sequel to T' must agree with the link's direction."""
        subject = rf"(?:it|this(?: one| film| movie)?|{re.escape(norm(self.facts.item.title))})"
        says_item = re.search(rf"\b{subject}(?: \d{{4}})?(?: is| was| s)? (?:a |the |its )?"
                              rf"{role}\b", norm(clause))
        ok = False
        for link in links:
            item_is = link.relation if link.forward else (
                "prequel" if link.relation == "sequel" else "sequel")
            ok = ok or (item_is == role) == bool(says_item)
        if ok:
            self.good(f"{role} direction")
        else:
            self.bad("relation", f"the {role} relation is stated the wrong way round")

    def check_genres(self, start: int, end: int, titles: set[str]) -> None:
        """A genre named must be the item's (or a path's); 'shares/both' needs a genre path."""
        own = {norm(g) for g in self.facts.genres}
        path_genres = {k for k, kind in self.facts.entities.items() if kind in ("genre", "tag")}
        snippets = " ".join(self.facts.snippets).lower()
        masked = re.sub("§+", "§", self.masked(start, end))
        for word, genre in GENRE_WORDS.items():
            if not re.search(rf"\b{re.escape(word)}\b", masked):
                continue
            genre, key = norm(genre), norm(word)
            in_paths = genre in path_genres or key in path_genres
            if genre not in own and not in_paths and \
                    not re.search(rf"\b{re.escape(word)}\b", snippets):
                self.bad("genre", f"'{word}' is not a genre of {self.facts.item.title} "
                         "in the evidence")
                continue
            shared = re.search(r"\b(?:share|shares|sharing|same|both|another|as well)\b|"
                               r"\b(?:like|as|also|with) §", masked)
            if titles and shared and not in_paths:
                self.bad("genre", f"the evidence does not say {', '.join(sorted(titles))} "
                         f"is {word} too")
            else:
                self.good(f"genre {word}")

    def check_evaluations(self, clause: str, start: int, end: int) -> None:
        clause = self.masked(start, end, ("title", "quote", "entity"))  # a tag 'epic' may say it
        general = next((g for g in _GENERAL_LIKING.finditer(clause) if not re.search(
            r"(?:\bits|\btheir|\bwhose|%|\bof|\bthose|\bthese|§)\s*(?:\bthe\s+)?(?:\w+\s+)?$",
            clause[:g.start() + len(g.group()) - len(g.group().lstrip())])), None)
        counted = general and any(
            m.start() <= general.end() and m.end() >= general.start()
            for m in re.finditer(rf"\d+\s+{_PEOPLE}", clause))
        sequence = _SEQUENCE.search(clause) and self.comentions_for(start, end)
        if general and not (counted or sequence or self.facts.n_ratings):
            self.bad("evaluation", f"'{general.group().strip()}' says people in general liked it")
        for word in re.findall(r"[a-z][a-z\-]+", clause):
            if word not in EVALUATIVE:
                continue
            if word in ("popular", "popularity") and self.facts.n_ratings:
                self.good("popularity")
            elif word in ("highly", "high", "well-liked") and (
                    self.cf_for(start, end) or self.comentions_for(start, end)) \
                    and _CF_WORDS.search(clause) and not re.search(r"\bhigh(?:ly)? rat(?:ed|ing)"
                                                                   r"\b(?! by| among)", clause):
                self.good("rated highly by fans (CF)")
            elif any(re.search(rf"\b{re.escape(word)}\b", s.lower()) for s in self.facts.snippets):
                self.good(f"'{word}' from the description")
            else:
                self.bad("evaluation", f"'{word}' is not carried by the evidence")

    # ---- everything else --------------------------------------------------------------
    def check_words(self) -> None:
        """Content words must come from the evidence or the small recommendation vocabulary."""
        source = " ".join([*self.facts.snippets, *self.facts.other, *self.facts.genres,
                           *self.facts.entities, *(t.title for t in self.facts.titles.values()),
                           *self.facts.person_names.values()]).lower()
        stems = {w[:5] for w in re.findall(r"[a-z]+", source)}
        masked = self.masked(0, len(self.low), ("title", "person", "entity", "quote"))
        for phrase in (g for g in GENRE_WORDS if " " in g):
            masked = masked.replace(phrase, " ")
        for word in re.findall(r"[a-z][a-z'\-]*", masked):
            w = word.removesuffix("'s").strip("'-")
            if len(w) < 4 or w in STOPWORDS or w in FLUFF or w in EVALUATIVE or \
                    w in COMPARATIVES or w in GENRE_WORDS or w in NUMBER_WORDS:
                continue
            if any(re.search(p, w) for p in RELATION_WORDS.values()):
                continue
            if w[:5] in stems or w.split("-")[0][:5] in stems:
                continue
            self.bad("word", f"'{w}' is not in the evidence")


def check_claims(text: str, item: Item, evidence: list[Evidence],
                 facts: Facts | None = None,
                 years: Mapping[str, int | None] | None = None) -> ClaimCheck:
    """Check every claim of a justification against the item's evidence.

    Args:
        text: The justification (one or two sentences).
        item: The recommended item (its title, year and genres may be said).
        evidence: The evidence the justification may draw on (`Evidence.data` is read).
        facts: The evidence already read by `facts_of` (saves reading it again).
        years: Item id -> year for the liked films CF statistics name (see `facts_of`).

    Returns:
        ClaimCheck; `ok` is False when any claim is not backed, with one violation each.
    """
    return _Checker(text, facts or facts_of(item, evidence, years)).run()
