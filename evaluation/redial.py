"""ReDial dialogue-context evaluation: Recall@K per (sample, target) pair, unmapped targets missed."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from agent.settings import Settings, load_settings
from catalog.errors import DataError
from catalog.models import Catalog
from catalog.text import fold_text as normalize
from catalog.text import normalize_genre, split_title_year, unsuffix_article
from evaluation.baselines import TOOL_OF, popularity_order
from evaluation.held_out import trained_on
from evaluation.readers import READS, TranscriptReader, oracle_rankers, transcript_rankers
from evaluation.readers import Sample as Sample  # re-exported: it used to live here
from evaluation.redial_summary import summarize_records
from tools.base import ConvrecTool

if TYPE_CHECKING:
    from agent.backends.base import LLMBackend

log = logging.getLogger(__name__)

ORACLE_METHODS = ("random", "popularity", "cf", "kg", "retrieval", "fused")
TRANSCRIPT_METHODS = ("agent", "fused+transcript")
REDIAL_METHODS = ORACLE_METHODS + TRANSCRIPT_METHODS
PUBLISHED_R10 = [
    {"model": "UniCRS", "r10": 0.215, "protocol": "iEvaLM, all targets", "split": "ReDial test"},
    {"model": "ChatGPT", "r10": 0.174, "protocol": "iEvaLM, all targets", "split": "ReDial test"},
    {"model": "KBRD", "r10": 0.169, "protocol": "iEvaLM, all targets", "split": "ReDial test"},
    {"model": "MESE", "r10": 0.256, "protocol": "per-pair, all targets",
     "split": "ReDial test (original split)"},
    {"model": "ReFICR", "r10": 0.305, "protocol": "per-pair, all targets",
     "split": "ReDial test (original split)"},
    {"model": "HARPO", "r10": 0.298, "protocol": "per-pair, all targets",
     "split": "ReDial test (original split)"},
    {"model": "ReFICR", "r10": 0.213, "protocol": "de-duplicated, new targets "
     "(2026 standardized re-evaluation)", "split": "ReDial test"},
]
"""Published Recall@10 anchors, each with its protocol and split; ours is the *dev* file."""
REDIAL_GENRES = frozenset(
    "drama romance comedy adventure sci-fi action crime thriller animation family documentary "
    "biography fantasy musical history war sport horror scary mystery short music western news "
    "film-noir talk-show game-show reality-tv".split())
"""The genre entities of ReDial's entity2type.json, used when that file is absent."""


def load_entity_types(data_dir: Path | str | None) -> dict[str, str]:
    """ReDial entity name -> movie / genre / person (redial/entity2type.json), {} if absent."""
    if data_dir is None:
        return {}
    path = Path(data_dir) / "redial" / "entity2type.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        log.warning("%s is damaged (%s); re-copy it from the ReDial data", path, exc)
        return {}
    return {str(k): str(v) for k, v in data.items()}


class TitleMapper:
    """Maps ReDial 'Title (Year)' strings to catalog item ids; genres and people never map.

    Exact `redial_name` first, then normalised title + year, then a title that is unique in
    the catalog when no year is given. A name typed genre or person in ReDial's entity types,
    or a year-less name that is a catalog genre, a ReDial genre or a catalog person, maps to
    nothing (the unique-title fallback once turned "romance" into Romance (1999)).
    """

    def __init__(self, catalog: Catalog, entity_types: dict[str, str] | None = None) -> None:
        self.exact: dict[str, str] = {}
        self.by_title_year: dict[tuple[str, int | None], str] = {}
        by_title: dict[str, set[str]] = {}
        people: set[str] = set()
        for item in sorted(catalog.items.values(), key=lambda i: i.id):
            if item.attributes.get("redial_name"):
                self.exact.setdefault(item.attributes["redial_name"], item.id)
            for raw in (item.title, item.attributes.get("original_title", "")):
                title, year = split_title_year(raw) if raw else ("", None)
                key = _title_key(title)
                if key:
                    self.by_title_year.setdefault((key, year or item.year), item.id)
                    by_title.setdefault(key, set()).add(item.id)
            people.update(n for ns in item.people.values() for n in ns)
        self.unique_title = {k: next(iter(v)) for k, v in by_title.items() if len(v) == 1}
        self.types = dict(entity_types or {})
        self.genre_keys = ({normalize_genre(g) for g in catalog.genres()} | set(REDIAL_GENRES)
                           | {normalize_genre(n) for n, t in self.types.items() if t == "genre"})
        self.person_keys = {normalize(p) for p in people} | {
            normalize(n) for n, t in self.types.items() if t == "person"}

    def is_film_name(self, name: str) -> bool:
        """False for a genre or person entity name (those never map to a film)."""
        if self.types.get(name) in ("genre", "person"):
            return False
        _, year = split_title_year(name)
        if year is not None:
            return True
        return (normalize_genre(name) not in self.genre_keys
                and normalize(name) not in self.person_keys)

    def map(self, name: str) -> str | None:
        """The item id for a ReDial movie name, or None when it is not a film of the catalog."""
        if not self.is_film_name(name):
            return None
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


def read_sample(row: dict[str, Any], n: int, mapper: TitleMapper) -> Sample:
    """One JSONL row as a Sample (titles mapped; nothing dropped)."""
    recs = list(dict.fromkeys(str(r) for r in row.get("rec") or []))
    entities = [str(e) for e in row.get("entity") or []]
    context = [str(t) for t in row.get("context") or []]
    mentioned = list(dict.fromkeys(i for e in entities if (i := mapper.map(e))))
    ids = [mapper.map(r) for r in recs]
    said = "\n".join(context)
    named = set(entities)
    new = [not (r in named or r in said or (i is not None and i in mentioned))
           for r, i in zip(recs, ids, strict=True)]
    return Sample(str(row.get("dialog_id", n)), int(row.get("turn_id", 0)), context, recs,
                  ids, new, mentioned, entities)


def load_samples(path: Path | str, catalog: Catalog, limit: int | None = None,
                 entity_types: dict[str, str] | None = None) -> tuple[list[Sample], dict[str, int]]:
    """Read every ReDial JSONL sample and map its titles.

    Returns:
        All samples (none dropped), and counts: samples, (sample, target) pairs, pairs whose
        target does not map (scored as misses), new-target pairs, samples without a mappable
        target and samples whose targets were all mentioned before.

    Raises:
        DataError: when the file is missing or a line is not valid JSON.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing dialogue file {path}",
                        "pass --dialogues pointing at e.g. shared/data/redial/dev_dialogues.jsonl")
    mapper = TitleMapper(catalog, entity_types)
    samples: list[Sample] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            if limit is not None and len(samples) >= limit:
                break
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{n} is not valid JSON: {exc}",
                                "check the file is ReDial JSONL") from exc
            samples.append(read_sample(row, n, mapper))
    return samples, mapping_counts(samples)


def mapping_counts(samples: Sequence[Sample]) -> dict[str, int]:
    """How many samples and pairs there are, and how many cannot be hit."""
    return {
        "samples": len(samples),
        "dialogues": len({s.dialog_id for s in samples}),
        "pairs": sum(len(s.targets) for s in samples),
        "pairs_unmapped": sum(i is None for s in samples for i in s.target_ids),
        "pairs_new": sum(sum(s.target_new) for s in samples),
        "pairs_new_unmapped": sum(i is None and new for s in samples
                                  for i, new in zip(s.target_ids, s.target_new, strict=True)),
        "samples_without_mappable_target": sum(all(i is None for i in s.target_ids)
                                               for s in samples),
        "samples_without_new_target": sum(not any(s.target_new) for s in samples),
    }


def target_ranks(ranking: Sequence[str], sample: Sample) -> dict[str, list[int | None]]:
    """1-based rank of each target in the ranking (None: not ranked or unmappable).

    "all": every target against the ranking as given. "new": the ranking with the mentioned
    movies removed (they are not new targets), for the targets not mentioned before; the
    other targets get None there and are not counted in that protocol.
    """
    pos = {item: r for r, item in reversed(list(enumerate(ranking, 1)))}
    mentioned = set(sample.mentioned)
    new_rank = {item: r for r, item in reversed(list(enumerate(
        (i for i in ranking if i not in mentioned), 1)))}
    return {"all": [pos.get(i) if i else None for i in sample.target_ids],
            "new": [new_rank.get(i) if i and new else None
                    for i, new in zip(sample.target_ids, sample.target_new, strict=True)]}


def score_sample(ranking: Sequence[str], sample: Sample, ks: Sequence[int]) -> dict[str, Any]:
    """Hits and pairs of one sample per protocol: {"all": {"pairs", "hits": {k: n}}, "new": ..}."""
    ranks = target_ranks(ranking, sample)
    out: dict[str, Any] = {}
    for proto, flags in (("all", [True] * len(sample.targets)), ("new", sample.target_new)):
        rs = [r for r, f in zip(ranks[proto], flags, strict=True) if f]
        out[proto] = {"pairs": len(rs),
                      "hits": {k: sum(1 for r in rs if r is not None and r <= k) for k in ks}}
    return out


def record(method: str, sample: Sample, ranking: Sequence[str], seconds: float) -> dict[str, Any]:
    """One JSON line of a run: enough to recompute every metric without re-running."""
    ranks = target_ranks(ranking, sample)
    return {"method": method, "dialog_id": sample.dialog_id, "turn_id": sample.turn_id,
            "ranks": ranks["all"], "ranks_new": ranks["new"], "new": sample.target_new,
            "seconds": round(seconds, 4)}


def run_redial(dialogues: Path | str, catalog_name: str = "movielens-redial",
               data_dir: Path | str | None = None, ks: Sequence[int] = (1, 5, 10, 20),
               limit: int | None = None, methods: Sequence[str] = REDIAL_METHODS,
               seed: int = 0, *, settings: Settings | None = None,
               backend: LLMBackend | None = None, catalog: Catalog | None = None,
               tools: dict[str, ConvrecTool] | None = None, records: Path | str | None = None,
               shard: tuple[int, int] = (0, 1), show_progress: bool = True,
               held_out_only: bool = True) -> dict[str, Any]:
    """Score every method on ReDial samples: Recall@K over (sample, target) pairs.

    Every method ranks the same samples (sample by sample, all methods on each), so any
    prefix of a run compares them on the same samples.

    Args:
        dialogues: ReDial JSONL (context, rec, entity per line).
        catalog_name: The catalog to map titles into.
        data_dir: Shared data folder (its redial/entity2type.json types the entities).
        ks: Cut-offs.
        limit: Read at most this many samples.
        methods: Names from REDIAL_METHODS.
        seed: Seeds the random baseline and the bootstrap.
        settings: Agent settings.
        backend: LLM backend for the agent.
        catalog: A preloaded catalog.
        tools: Tool instances on the catalog (default: from the registry).
        records: Append one JSON line per (method, sample) here as the run goes.
        shard: (i, n): only the dialogues whose index modulo n is i (to split a long run).
        show_progress: Show a tqdm bar.
        held_out_only: Score only the dialogues that the installed co-mention table and
            learned ranker were not trained on (`convrec train ranker` keeps one fold out);
            False scores every dialogue (numbers then flatter the trained methods).

    Returns:
        JSON-ready results (see `redial_summary.summarize_records`), with the config and what
        each method reads.
    """
    from catalog.loading import resolve_data_dir
    from evaluation.interview import build_tools

    ks = sorted(set(ks))
    settings = settings or load_settings()
    catalog = catalog or load_catalog_for(catalog_name, settings, data_dir)
    try:
        types = load_entity_types(resolve_data_dir(data_dir))
    except DataError:
        types = {}
    samples, counts = load_samples(dialogues, catalog, limit, types)
    samples = select_shard(samples, shard)
    held_out = None
    trained = trained_on(settings.resolved_cache_dir(), catalog)
    if held_out_only and trained.sources:
        before = len(samples)
        samples = [s for s in samples if not trained.seen(s.dialog_id)]
        held_out = {**trained.describe(), "samples_before": before, "samples_kept": len(samples)}
        log.warning("scoring the %d of %d samples whose dialogues the %s never saw "
                    "(--include-training-dialogues scores all)", len(samples), before,
                    " and ".join(trained.sources))
    names = list(methods)
    unknown = [m for m in names if m not in REDIAL_METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(REDIAL_METHODS)}")
    skipped: dict[str, str] = {}
    if tools is None and any(m in TOOL_OF or "fused" in m for m in names):
        tools, failed = build_tools(catalog, settings, None, show_progress)
        skipped.update({f"tool:{n}": why for n, why in failed.items()})
    rankers, why = oracle_rankers([m for m in names if m in ORACLE_METHODS], catalog,
                                  tools or {}, TOOL_OF, popularity_order(catalog), seed)
    skipped.update(why)
    tmp: tempfile.TemporaryDirectory[str] | None = None
    reader: TranscriptReader | None = None
    if any(m in TRANSCRIPT_METHODS for m in names):
        from agent.core import Agent

        tmp = tempfile.TemporaryDirectory(prefix="convrec-redial-")
        agent = Agent.from_settings(
            settings.model_copy(update={"sessions_db": Path(tmp.name) / "s.sqlite3",
                                        "justify_with_llm": False}),
            backend=backend, catalog=catalog)
        reader = TranscriptReader(lambda uid: agent.session(user_id=uid))
        more, why = transcript_rankers(names, reader, catalog, tools or {})
        rankers.update(more)
        skipped.update(why)
    out = None
    if records is not None:
        Path(records).parent.mkdir(parents=True, exist_ok=True)
        out = Path(records).open("a", encoding="utf-8")
    recs: list[dict[str, Any]] = []
    bar = tqdm(total=len(samples), disable=not show_progress, desc="redial", unit="sample")
    try:
        for sample in samples:
            for name, rank in rankers.items():
                start = time.perf_counter()
                ranking = rank(sample, max(ks))
                recs.append(record(name, sample, ranking, time.perf_counter() - start))
                if out is not None:
                    out.write(json.dumps(recs[-1]) + "\n")
            if out is not None:
                out.flush()
            bar.update(1)
    finally:
        bar.close()
        if out is not None:
            out.close()
        if tmp is not None:
            tmp.cleanup()
    results = summarize_records(recs, ks, seed=seed)
    results["config"] = {"dialogues": str(dialogues), "split": _split_name(dialogues),
                         "catalog": catalog.name, "ks": ks, "limit": limit,
                         "methods": list(rankers), "seed": seed, "shard": list(shard),
                         "held_out_of_trained_artifacts": held_out}
    results["mapping"] = {**counts, **{f"scored_{k}": v for k, v in
                                       mapping_counts(samples).items()}}
    results["reads"] = {m: READS[m] for m in rankers}
    results["skipped_methods"] = skipped
    results["published_r10"] = PUBLISHED_R10
    if reader is not None:
        results["transcript_turns_observed"] = reader.observed
    return results


def select_shard(samples: Sequence[Sample], shard: tuple[int, int]) -> list[Sample]:
    """The samples of every n-th dialogue (in file order), starting at dialogue i."""
    i, n = shard
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"shard {i}/{n} is not valid: need 0 <= i < n")
    order = {d: j for j, d in enumerate(dict.fromkeys(s.dialog_id for s in samples))}
    return [s for s in samples if order[s.dialog_id] % n == i]


def _split_name(dialogues: Path | str) -> str:
    name = Path(dialogues).name.lower()
    return "dev" if "dev" in name else ("test" if "test" in name else name)


def load_records(paths: Iterable[Path | str]) -> list[dict[str, Any]]:
    """The JSON lines of one or more `--records` files (a torn last line is skipped)."""
    recs: list[dict[str, Any]] = []
    for path in paths:
        with Path(path).open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    recs.append(json.loads(line))
                except json.JSONDecodeError:
                    log.warning("%s:%d is not valid JSON (an interrupted write?); skipped", path, n)
    return recs


def load_catalog_for(name: str, settings: Settings, data_dir: Path | str | None) -> Catalog:
    """Load the named catalog with the settings' cache dir."""
    from catalog.loading import load_catalog

    return load_catalog(name, settings.resolved_cache_dir(), data_dir)
