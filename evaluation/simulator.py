"""Simulated cold-start users: a deterministic rule-based one, an LLM paraphraser, the oracle."""

from __future__ import annotations

import logging
import random
import re
from collections import Counter
from dataclasses import dataclass, field

from agent.backends.base import BackendError, LLMBackend
from agent.profile import LinkedItem, UserProfile
from catalog.models import Catalog, Item
from evaluation.leak_guard import LeakGuard
from evaluation.split import TestCase

log = logging.getLogger(__name__)

SLOTS = ("genre", "era", "person", "keywords", "liked_title")
"""Slots the agent may ask about (`Reply.question_slot`)."""
FRESH_ORDER = ("genre", "era", "keywords", "person", "liked_title")
"""Order in which the user volunteers a fresh attribute after a miss."""

OPENINGS = (
    "I'm looking for a movie to watch tonight.",
    "Can you recommend a movie for tonight?",
    "I want to watch a movie tonight, any ideas?",
    "Looking for something to watch this evening.",
)
TEMPLATES: dict[str, tuple[str, ...]] = {
    "genre": ("I'm in the mood for a {v} movie.", "Something {v}, please.",
              "I'd like a {v} film."),
    "decade": ("Something from the {v}.", "Preferably a movie from the {v}."),
    "years": ("Ideally released between {v}.",),
    "director": ("Maybe something directed by {v}.", "I like films by {v}."),
    "star": ("I like movies with {v}.", "Something starring {v} would be great."),
    "writer": ("Something written by {v}.",),
    "keywords": ("I'd enjoy something with {v}.", "I'm after something about {v}."),
    "liked_title": ("I really liked {v}.", "One movie I loved is {v}."),
}
NO_PREFERENCE = ("I don't really mind.", "No preference there.")
MISS = ("Not those, something else.", "Hmm, not those. Something else?")
ACCEPT = "Yes, that's exactly the one I wanted!"
GENRE_WORDS = {"children": "family", "film-noir": "film noir", "imax": "IMAX"}
_STOP = set("""about after again against along among another around because before being
between could during every first found friends great their there these thing things those
three through under until where which while whose world would years young other story
becomes himself herself themselves family father mother life lives finds takes tries""".split())


@dataclass(frozen=True)
class Fact:
    """One attribute of the target the user can reveal, with the sentence that reveals it.

    Attributes:
        slot: One of SLOTS.
        kind: Finer kind: genre, decade, years, director, star, writer, tag, word, liked_title.
        value: The attribute (genre name, person, keyword, item id for liked_title, 'lo-hi').
        text: The sentence the simulator says.
    """

    slot: str
    kind: str
    value: str
    text: str


class KeywordIndex:
    """Document frequencies of plot words, to pick salient but non-name words for keywords."""

    def __init__(self, catalog: Catalog) -> None:
        self.n_docs = max(1, len(catalog.items))
        self.df: Counter[str] = Counter()
        for item in catalog.items.values():
            self.df.update(set(re.findall(r"[a-z]{5,}", item.text.lower())))

    def salient(self, item: Item, n: int = 3) -> list[str]:
        """Up to n rare-but-real lower-case plot words of an item (no names, no title words)."""
        title_words = set(re.findall(r"[a-z]+", item.title.lower()))
        lower_uses = set(re.findall(r"(?<![.!?]\s)\b([a-z]{5,})\b", item.text))
        words = [w for w in set(re.findall(r"[a-z]{5,}", item.text.lower()))
                 if w in lower_uses and w not in _STOP and w not in title_words
                 and 3 <= self.df[w] <= 0.05 * self.n_docs]
        return sorted(words, key=lambda w: (self.df[w], w))[:n]


def target_facts(catalog: Catalog, case: TestCase, rng: random.Random,
                 keywords: KeywordIndex | None = None) -> dict[str, list[Fact]]:
    """Every fact the simulated user may reveal, per slot, in the order they will be revealed.

    Facts whose sentence would name the target (per the leak guard) are left out.
    """
    item = catalog.items[case.target_id]
    guard = LeakGuard(item)

    def fact(slot: str, kind: str, value: str, shown: str | None = None) -> Fact:
        template = rng.choice(TEMPLATES[kind if kind in TEMPLATES else slot])
        return Fact(slot, kind, value, template.format(v=shown or value))

    genres = list(item.genres)
    rng.shuffle(genres)
    facts: dict[str, list[Fact]] = {s: [] for s in SLOTS}
    facts["genre"] = [fact("genre", "genre", g, GENRE_WORDS.get(g, g)) for g in genres]
    if item.year:
        decade = item.year // 10 * 10
        part = (item.year - decade) // 4  # 0-3 early, 4-7 mid, 8-9 late
        lo, hi = decade + (0, 4, 8)[part], decade + (3, 7, 9)[part]
        facts["era"] = [fact("era", "decade", f"{decade}-{decade + 9}", f"{decade}s"),
                        fact("era", "years", f"{lo}-{hi}", f"{lo} and {hi}")]
    for role in ("director", "star", "writer"):
        names = list(item.people.get(role, []))
        rng.shuffle(names)
        facts["person"] += [fact("person", role, name) for name in names]
    genre_names = set(catalog.genres())
    tags = [t for t in item.tags if t not in genre_names and len(t) <= 30]
    facts["keywords"] = [fact("keywords", "tag", t) for t in tags[:4]]
    if keywords is not None:
        facts["keywords"] += [fact("keywords", "word", w) for w in keywords.salient(item)]
    facts["liked_title"] = [fact("liked_title", "liked_title", i, catalog.items[i].display_title)
                            for i in case.liked_ids if i in catalog.items and i != case.target_id]
    return {slot: [f for f in fs if not guard.leaks(f.text)] for slot, fs in facts.items()}


@dataclass
class SimulatedUser:
    """A deterministic user who knows the target's attributes but never its title.

    It opens with a vague wish, then answers only the slot the agent asked, one attribute per
    answer; after a missed recommendation it says so and volunteers one fresh attribute.
    Every utterance goes through the leak guard.

    Args:
        catalog: The catalog the target comes from.
        case: The test case (target and nameable liked titles).
        seed: Fixes the wording; the same seed and questions give the same answers.
        keywords: Shared keyword index (built from the catalog when omitted).
    """

    catalog: Catalog
    case: TestCase
    seed: int = 0
    keywords: KeywordIndex | None = None
    revealed: list[Fact] = field(default_factory=list)
    accepted: bool = False
    intent: str = "ask_recommendations"  # what its last message meant (for the oracle)
    guard: LeakGuard = field(init=False)
    _facts: dict[str, list[Fact]] = field(init=False)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"{self.seed}:{self.case.user_id}:{self.case.target_id}")
        self.guard = LeakGuard(self.catalog.items[self.case.target_id])
        if self.keywords is None:
            self.keywords = KeywordIndex(self.catalog)
        self._facts = target_facts(self.catalog, self.case, self._rng, self.keywords)

    @property
    def target(self) -> Item:
        """The hidden target item."""
        return self.catalog.items[self.case.target_id]

    def available_slots(self) -> list[str]:
        """Slots that still have something to reveal."""
        return [s for s in SLOTS if self._facts[s]]

    def opening(self) -> str:
        """The first, vague message."""
        self.intent = "ask_recommendations"
        return self.guard.redact(self._rng.choice(OPENINGS))

    def answer(self, slot: str | None) -> str:
        """Answer a question about one slot with one new attribute (or 'no preference')."""
        fact = self._take(slot) if slot in SLOTS else self._take_fresh()
        text = fact.text if fact else self._rng.choice(NO_PREFERENCE)
        return self.guard.redact(text)

    def respond(self, kind: str, question_slot: str | None = None,
                recommended: list[str] | None = None) -> str:
        """The next message, given what the agent just did.

        Args:
            kind: The reply kind: question, recommendations or message.
            question_slot: The slot asked about, for a question.
            recommended: Item ids recommended, for a recommendations reply.
        """
        self.intent = "give_preferences"
        if kind == "recommendations" and recommended:
            self.intent = "react"
            if self.case.target_id in recommended:
                self.accepted = True
                return ACCEPT
            fact = self._take_fresh()
            text = self._rng.choice(MISS) + (" " + fact.text if fact else "")
            return self.guard.redact(text)
        if kind == "question" and question_slot in SLOTS:
            return self.answer(question_slot)
        return self.answer(None)

    def _take(self, slot: str | None) -> Fact | None:
        if slot is None or not self._facts.get(slot):
            return None
        fact = self._facts[slot].pop(0)
        self.revealed.append(fact)
        return fact

    def _take_fresh(self) -> Fact | None:
        start = len(self.revealed) % len(FRESH_ORDER)
        for slot in FRESH_ORDER[start:] + FRESH_ORDER[:start]:
            if self._facts[slot]:
                return self._take(slot)
        return None

    def oracle_profile(self, base: UserProfile | None = None) -> UserProfile:
        """The profile a perfect understanding of everything revealed so far implies.

        Args:
            base: The agent's current profile; its bookkeeping (shown items, feedback on them,
                asked slots) is kept, what the user said is replaced by the truth.
        """
        profile = (base or UserProfile()).model_copy(deep=True)
        entities: list[str] = []
        keywords: list[str] = []
        liked: list[LinkedItem] = []
        year_min: int | None = None
        year_max: int | None = None
        tags = set(self.target.tags)
        for fact in self.revealed:
            if fact.slot == "genre":
                entities.append(f"genre:{fact.value}")
            elif fact.slot == "person":
                entities.append(f"person:{fact.value}")
            elif fact.slot == "keywords":
                keywords.append(fact.value)
                if fact.value in tags:
                    entities.append(f"tag:{fact.value}")
            elif fact.slot == "liked_title":
                item = self.catalog.items[fact.value]
                liked.append(LinkedItem(item_id=item.id, title=item.display_title,
                                        mention=item.display_title))
            elif fact.slot == "era":
                lo, hi = (int(x) for x in fact.value.split("-"))
                year_min = lo if year_min is None else max(year_min, lo)
                year_max = hi if year_max is None else min(year_max, hi)
        profile.liked_items = liked
        profile.liked_entities = list(dict.fromkeys(entities))
        profile.keywords = list(dict.fromkeys(keywords))
        profile.disliked_items = []  # this user never names dislikes; misreadings are dropped
        profile.disliked_entities = []
        profile.unknown_mentions = []
        profile.constraints = profile.constraints.model_copy(
            update={"year_min": year_min, "year_max": year_max, "genres_any": [],
                    "genres_excluded": []})
        return profile


PARAPHRASE_PROMPT = (
    "Rewrite the movie-seeker's message below in your own casual words, as the same person. "
    "Keep every fact (genres, years, names, titles), add nothing, one or two sentences. "
    "Reply with the rewritten message only."
)


@dataclass
class ParaphrasingUser(SimulatedUser):
    """The rule-based user whose every message an LLM paraphrases (leak guard applied after).

    A paraphrase that is empty, fails, or names the target falls back to the rule-based text.

    Args:
        backend: Any LLM backend.
    """

    backend: LLMBackend | None = None
    paraphrase_failures: int = 0
    paraphrase_leaks: int = 0

    def _paraphrase(self, text: str) -> str:
        if self.backend is None or text == ACCEPT:
            return text
        try:
            out = self.backend.chat([{"role": "system", "content": PARAPHRASE_PROMPT},
                                     {"role": "user", "content": text}],
                                    max_tokens=64, temperature=0.7, stop=["\n"]).text.strip()
        except BackendError as exc:
            log.warning("paraphrase failed, using the rule-based text: %s", exc)
            out = ""
        if not out:
            self.paraphrase_failures += 1
            return text
        if self.guard.leaks(out):
            self.paraphrase_leaks += 1
            return self.guard.redact(text)
        return out

    def opening(self) -> str:
        """The first, vague message, paraphrased."""
        return self._paraphrase(super().opening())

    def respond(self, kind: str, question_slot: str | None = None,
                recommended: list[str] | None = None) -> str:
        """The rule-based reply, paraphrased (see `SimulatedUser.respond`)."""
        return self._paraphrase(super().respond(kind, question_slot, recommended))
