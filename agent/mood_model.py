"""A learned mood -> genre reader: MiniLM sentence embeddings and one logistic model per genre."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent.spans import Label, Reading, Span

log = logging.getLogger(__name__)

WEIGHTS = Path(__file__).with_name("mood_model.json")
"""Trained by `python -m evaluation.mood_model_train` (never on the understanding test half)."""


@dataclass
class MoodGuess:
    """A genre the message implies, with the model's probabilities."""

    genre: str
    probability: float
    rejected: float
    """P(the message rejects the genres it implies): 'nothing too gory'."""


GATES = ("none", "wish", "wish-or-movies")
"""Which messages the model is asked about: every one, wishes and short replies ("need a
good laugh", "sth spooky"), or those plus any message about movies."""
SHORT_WORDS = 6


def eligible(text: str, gate: str) -> bool:
    """True when the gate lets the model read this message: a story about a film already
    seen ("I was laughing the whole time") is no wish for its genre."""
    from agent.reading_genres import MOVIE_CONTEXT, WANT_CUE

    if gate == "none" or len(text.split()) <= SHORT_WORDS or WANT_CUE.search(text):
        return True
    return gate == "wish-or-movies" and bool(MOVIE_CONTEXT.search(text))


def warm_up_embeddings() -> threading.Thread:
    """Load the embedding model in the background, so the first message the model reads
    does not wait the seconds that loading takes; a failure is logged, not raised."""
    def run() -> None:
        try:
            from tools.engines.embeddings import embed
            embed(["warm up"])
        except Exception as exc:  # noqa: BLE001 - the reader reports it again when used
            log.warning("embedding model not warmed: %s", exc)

    thread = threading.Thread(target=run, name="convrec-warm-embeddings", daemon=True)
    thread.start()
    return thread


def mood_tag(reading: Reading) -> bool:
    """True when the rules read a genre word as part of a tag ("not very funny though"):
    they judged the mood words already, as a description rather than a wish."""
    from agent.lexicon import GENRE_WORDS

    return any(s.kind == "tag" and any(w.strip(".,!?").lower() in GENRE_WORDS
                                       for w in s.text.split()) for s in reading.spans)


_STAND_INS = {"title": "that movie", "card": "that movie", "person": "that actor"}


def masked(text: str, reading: Reading) -> str:
    """The message with its titles and people replaced by stand-ins: the model reads the
    words around them ("World War Z" is no wish for war films, "Alien" none for sci-fi)."""
    out, last = [], 0
    for span in sorted(reading.spans, key=lambda s: s.start):
        if span.kind in _STAND_INS and span.end > span.start >= last:
            out += [text[last:span.start], _STAND_INS[span.kind]]
            last = span.end
    return "".join(out) + text[last:]


def _pack(a: np.ndarray) -> str:
    return base64.b64encode(np.asarray(a, dtype="<f4").tobytes()).decode("ascii")


def _unpack(s: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f4").reshape(shape).astype(np.float64)


class MoodModel:
    """Per-genre weights over an L2-normalised embedding (last column: the bias), a rejection
    head, and the probability a genre must reach."""

    def __init__(self, genres: list[str], weights: np.ndarray, reject: np.ndarray,
                 threshold: float, meta: dict[str, object] | None = None,
                 gate: str = "wish") -> None:
        if weights.shape[0] != len(genres) or weights.shape[1] != reject.shape[0]:
            raise ValueError(f"weights {weights.shape} do not fit {len(genres)} genres / "
                             f"rejection head {reject.shape}")
        self.genres = genres
        self.weights = weights
        self.reject = reject
        self.threshold = threshold
        self.meta = meta or {}
        if gate not in GATES:
            raise ValueError(f"unknown gate {gate!r}; one of {', '.join(GATES)}")
        self.gate = gate

    # ---- files -------------------------------------------------------------------------
    def save(self, path: Path = WEIGHTS) -> None:
        """Write the model as one small JSON file (weights as base64 float32)."""
        data = {"genres": self.genres, "dimensions": int(self.weights.shape[1]),
                "threshold": self.threshold, "weights": _pack(self.weights),
                "reject": _pack(self.reject), "gate": self.gate, "meta": self.meta}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> MoodModel | None:
        """The trained model, or None (one log line) when its file is missing or damaged."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            genres = [str(g) for g in data["genres"]]
            dims = int(data["dimensions"])
            return cls(genres, _unpack(data["weights"], (len(genres), dims)),
                       _unpack(data["reject"], (dims,)), float(data["threshold"]),
                       dict(data.get("meta") or {}), str(data.get("gate", "wish")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("mood model not used (%s): retrain with "
                        "`python -m evaluation.mood_model_train`", exc)
            return None

    # ---- scoring -----------------------------------------------------------------------
    @staticmethod
    def features(vectors: np.ndarray) -> np.ndarray:
        """Embeddings with a bias column."""
        return np.hstack([vectors, np.ones((vectors.shape[0], 1))])

    def probabilities(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """P(genre) per row and genre, and P(rejected) per row, for embedded messages."""
        x = self.features(vectors)
        genre = 1.0 / (1.0 + np.exp(-np.clip(x @ self.weights.T, -30, 30)))
        reject = 1.0 / (1.0 + np.exp(-np.clip(x @ self.reject, -30, 30)))
        return genre, reject

    def guesses(self, vector: np.ndarray, threshold: float | None = None) -> list[MoodGuess]:
        """The genres one embedded message implies, most probable first."""
        genre, reject = self.probabilities(vector.reshape(1, -1))
        cut = self.threshold if threshold is None else threshold
        out = [MoodGuess(g, float(p), float(reject[0]))
               for g, p in zip(self.genres, genre[0], strict=True) if p >= cut]
        return sorted(out, key=lambda m: -m.probability)

    def add_genres(self, genres: set[str], text: str, reading: Reading,
                   embed: Callable[[Sequence[str]], np.ndarray] | None = None) -> None:
        """Where the lexicon found no genre, add the genres the message implies, labelled by
        the rejection head.

        The spans are zero-width at the message start: they stand for the whole message, so
        no word is taken from the other rules. `embed` defaults to the shipped MiniLM."""
        found = {s.value for s in reading.spans if s.kind == "genre"}
        if found or mood_tag(reading) or not text.strip() or not eligible(text, self.gate):
            return
        if embed is None:
            from tools.engines.embeddings import embed as minilm
            embed = minilm
        for guess in self.guesses(embed([masked(text, reading)])[0]):
            value = f"genre:{guess.genre}"
            if guess.genre in genres and value not in found:
                label: Label = "disliked" if guess.rejected >= 0.5 else "liked"
                reading.spans.append(Span("genre", "", 0, 0, value, label=label))
