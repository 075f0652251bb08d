"""A learned reader of reactions to suggestions ("awe that was a cute one"), for where the rules find none."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from agent.lexicon import CHITCHAT, POSITIVE_CUES, REACT_UNSEEN
from agent.mood_model import _pack, _unpack
from agent.spans import Label, Reading

log = logging.getLogger(__name__)

WEIGHTS = Path(__file__).with_name("reaction_model.json")
"""Trained by `python -m evaluation.reaction_model_train` (never on the understanding test half)."""

CLASSES: tuple[Label, ...] = ("liked", "disliked", "seen")
"""What a reaction says of the suggestion; below the threshold for all three it says nothing."""


_THANKS = re.compile(
    r"\b(thanks?|thank you|thx|ty|cheers|appreciate (it|that|you)|bye|goodbye|good ?night|"
    r"have a (good|great|nice) (day|night|one|evening))\b( (so|very) much| a lot| again| anyway)?"
    r"( for (the|your|all the|these|those) (help|suggestions?|recommendations?|recs?|ideas?|"
    r"picks?))?", re.IGNORECASE)
"""Thanks and goodbyes: politeness, never a verdict ("Thanks for the suggestions")."""
_NEW_WISH = re.compile(
    r"\b((i|we)('d| would)? (really )?(want|need|wanna|like)|looking for|in the mood for|up for)"
    r"\s+(a|an|some|something|anything|another|more|movies?|films?)\b", re.IGNORECASE)
"""A new wish ("I want a good movie tonight"): no verdict on what was suggested."""


def masked(text: str, reading: Reading, context_items: Sequence[str]) -> str:
    """The message with the suggestion (named or pointed at) as "that one", other titles as
    "another movie" and people as "another actor", and without thanks and goodbyes: the
    model reads the words of the verdict, and "I loved Heat" (another film) or "I love Al
    Pacino" stays apart from "I loved that one"."""
    out, last = [], 0
    for span in sorted(reading.spans, key=lambda s: s.start):
        if span.kind not in ("title", "card", "person") or not span.end > span.start >= last:
            continue
        if span.kind == "person":
            stand_in = "another actor"
        elif span.kind == "card" or span.value in context_items:
            stand_in = "that one"
        else:
            stand_in = "another movie"
        out += [text[last:span.start], stand_in]
        last = span.end
    return _THANKS.sub("", "".join(out) + text[last:]).strip()


_GLAD = re.compile(r"^\W*(oh\s+|ooh\s+|wow\s+)?(nice|cool|great|awesome|sweet|perfect|"
                   r"interesting|sounds (good|great|fun|interesting))\b", re.IGNORECASE)
"""A glad first word: the model still reads "nice! i never saw it" (interest)."""


def asked(reading: Reading, context_items: Sequence[str]) -> bool:
    """True when the model is to read the message: something was just suggested, the rules
    read no reaction, no span names or points at a suggestion (the rules judged it), and the
    message judges nothing else (it is about that: "Spy and Heat are great", "I hate horror").
    Small talk left after the thanks ("ok", "cool") and a new wish are no verdict."""
    if not context_items or reading.reaction is not None:
        return False
    statements = re.sub(r"[^.!?]*\?", " ", reading.text)  # "is it any good?" asks
    if REACT_UNSEEN.search(reading.text) and not _GLAD.match(reading.text) and \
            not POSITIVE_CUES.search(statements):  # not "haven't seen it but heard amazing things"
        return False  # "Haven't seen that one. What's it about?" (not "nice! i never saw it")
    if any(s.kind == "card" or (s.kind == "title" and s.value in context_items)
           or (s.kind != "card" and s.label in ("liked", "disliked", "seen"))
           for s in reading.spans):
        return False
    rest = masked(reading.text, reading, context_items)
    return bool(re.search(r"\w", rest)) and not CHITCHAT.match(rest) \
        and not _NEW_WISH.search(rest)  # "Ok thanks Have a nice day", "I want a good movie"


class ReactionModel:
    """One logistic head per reaction over an L2-normalised embedding (last column: the
    bias), and the probability the best head must reach."""

    def __init__(self, weights: np.ndarray, threshold: float,
                 meta: dict[str, object] | None = None) -> None:
        if weights.ndim != 2 or weights.shape[0] != len(CLASSES):
            raise ValueError(f"weights {weights.shape} do not fit {len(CLASSES)} reactions")
        self.weights = weights
        self.threshold = threshold
        self.meta = meta or {}

    # ---- files -------------------------------------------------------------------------
    def save(self, path: Path = WEIGHTS) -> None:
        """Write the model as one small JSON file (weights as base64 float32)."""
        data = {"classes": list(CLASSES), "dimensions": int(self.weights.shape[1]),
                "threshold": self.threshold, "weights": _pack(self.weights), "meta": self.meta}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> ReactionModel | None:
        """The trained model, or None (one log line) when its file is missing or damaged."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if list(data["classes"]) != list(CLASSES):
                raise ValueError(f"classes {data['classes']} are not {list(CLASSES)}")
            dims = int(data["dimensions"])
            return cls(_unpack(data["weights"], (len(CLASSES), dims)), float(data["threshold"]),
                       dict(data.get("meta") or {}))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("reaction model not used (%s): retrain with "
                        "`python -m evaluation.reaction_model_train`", exc)
            return None

    # ---- scoring -----------------------------------------------------------------------
    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """P(reaction) per row and class, for embedded messages."""
        x = np.hstack([vectors, np.ones((vectors.shape[0], 1))])
        return 1.0 / (1.0 + np.exp(-np.clip(x @ self.weights.T, -30, 30)))

    def choose(self, probabilities: np.ndarray, threshold: float | None = None) -> Label | None:
        """The most probable reaction of one row, or None below the threshold."""
        best = int(np.argmax(probabilities))
        cut = self.threshold if threshold is None else threshold
        return CLASSES[best] if probabilities[best] >= cut else None

    def react(self, reading: Reading, context_items: Sequence[str],
              embed: Callable[[Sequence[str]], np.ndarray] | None = None) -> None:
        """Where the rules read no reaction to what was just suggested, set the one the
        message implies (or leave none). `embed` defaults to the shipped MiniLM."""
        if not asked(reading, context_items):
            return
        if embed is None:
            from tools.engines.embeddings import embed as minilm
            embed = minilm
        vector = embed([masked(reading.text, reading, context_items)])[0]
        reading.reaction = self.choose(self.probabilities(vector.reshape(1, -1))[0])
