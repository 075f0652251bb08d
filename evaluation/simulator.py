"""Simulated cold-start users who know what a person knows about a film, an LLM paraphraser."""

from __future__ import annotations

import logging
import random
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
SHOWN = 5
"""Cards a user looks at in a recommendation turn; only these can be accepted."""
FAMOUS_MIN = 8
"""A director or star is famous (a user would know the name) with this many catalog films."""
VAGUE_RATE = 0.2
"""Chance that an answer is vague ("dunno", "something fun") and reveals nothing."""

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
    "years": ("Ideally from the {v}.", "Maybe the {v}."),
    "director": ("Maybe something directed by {v}.", "I like films by {v}."),
    "star": ("I like movies with {v}.", "Something starring {v} would be great."),
    "mood": ("I want something {v}.", "Something {v} would be nice."),
    "liked_title": ("I really liked {v}.", "One movie I loved is {v}."),
}
MOODS: dict[str, tuple[str, ...]] = {
    "comedy": ("funny", "light-hearted"), "horror": ("scary",), "thriller": ("tense",),
    "romance": ("romantic",), "drama": ("moving",), "action": ("exciting",),
    "adventure": ("adventurous",), "animation": ("animated",), "children": ("family-friendly",),
    "family": ("family-friendly",), "crime": ("gritty",), "documentary": ("true to life",),
    "fantasy": ("magical",), "sci-fi": ("futuristic",), "mystery": ("puzzling",),
    "war": ("intense",), "musical": ("with lots of songs",), "film-noir": ("dark and moody",),
    "western": ("with cowboys",), "biography": ("based on a real person",),
    "history": ("historical",), "sport": ("about sports",), "music": ("about music",),
}
"""Mood words a person would use for a genre (what the film feels like, not what it is about)."""
VAGUE = ("Dunno.", "Something fun.", "Not sure, anything good really.", "Hmm, surprise me.")
NO_PREFERENCE = ("I don't really mind.", "No preference there.")
SEEN = ("Seen it already.", "I've seen that one.")
NOT_MINE = ("Not my thing.", "Nah, not my thing.")
ACCEPT = "Yes, that's exactly the one I wanted!"
GENRE_WORDS = {"children": "family", "film-noir": "film noir", "imax": "IMAX"}


@dataclass(frozen=True)
class Fact:
    """One attribute of the target the user can reveal, with the sentence that reveals it.

    Attributes:
        slot: One of SLOTS.
        kind: Finer kind: genre, decade, years, director, star, mood, liked_title.
        value: The attribute (genre name, person, mood words, item id for liked_title, 'lo-hi').
        text: The sentence the simulator says.
    """

    slot: str
    kind: str
    value: str
    text: str


class Fame:
    """How many catalog films each director and star has: the famous names a user would know."""

    def __init__(self, catalog: Catalog, minimum: int = FAMOUS_MIN) -> None:
        self.minimum = minimum
        self.films: Counter[str] = Counter(
            n for item in catalog.items.values() for role in ("director", "star")
            for n in set(item.people.get(role, [])))

    def famous(self, item: Item) -> tuple[str, str] | None:
        """(role, name) of the item's best-known director or star, if one is famous."""
        names = [(self.films[n], role, n) for role in ("director", "star")
                 for n in item.people.get(role, [])]
        best = max(names, key=lambda x: (x[0], x[1] == "director", x[2]), default=None)
        return (best[1], best[2]) if best and best[0] >= self.minimum else None


def target_facts(catalog: Catalog, case: TestCase, rng: random.Random,
                 fame: Fame | None = None) -> dict[str, list[Fact]]:
    """Every fact the simulated user may reveal, per slot, in the order they will be revealed.

    A person remembers the genres, roughly when it came out, one famous name and how it
    felt; never its rare plot words or user tags. Facts whose sentence would name the target
    (per the leak guard) are left out.
    """
    item = catalog.items[case.target_id]
    guard = LeakGuard(item)
    fame = fame or Fame(catalog)

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
        when = ("early", "mid", "late")[part]
        facts["era"] = [fact("era", "decade", f"{decade}-{decade + 9}", f"{decade % 100:02d}s"
                             if 1950 <= decade < 2000 else f"{decade}s"),
                        fact("era", "years", f"{lo}-{hi}", f"{when} {decade}s")]
    known = fame.famous(item)
    if known:
        facts["person"] = [fact("person", known[0], known[1])]
    moods = list(dict.fromkeys(m for g in genres for m in MOODS.get(g, ())[:1]))
    facts["keywords"] = [fact("keywords", "mood", m) for m in moods[:2]]
    facts["liked_title"] = [fact("liked_title", "liked_title", i, catalog.items[i].display_title)
                            for i in case.liked_ids if i in catalog.items and i != case.target_id]
    return {slot: [f for f in fs if not guard.leaks(f.text)] for slot, fs in facts.items()}


@dataclass
class SimulatedUser:
    """A seeded user who knows a person's view of the target (never its title) and reacts.

    It opens with a vague wish, answers the slot it is asked about with one attribute (or
    vaguely, sometimes), and when shown cards looks at the first SHOWN: it accepts the target
    if it is there, otherwise says it has seen one of them (a film it rated) or that they are
    not its thing, and adds one fresh attribute. Every utterance goes through the leak guard.

    Args:
        catalog: The catalog the target comes from.
        case: The test case (target, nameable liked titles, films the user has seen).
        seed: Fixes the wording; the same seed and replies give the same answers.
        fame: Shared fame index (built from the catalog when omitted).
        vague_rate: Chance that an answer reveals nothing.
    """

    catalog: Catalog
    case: TestCase
    seed: int = 0
    fame: Fame | None = None
    vague_rate: float = VAGUE_RATE
    revealed: list[Fact] = field(default_factory=list)
    accepted: bool = False
    vague_answers: int = 0
    intent: str = "ask_recommendations"  # what its last message meant (for the oracle)
    guard: LeakGuard = field(init=False)
    _facts: dict[str, list[Fact]] = field(init=False)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"{self.seed}:{self.case.user_id}:{self.case.target_id}")
        self.guard = LeakGuard(self.catalog.items[self.case.target_id])
        if self.fame is None:
            self.fame = Fame(self.catalog)
        self._facts = target_facts(self.catalog, self.case, self._rng, self.fame)

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
        """Answer about one slot (any fresh one for None) with one new attribute, or vaguely."""
        if self._rng.random() < self.vague_rate:
            self.vague_answers += 1
            return self._rng.choice(VAGUE)
        fact = self._take(slot) if slot in SLOTS else self._take_fresh()
        text = fact.text if fact else self._rng.choice(NO_PREFERENCE)
        return self.guard.redact(text)

    def respond(self, kind: str, question_slot: str | None = None,
                recommended: list[str] | None = None) -> str:
        """The next message, given what the agent just did.

        Args:
            kind: The reply kind: question, recommendations or message.
            question_slot: The slot asked about (a baseline may show cards and ask).
            recommended: Item ids shown as cards; only the first SHOWN are looked at.
        """
        self.intent = "give_preferences"
        if kind == "recommendations" and recommended:
            shown = recommended[:SHOWN]
            self.intent = "react"
            if self.case.target_id in shown:
                self.accepted = True
                return ACCEPT
            seen = set(self.case.seen_ids)
            react = self._rng.choice(SEEN if any(i in seen for i in shown) else NOT_MINE)
            return self.guard.redact(react + " " + self.answer(question_slot))
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
        for fact in self.revealed:
            if fact.slot == "genre":
                entities.append(f"genre:{fact.value}")
            elif fact.slot == "person":
                entities.append(f"person:{fact.value}")
            elif fact.slot == "keywords":
                keywords.append(fact.value)
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
    "Keep every fact (genres, years, names, titles, moods), add nothing, one or two sentences. "
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
