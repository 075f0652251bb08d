"""Leak guard: detect and redact a simulated user's reply that fuzzily names the target title."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from catalog.models import Item
from catalog.text import fold_text, fold_text_with_map, split_title_year, strip_article, unsuffix_article

try:  # rapidfuzz is a runtime dependency; difflib keeps the guard working without it
    from rapidfuzz import fuzz as _fuzz
except ImportError:  # pragma: no cover - exercised only where rapidfuzz is missing
    _fuzz = None

SHORT_TITLE = 5
"""Variants shorter than this are matched as whole words with their capitals ('Up', 'It',
'Heat'), never fuzzily: 'cheer me up' does not name Pixar's Up, 'Up' does."""
REDACTED = "[redacted]"


def normalize_with_map(text: str, lower: bool = True) -> tuple[str, list[int]]:
    """Folded text (`catalog.text.fold_text_with_map`) and each character's index in `text`."""
    return fold_text_with_map(text, lower=lower)


def normalize(text: str, lower: bool = True) -> str:
    """Folded text (`catalog.text.fold_text`), lower-cased unless told."""
    return fold_text(text, lower=lower)


def title_variants(item: Item, lower: bool = True) -> list[str]:
    """Normalised spellings of an item's title: with/without article, year, alt titles, prefix.

    Handles MovieLens' 'Matrix, The (1999)', ReDial's 'The Matrix (1999)', alternative titles in
    parentheses and the part before a colon ('Alien: Resurrection' -> 'alien').

    Args:
        item: The item.
        lower: Lower-case the spellings (False keeps capitals, for short-title matching).
    """
    raws = [item.title, item.attributes.get("original_title", ""),
            item.attributes.get("redial_name", "")]
    variants: set[str] = set()
    for raw in filter(None, raws):
        title, _ = split_title_year(raw)
        pieces = [title] + re.findall(r"\(([^)]*)\)", title)
        main = title.split(" (")[0]
        pieces += [main, unsuffix_article(main)]
        for piece in list(pieces):
            for sep in (":", " - "):
                if sep in piece:
                    pieces.append(piece.split(sep)[0])
        for piece in pieces:
            norm = normalize(unsuffix_article(piece.strip()), lower)
            if not norm:
                continue
            variants.add(norm)
            stripped = strip_article(norm) if lower else _strip_cased_article(norm)
            if stripped:
                variants.add(stripped)
    return sorted((v for v in variants if v.lower() not in {"a", "an", "the"}),
                  key=lambda v: (-len(v), v))


def _strip_cased_article(text: str) -> str:
    for art in ("The ", "A ", "An "):
        if text.startswith(art):
            return text[len(art):]
    return text


def _ratio(a: str, b: str) -> float:
    if _fuzz is not None:
        return float(_fuzz.ratio(a, b))
    return 100.0 * difflib.SequenceMatcher(None, a, b).ratio()


def _partial(needle: str, hay: str) -> tuple[float, int, int]:
    """Best fuzzy score of `needle` inside `hay`, with the matched span of `hay`."""
    if _fuzz is not None:
        align = _fuzz.partial_ratio_alignment(needle, hay)
        if align is None:
            return 0.0, 0, 0
        return float(align.score), align.dest_start, align.dest_end
    best = (0.0, 0, 0)
    n = len(needle)
    for start in range(0, max(1, len(hay) - n + 1)):
        window = hay[start:start + n]
        score = 100.0 * difflib.SequenceMatcher(None, needle, window).ratio()
        if score > best[0]:
            best = (score, start, start + len(window))
    return best


@dataclass
class LeakGuard:
    """Knows one target item's title spellings and finds them, fuzzily, in any text.

    Args:
        item: The target item.
        threshold: Minimum fuzzy score (0-100) that counts as naming the title.
    """

    item: Item
    threshold: float = 90.0
    variants: list[str] = field(init=False)
    short_variants: list[str] = field(init=False)
    redactions: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.variants = [v for v in title_variants(self.item) if len(v) >= SHORT_TITLE]
        cased = title_variants(self.item, lower=False)
        self.short_variants = sorted({w for v in cased if len(v) < SHORT_TITLE
                                      for w in (v, v.upper())})

    def _find_in(self, text: str) -> tuple[int, int, bool] | None:
        """Span of the first title variant found, and whether it is in the cased text."""
        cased = normalize(text, lower=False)
        for v in self.short_variants:
            m = re.search(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])", cased)
            if m:
                return m.start(), m.end(), True
        span = self._find(normalize(text))
        return (span[0], span[1], False) if span else None

    def _find(self, norm: str) -> tuple[int, int] | None:
        """Span (in lower-case normalised text) of the first long title variant found."""
        for v in self.variants:
            if len(norm) < len(v):
                if _ratio(v, norm) >= self.threshold:
                    return 0, len(norm)
                continue
            # pad so that rapidfuzz cannot score a clipped window at the text's edge
            score, start, end = _partial(v, f" {norm} ")
            if score >= self.threshold:
                return max(0, start - 1), min(len(norm), end - 1)
        return None

    def leaks(self, text: str) -> bool:
        """True when the text fuzzily contains the target's title."""
        return self._find_in(text) is not None

    def redact(self, text: str, max_rounds: int = 5) -> str:
        """Replace every fuzzy occurrence of the title with `[redacted]`.

        Returns:
            The text unchanged when it does not leak; else the redacted text, or just
            `[redacted]` when the occurrences cannot be isolated in `max_rounds` rounds.
        """
        if not self.leaks(text):
            return text
        self.redactions += 1
        for _ in range(max_rounds):
            found = self._find_in(text)
            if found is None:
                return text
            start, end, cased = found
            _, index = normalize_with_map(text, lower=not cased)
            if end <= start or not index:
                break
            text = text[:index[start]] + REDACTED + text[index[end - 1] + 1:]
        return text if not self.leaks(text) else REDACTED
