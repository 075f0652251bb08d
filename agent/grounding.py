"""Token-level grounding: a text may name only titles, people, years and numbers some allowed text holds.

Interview questions are checked with this (they draw on the user's own words). Justifications
are checked claim by claim against the evidence's data by `agent.claims.check_claims`, which
also binds each number to its field and each person to their role; this token check cannot
(issue 14: it passed "Of 129 people who rated Alien 4+, 61% ..." with the numbers swapped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Words that may start a sentence or appear capitalised without naming anything.
COMMON_CAPITALISED = {
    "a", "an", "and", "also", "another", "as", "audiences", "based", "because", "both", "but",
    "check", "enjoy", "fans", "for", "given", "here", "i", "if", "in", "it", "its", "it's",
    "just", "like", "many", "most", "one", "people", "since", "similar", "so", "that", "the",
    "their", "there", "these", "this", "those", "thanks", "try", "viewers", "watch", "we",
    "what", "with", "you", "you'll", "you've", "your", "you're", "do", "don't", "plus", "when",
    "then", "they", "is", "of", "on", "to", "at", "by", "from", "or", "not", "no", "yes",
    "my", "our", "why", "how", "all", "some", "more", "great", "perfect", "consider",
}
# A relation named in a justification must be held by the evidence (by one of these stems).
RELATION_STEMS: dict[str, tuple[str, ...]] = {
    r"\bsequel": ("sequel",),
    r"\bprequel": ("prequel",),
    r"\bremake": ("remake",),
    r"\bdirect": ("director", "directed"),
    r"\b(wrote|written|writer|screenplay)": ("writer", "written"),
    r"\b(star|starring|actor|actress|cast)": ("star", "actor"),
    r"\bproduc": ("producer", "produced", "production"),
    r"\b(award|oscar|nominat)": ("award",),
    r"\b(rated|ratings?|people who)": ("rated", "rating", "people"),
}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")


@dataclass
class GroundingResult:
    """Whether a text is grounded, and what was not found in the evidence."""

    ok: bool
    violations: list[str] = field(default_factory=list)


def _normalise(text: str) -> str:
    return text.replace("’", "'")


def check_grounding(text: str, allowed: list[str]) -> GroundingResult:
    """Check a justification against the texts it may draw on.

    Args:
        text: The justification.
        allowed: Evidence lines plus the item's own title, year and genres.

    Returns:
        GroundingResult listing every number, capitalised name or relation absent from
        `allowed`.
    """
    text = _normalise(text)
    source = _normalise(" ".join(allowed))
    source_lower = source.lower()
    source_numbers = set(_NUMBER.findall(source))
    source_words = {w.lower().strip("'") for w in _WORD.findall(source)}
    source_words |= {w.removesuffix("'s") for w in source_words}  # "Schindler's" names Schindler
    violations: list[str] = []
    for number in _NUMBER.findall(text):
        if number not in source_numbers:
            violations.append(f"number {number}")
    for word in _WORD.findall(text):
        bare = word.strip("'").removesuffix("'s").removesuffix("'")
        if not bare or not bare[0].isupper():
            continue
        low = bare.lower()
        if low in COMMON_CAPITALISED or low in source_words:
            continue
        violations.append(f"name {bare}")
    lowered = text.lower()
    for pattern, stems in RELATION_STEMS.items():
        if re.search(pattern, lowered) and not any(s in source_lower for s in stems):
            violations.append(f"relation {pattern.strip(chr(92) + 'b()')}")
    return GroundingResult(ok=not violations, violations=violations)
