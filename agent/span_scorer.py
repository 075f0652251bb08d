"""A learned second look at titles: word windows that name a catalog film, scored by a logistic model."""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from agent import lexicon as lx
from agent import reading_names as rnames
from agent.reading_rules import PRONOUNS
from agent.spans import ReaderLike as Reader
from agent.spans import Reading, Span, _Token
from catalog.text import normalize_title

log = logging.getLogger(__name__)

WEIGHTS = Path(__file__).with_name("span_scorer.json")
"""Trained by `python -m evaluation.span_scorer_train` on the understanding set's dev split."""
MAX_WORDS = 6
_SMALL = {"of", "the", "a", "an", "and", "in", "on", "to", "at", "for", "with", "from", "or",
          "is", "my", "me", "i", "&"}
_TASTE_BEFORE = re.compile(r"\b(like[sd]?|love[sd]?|seen|saw|watch(ed)?|enjoy(ed)?|hate[sd]?|"
                           r"favou?rites?|about|called|fan of|rewatch(ed)?|movie|film|"
                           r"prefer|recommend(ed)?|try|check out|see)\s+(the\s+)?$", re.IGNORECASE)
_TASTE_AFTER = re.compile(r"^\W*(is|was|are|were|looks|sounds|too|as well|also)\b", re.IGNORECASE)
_LIST_NEXT = re.compile(r"^\s*(,|and\b|or\b|&|/)", re.IGNORECASE)
_LIST_PREV = re.compile(r"(,|\band|\bor|&|/)\s*$", re.IGNORECASE)
_YEAR_NEXT = re.compile(r"^\s*\(\s*(18|19|20)\d\d\s*\)")
_YEAR_BEFORE = re.compile(r"\b((?:19|20)\d\d)\s+$")
_QUOTE = "\"“”‘’'"

FEATURES = ("bias", "words", "chars", "exact", "fuzz", "cap_share", "first_cap", "sentence_start",
            "common_share", "all_common", "genre_word", "name_word", "pronoun", "digits",
            "popularity", "ambiguity", "alias_only", "cue_before", "cue_after", "the_before",
            "quoted", "in_context", "whole_message", "message_words", "list_neighbour",
            "year_next", "title_elsewhere")


@dataclass
class Candidate:
    """A word window and the film it may name."""

    start: int
    end: int
    item_id: str
    features: list[float]
    score: float = 0.0


class SpanScorer:
    """Logistic weights over `FEATURES` and the threshold a window must pass."""

    def __init__(self, weights: list[float], threshold: float) -> None:
        if len(weights) != len(FEATURES):
            raise ValueError(f"{len(weights)} weights for {len(FEATURES)} features")
        self.weights = weights
        self.threshold = threshold

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> SpanScorer | None:
        """The trained scorer, or None (one log line) when its file is missing or damaged."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if list(data["features"]) != list(FEATURES):
                raise ValueError("features differ from the code's")
            return cls([float(w) for w in data["weights"]], float(data["threshold"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("span scorer not used (%s): retrain with "
                        "`python -m evaluation.span_scorer_train`", exc)
            return None

    def probability(self, features: list[float]) -> float:
        """P(the window names its film)."""
        z = sum(w * x for w, x in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def add_titles(self, reader: Reader, text: str, tokens: list[_Token], reading: Reading,
                   context_items: list[str]) -> None:
        """Add the best-scored free windows that pass the threshold (no overlaps)."""
        titles = [s for s in reading.spans if s.kind == "title"]
        found = [c for c in candidates(reader, text, tokens, reading, context_items)
                 if reader._free(reading, c.start, c.end)
                 and not any(_touching(text, c, s) for s in titles)]
        for cand in found:
            cand.score = self.probability(cand.features)
        for cand in sorted(found, key=lambda c: -c.score):
            if cand.score < self.threshold:
                break
            if reader._free(reading, cand.start, cand.end):
                reading.spans.append(Span("title", text[cand.start:cand.end], cand.start,
                                          cand.end, cand.item_id, sure=False))


def _touching(text: str, cand: Candidate, span: Span) -> bool:
    """Only spaces between the window and a title already read: one title read in two
    pieces ("lord of the rings return of the king"), not a second film."""
    gap = text[span.end:cand.start] if span.end <= cand.start else text[cand.end:span.start]
    return not gap.strip()


def candidates(reader: Reader, text: str, tokens: list[_Token], reading: Reading,
               context_items: list[str]) -> list[Candidate]:
    """Every window of up to `MAX_WORDS` words whose key names a film exactly (title, alias,
    subtitle) or, for two words or more, by a close fuzzy match; with its features."""
    out: list[Candidate] = []
    keys = rnames.fuzzy_title_keys(reader)
    titled = [s for s in reading.spans if s.kind == "title"]
    for n in range(1, min(MAX_WORDS, len(tokens)) + 1):
        for i in range(len(tokens) - n + 1):
            window = tokens[i:i + n]
            start, end = window[0].start, window[-1].end
            key = normalize_title(text[start:end])
            words = key.split()
            if not key or words[0] in _SMALL - {"the", "a", "an"} or words[-1] in _SMALL:
                continue
            content = window[1:] if window[0].text.lower() in ("the", "a", "an") else window
            last = normalize_title(content[0].text) if len(content) == 1 else ""
            if len(content) == 1 and (last in lx.COMMON_WORDS or last in PRONOUNS
                                      or not content[0].capital):
                continue  # one lower-case or everyday word is the rules' call, with their cues
            ids = reader._lookup(key) or (_compact_keys(reader).get(_compact(key), [])
                                          if len(content) >= 2 else [])  # "a bugs life"
            ratio = 100.0
            if not ids and n >= 2 and len(key) >= 6 and any(
                    w not in lx.COMMON_WORDS and len(w) >= 4 for w in words):
                hit = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=85)
                if hit and _same_edges(words, hit[0].split()):
                    ids, ratio = reader._lookup(hit[0]), float(hit[1])
            if not ids:
                continue
            year = _year_before(text, start)
            item_id = _pick(reader, ids, context_items, year)
            feats = _features(reader, text, tokens, i, n, key, ids, item_id, ratio,
                              context_items, titled)
            out.append(Candidate(start, end, item_id, feats))
    return out


def _same_edges(words: list[str], title: list[str]) -> bool:
    """A typo keeps the title's edges and words: an everyday first or last word of the window
    must be the title's own ("like night of the living dead"), and word for word each is
    close ("jurrasic world", not "thank you for asking" for "Thank You for Smoking")."""
    for mine, theirs in ((words[0], title[0]), (words[-1], title[-1])):
        if mine != theirs and (mine in lx.COMMON_WORDS or len(mine) <= 2):
            return False
    mine_c = [w for w in words if w not in _SMALL]
    theirs_c = [w for w in title if w not in _SMALL]
    if len(words) != len(title) and len(mine_c) == len(theirs_c) >= 2:
        words, title = mine_c, theirs_c  # "silence of lambs": a small word left out
    if len(words) == len(title):  # each word a typo of the title's, not another word
        return all(fuzz.ratio(a, b) >= 80 for a, b in zip(words, title, strict=True))
    return fuzz.ratio(" ".join(words), " ".join(title)) >= 90


def _compact(key: str) -> str:
    return re.sub(r"^(the|a|an) ", "", key).replace(" ", "")


def _compact_keys(reader: Reader) -> dict[str, list[str]]:
    """Titles of two words or more without spaces or article ('a bug s life' -> 'bugslife'),
    built once per reader."""
    cached: dict[str, list[str]] | None = getattr(reader, "_scorer_compact", None)
    if cached is None:
        cached = {}
        for key, ids in reader.linker._titles.items():
            if " " in key:
                cached.setdefault(_compact(key), []).extend(ids)
        reader._scorer_compact = cached  # type: ignore[attr-defined]
    return cached


def _year_before(text: str, start: int) -> int | None:
    """'the 2016 ghostbusters': a year written just before the window."""
    m = _YEAR_BEFORE.search(text[:start])
    return int(m.group(1)) if m else None


def _pick(reader: Reader, ids: list[str], context_items: list[str], year: int | None) -> str:
    """The film the window names: one in context first, then the version of a year written
    before it, then the most rated."""
    in_context = [i for i in ids if i in context_items]
    if in_context:
        return in_context[0]
    return reader._pick(ids, year, strict=False) or ids[0]


def _features(reader: Reader, text: str, tokens: list[_Token], i: int, n: int, key: str,
              ids: list[str], item_id: str, ratio: float, context_items: list[str],
              titled: list[Span]) -> list[float]:
    window = tokens[i:i + n]
    start, end = window[0].start, window[-1].end
    words = key.split()
    content = [t for t in window if t.text.lower() not in _SMALL] or window
    before, after = text[:start], text[end:]
    popularity = reader.linker._popularity.get(item_id, 0)
    main = key in reader.linker._titles
    elsewhere = any(not s.overlaps(start, end) for s in titled)
    values = {
        "bias": 1.0,
        "words": float(len(words)),
        "chars": math.log1p(len(key)),
        "exact": float(ratio >= 100.0),
        "fuzz": ratio / 100.0,
        "cap_share": sum(t.capital for t in content) / len(content),
        "first_cap": float(window[0].capital),
        "sentence_start": float(i == 0 or before.rstrip()[-1:] in ".!?"),
        "common_share": sum(w in lx.COMMON_WORDS for w in words) / len(words),
        "all_common": float(all(w in lx.COMMON_WORDS or w in lx.CALENDAR_WORDS
                                or w in lx.GENRE_WORDS for w in words)),
        "genre_word": float(key in lx.GENRE_WORDS),
        "name_word": float(key in reader.surnames or reader._is_person_key(key)
                           or key in reader.first_names),
        "pronoun": float(key in PRONOUNS),
        "digits": float(any(w.isdigit() for w in words)),
        "popularity": math.log1p(popularity),
        "ambiguity": math.log(len(ids)),
        "alias_only": float(not main),
        "cue_before": float(bool(_TASTE_BEFORE.search(before))),
        "cue_after": float(bool(_TASTE_AFTER.match(after))),
        "the_before": float(before.lower().endswith("the ")),
        "quoted": float(before[-1:] in _QUOTE and after[:1] in _QUOTE),
        "in_context": float(item_id in context_items),
        "whole_message": float(n >= 0.6 * len(tokens)),
        "message_words": math.log1p(len(tokens)),
        "list_neighbour": float(bool(_LIST_NEXT.match(after) or _LIST_PREV.search(before))),
        "year_next": float(bool(_YEAR_NEXT.match(after))),
        "title_elsewhere": float(elsewhere),
    }
    return [values[f] for f in FEATURES]
