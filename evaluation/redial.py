"""ReDial dialogue-context evaluation (He et al. 2023): recommend after the context, Recall@K."""

from __future__ import annotations

import json
import logging
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from agent.planner import run_plan
from agent.settings import Settings, load_settings
from catalog.errors import DataError
from catalog.models import Catalog
from catalog.text import normalize_genre, split_title_year, unsuffix_article
from evaluation.baselines import TOOL_OF, popularity_order
from evaluation.leak_guard import normalize
from evaluation.metrics import recall_at_k
from tools.base import ConvrecTool, ProfileInputs, ToolState

if TYPE_CHECKING:
    from agent.backends.base import LLMBackend
    from agent.core import Agent

log = logging.getLogger(__name__)

REDIAL_METHODS = ("random", "popularity", "cf", "kg", "retrieval", "fused", "agent")
PUBLISHED_R10 = {"GPT-4 zero-shot": 0.194, "GPT-4 zero-shot (mentioned removed)": 0.180,
                 "GPT-3.5": 0.168, "UniCRS": 0.215, "KBRD": 0.169}
"""Published Recall@10 anchors on the ReDial *test* set (He et al. 2023); ours is dev."""


class TitleMapper:
    """Maps ReDial 'Title (Year)' strings to catalog item ids.

    Exact `redial_name` first, then normalised title + year, then a title that is unique in
    the catalog when no year is given.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.exact: dict[str, str] = {}
        self.by_title_year: dict[tuple[str, int | None], str] = {}
        by_title: dict[str, set[str]] = {}
        for item in sorted(catalog.items.values(), key=lambda i: i.id):
            if item.attributes.get("redial_name"):
                self.exact.setdefault(item.attributes["redial_name"], item.id)
            for raw in (item.title, item.attributes.get("original_title", "")):
                title, year = split_title_year(raw) if raw else ("", None)
                key = _title_key(title)
                if key:
                    self.by_title_year.setdefault((key, year or item.year), item.id)
                    by_title.setdefault(key, set()).add(item.id)
        self.unique_title = {k: next(iter(v)) for k, v in by_title.items() if len(v) == 1}

    def map(self, name: str) -> str | None:
        """The item id for a ReDial movie name, or None when it is not in the catalog."""
        if name in self.exact:
            return self.exact[name]
        title, year = split_title_year(name)
        key = _title_key(title)
        if year is not None:
            return self.by_title_year.get((key, year))
        return self.unique_title.get(key)


def _title_key(title: str) -> str:
    norm = normalize(unsuffix_article(title.split(" (")[0]))
    for art in ("the ", "a ", "an "):
        if norm.startswith(art):
            return norm[len(art):]
    return norm


@dataclass
class Sample:
    """One ReDial evaluation sample, with its titles mapped to the catalog."""

    dialog_id: str
    turn_id: int
    context: list[str]
    targets: list[str]
    mentioned: list[str]
    entities: list[str] = field(default_factory=list)
    unmapped_targets: list[str] = field(default_factory=list)

    def user_turns(self) -> list[str]:
        """The seeker's turns (the last context turn is the seeker's), non-empty."""
        last = len(self.context) - 1
        return [t for i, t in enumerate(self.context) if (last - i) % 2 == 0 and t.strip()]


def load_samples(path: Path | str, catalog: Catalog,
                 limit: int | None = None) -> tuple[list[Sample], dict[str, int]]:
    """Read ReDial JSONL samples and map their titles.

    Returns:
        Samples with at least one mappable target, and counts: samples read, samples without
        any mappable target (excluded), targets total and unmappable targets (excluded).

    Raises:
        DataError: when the file is missing or a line is not valid JSON.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing dialogue file {path}",
                        "pass --dialogues pointing at e.g. shared/data/redial/dev_dialogues.jsonl")
    mapper = TitleMapper(catalog)
    samples: list[Sample] = []
    counts = {"samples_read": 0, "samples_without_target": 0, "targets": 0,
              "targets_unmapped": 0}
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            if limit is not None and counts["samples_read"] >= limit:
                break
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{n} is not valid JSON: {exc}",
                                "check the file is ReDial JSONL") from exc
            counts["samples_read"] += 1
            recs = list(dict.fromkeys(row.get("rec") or []))
            mapped = [(r, mapper.map(r)) for r in recs]
            targets = list(dict.fromkeys(i for _, i in mapped if i))
            unmapped = [r for r, i in mapped if not i]
            counts["targets"] += len(recs)
            counts["targets_unmapped"] += len(unmapped)
            entities = list(row.get("entity") or [])
            mentioned = list(dict.fromkeys(i for e in entities if (i := mapper.map(e))))
            if not targets:
                counts["samples_without_target"] += 1
                continue
            samples.append(Sample(str(row.get("dialog_id", n)), int(row.get("turn_id", 0)),
                                  list(row.get("context") or []), targets, mentioned,
                                  entities, unmapped))
    return samples, counts


RankFn = Callable[[Sample, int], list[str]]


class ContextReader:
    """Builds the tool inputs a perfect reader of a dialogue context would give."""

    def __init__(self, catalog: Catalog) -> None:
        self.genres = set(catalog.genres())
        self.people = {n for item in catalog.items.values() for ns in item.people.values()
                       for n in ns}

    def inputs(self, sample: Sample) -> ProfileInputs:
        """Mentioned movies as liked items, mentioned genres and people as entities, and the
        seeker's words as free text."""
        entities: list[str] = []
        for e in sample.entities:
            g = normalize_genre(e)
            if g in self.genres:
                entities.append(f"genre:{g}")
            elif e in self.people:
                entities.append(f"person:{e}")
        text = " ".join(sample.user_turns())[-2000:]
        return ProfileInputs(free_text=text, liked_items=sample.mentioned[:50],
                             entities=list(dict.fromkeys(entities))[:50])


def baseline_rankers(names: Sequence[str], catalog: Catalog, tools: dict[str, ConvrecTool],
                     seed: int = 0) -> tuple[dict[str, RankFn], dict[str, str]]:
    """Rankers for the baselines on ReDial samples (no agent), and the ones not available."""
    order = popularity_order(catalog)
    ids = sorted(catalog.items)
    reader = ContextReader(catalog)
    rankers: dict[str, RankFn] = {}
    skipped: dict[str, str] = {}
    for name in names:
        if name == "random":
            rankers[name] = lambda s, k: random.Random(f"{seed}:{s.dialog_id}:{s.turn_id}").sample(
                ids, k)
        elif name == "popularity":
            rankers[name] = lambda s, k: order[:k]
        elif name in TOOL_OF:
            if TOOL_OF[name] not in tools:
                skipped[name] = f"tool {TOOL_OF[name]} is unavailable"
                continue
            rankers[name] = _tool_rank(tools[TOOL_OF[name]], reader)
        elif name == "fused":
            rankers[name] = lambda s, k: [c.item_id for c in run_plan(
                tools, catalog, reader.inputs(s), set(), k=max(k, 100)).candidates[:k]]
    return rankers, skipped


def _tool_rank(tool: ConvrecTool, reader: ContextReader) -> RankFn:
    def rank(sample: Sample, k: int) -> list[str]:
        result = tool.run_typed(reader.inputs(sample), k=k, state=ToolState())
        return [c.item_id for c in result.candidates[:k]]
    return rank


def agent_ranker(agent: Agent, feed: str = "user") -> RankFn:
    """An agent session per dialogue, fed the seeker's turns (or all turns joined).

    Samples of one dialogue extend each other, so with the "user" feed the session of the
    previous sample is continued when its turns are a prefix of this sample's: replaying them
    in a fresh session would send the same messages in the same order (temperature 0), only
    slower.
    """
    sent: dict[str, tuple[Any, list[str]]] = {}

    def rank(sample: Sample, k: int) -> list[str]:
        turns = sample.user_turns() if feed == "user" else ["\n".join(
            t for t in sample.context if t.strip())]
        turns = turns or ["Can you recommend a movie?"]
        session, done = sent.get(sample.dialog_id, (None, []))
        if feed != "user" or session is None or turns[:len(done)] != done:
            session = agent.session(user_id=f"redial-{sample.dialog_id}-{sample.turn_id}")
            done = []
        for text in turns[len(done):]:
            session.send(text)
        sent.clear()  # one dialogue at a time: samples of a dialogue come together
        sent[sample.dialog_id] = (session, list(turns))
        return list(session.ranked(k))
    return rank


def score_sample(ranking: list[str], sample: Sample, ks: Sequence[int]) -> dict[str, Any]:
    """Recall@K with all targets, and with items mentioned in the context removed from both the
    targets and the ranking (None when every target was already mentioned)."""
    mentioned = set(sample.mentioned)
    new_targets = [t for t in sample.targets if t not in mentioned]
    new_ranking = [i for i in ranking if i not in mentioned]
    return {"all": {k: recall_at_k(ranking, sample.targets, k) for k in ks},
            "new": ({k: recall_at_k(new_ranking, new_targets, k) for k in ks}
                    if new_targets else None)}


def run_redial(dialogues: Path | str, catalog_name: str = "movielens-redial",
               data_dir: Path | str | None = None, ks: Sequence[int] = (1, 5, 10, 20),
               limit: int | None = None, methods: Sequence[str] = REDIAL_METHODS,
               seed: int = 0, *, settings: Settings | None = None,
               backend: LLMBackend | None = None, catalog: Catalog | None = None,
               tools: dict[str, ConvrecTool] | None = None, feed: str = "user",
               show_progress: bool = True) -> dict[str, Any]:
    """Score every method on ReDial samples: Recall@K against the human's next recommendations.

    Args:
        dialogues: ReDial JSONL (context, rec, entity per line).
        catalog_name: The catalog to map titles into.
        data_dir: Shared data folder.
        ks: Cut-offs.
        limit: Read at most this many samples.
        methods: Names from REDIAL_METHODS.
        seed: Seeds the random baseline.
        settings: Agent settings.
        backend: LLM backend for the agent.
        catalog: A preloaded catalog.
        tools: Tool instances on the catalog (default: from the registry).
        feed: "user" (send each seeker turn) or "joined" (send the whole context at once).
        show_progress: Show a tqdm bar.

    Returns:
        JSON-ready results: mapping counts (unmappable targets are excluded and counted),
        mean Recall@K per method with and without mentioned items, and per-method seconds.
    """
    from evaluation.interview import build_tools

    ks = sorted(set(ks))
    settings = settings or load_settings()
    catalog = catalog or load_catalog_for(catalog_name, settings, data_dir)
    samples, counts = load_samples(dialogues, catalog, limit)
    names = list(methods)
    skipped: dict[str, str] = {}
    if tools is None and any(m in TOOL_OF or m == "fused" for m in names):
        tools, failed = build_tools(catalog, settings, None, show_progress)
        skipped.update({f"tool:{n}": why for n, why in failed.items()})
    rankers, why = baseline_rankers([m for m in names if m != "agent"], catalog, tools or {},
                                    seed)
    skipped.update(why)
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if "agent" in names:
        from agent.core import Agent

        tmp = tempfile.TemporaryDirectory(prefix="convrec-redial-")
        agent = Agent.from_settings(
            settings.model_copy(update={"sessions_db": Path(tmp.name) / "s.sqlite3"}),
            backend=backend, catalog=catalog)
        rankers["agent"] = agent_ranker(agent, feed)
    results: dict[str, Any] = {
        "config": {"dialogues": str(dialogues), "catalog": catalog.name, "ks": ks,
                   "limit": limit, "methods": names, "seed": seed, "feed": feed},
        "mapping": {**counts, "samples_scored": len(samples),
                    "samples_all_targets_mentioned": sum(
                        1 for s in samples if not set(s.targets) - set(s.mentioned))},
        "methods": {}, "skipped_methods": skipped, "published_r10_test": PUBLISHED_R10,
    }
    bar = tqdm(total=len(rankers) * len(samples), disable=not show_progress, desc="redial")
    try:
        for name, rank in rankers.items():
            bar.set_postfix_str(name)
            scores, seconds = [], []
            for sample in samples:
                start = time.perf_counter()
                ranking = rank(sample, max(ks))
                seconds.append(time.perf_counter() - start)
                scores.append(score_sample(ranking, sample, ks))
                bar.update(1)
            results["methods"][name] = _aggregate(scores, ks, seconds)
    finally:
        bar.close()
        if tmp is not None:
            tmp.cleanup()
    return results


def load_catalog_for(name: str, settings: Settings, data_dir: Path | str | None) -> Catalog:
    """Load the named catalog with the settings' cache dir."""
    from catalog.loading import load_catalog

    return load_catalog(name, settings.resolved_cache_dir(), data_dir)


def _aggregate(scores: list[dict[str, Any]], ks: Sequence[int],
               seconds: list[float]) -> dict[str, Any]:
    new = [s["new"] for s in scores if s["new"] is not None]
    return {
        "recall": {str(k): float(np.mean([s["all"][k] for s in scores])) if scores else 0.0
                   for k in ks},
        "recall_mentioned_removed": {str(k): float(np.mean([s[k] for s in new])) if new else 0.0
                                     for k in ks},
        "n": len(scores), "n_mentioned_removed": len(new),
        "seconds_p50": float(np.percentile(seconds, 50)) if seconds else 0.0,
        "seconds_p95": float(np.percentile(seconds, 95)) if seconds else 0.0,
    }
