"""`convrec bench tools`: latency of one `score` call of each built-in tool on synthetic catalogs."""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from benchmarks.stats import summary
from catalog.measure import cpu_cores, markdown_table

if TYPE_CHECKING:  # the CLI imports this module to build its parser: keep that import light
    import numpy as np

    from catalog.models import Catalog, Interactions, Item, Triple
    from tools.base import ConvrecTool, ProfileInputs, ToolResources

T = TypeVar("T")

RETRIEVAL, CF, KG = "vector_retrieval", "cf_scoring", "kg_expansion"
TOOL_NAMES = (RETRIEVAL, CF, KG)
TARGET_ITEMS = 10_000
TARGETS_MS = {RETRIEVAL: 15.0, CF: 5.0, KG: 5.0}
"""Per-call latency targets (p50, ms) checked on the TARGET_ITEMS catalog."""
TARGET_STAT = "p50"
INTERACTIONS_PER_ITEM = 20
MAX_INTERACTIONS = 5_000_000
"""Cap on ratings so a 1M-item catalog (and its CF model) builds in minutes, not hours."""
USERS_PER_ITEM = 0.1
PEOPLE_PER_ITEM = 1 / 50
ACTORS_PER_ITEM = 2
STORE_BATCH = 4096
WARMUP_CALLS = 3
DOC_EMBED_SAMPLE = 32
GENRES = ("drama", "comedy", "thriller", "action", "romance", "adventure", "crime", "sci-fi",
          "horror", "children", "fantasy", "mystery", "animation", "war", "musical",
          "documentary", "western", "film-noir")
ADJECTIVES = ("Silent", "Broken", "Golden", "Last", "Hidden", "Electric", "Distant", "Crimson",
              "Endless", "Little", "Wild", "Frozen", "Secret", "Lonely", "Burning", "Midnight")
NOUNS = ("Harbor", "Empire", "Garden", "River", "Signal", "Frontier", "Machine", "Kingdom",
         "Witness", "Summer", "Station", "Promise", "Storm", "Island", "Mirror", "Road")
HEROES = ("detective", "teacher", "pilot", "young thief", "retired boxer", "scientist",
          "farmer", "journalist", "soldier", "musician", "nurse", "con artist")
GOALS = ("find a missing sister", "win back an old love", "stop a bank robbery",
         "survive a winter in the mountains", "uncover a family secret", "save the town",
         "escape a haunted house", "cross the desert", "solve a murder", "build a rocket")
FIRST_NAMES = ("Ada", "Bruno", "Clara", "Dev", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
               "Kira", "Luca", "Mina", "Nils", "Olga", "Pablo", "Rosa", "Sami", "Tara", "Ugo")
LAST_NAMES = ("Moreno", "Lind", "Vega", "Okafor", "Novak", "Sato", "Berg", "Costa", "Haas",
              "Ivanov", "Jensen", "Kowalski", "Laurent", "Mendes", "Nakamura", "Olsen", "Park",
              "Quinn", "Rossi", "Silva")


@dataclass
class Synthetic:
    """A synthetic catalog plus what the queries are drawn from."""

    catalog: Catalog
    item_ids: list[str]
    popularity: np.ndarray
    n_users: int
    n_people: int


@dataclass
class Query:
    """One benchmark query: the profile every tool gets and a vector standing in for its text."""

    profile: ProfileInputs
    vector: np.ndarray


def parse_sizes(text: str) -> list[int]:
    """Catalog sizes from '10000', '10k,100k,1m' or '10_000,100000' (sorted, de-duplicated)."""
    sizes: set[int] = set()
    for part in text.replace("_", "").lower().split(","):
        part = part.strip()
        if not part:
            continue
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1], 1)
        number = int(float(part[:-1] if scale > 1 else part) * scale)
        if number < 10:
            raise argparse.ArgumentTypeError(f"catalog size {part!r} is below 10 items")
        sizes.add(number)
    if not sizes:
        raise argparse.ArgumentTypeError(f"no catalog size in {text!r}")
    return sorted(sizes)


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def stage(message: str, show: bool) -> None:
    """Print a stage line to stderr (stdout stays free for the report or JSON)."""
    if show:
        print(f"[bench tools] {message}", file=sys.stderr, flush=True)


def progress(iterable: Iterable[T], total: int, desc: str, show: bool) -> Iterable[T]:
    """A tqdm bar on stderr around `iterable`; the bare iterable without tqdm or when hidden."""
    if not show:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        stage(desc, show)
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit="it", leave=False, file=sys.stderr)


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def power_law(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Probabilities over n things proportional to 1 / (rank + 5)^exponent, ranks shuffled."""
    import numpy as np

    weights = 1.0 / (np.arange(n, dtype=np.float64) + 5.0) ** exponent
    weights = weights[rng.permutation(n)]
    return weights / weights.sum()


# ---------------------------------------------------------------------------- synthetic catalog

def person_name(n: int) -> str:
    """A distinct, human-looking name for person number n."""
    first = FIRST_NAMES[n % len(FIRST_NAMES)]
    last = LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
    round_ = n // (len(FIRST_NAMES) * len(LAST_NAMES))
    return f"{first} {last}" + (f" {round_ + 1}" if round_ else "")


def synthetic_items(n_items: int, rng: np.random.Generator, show: bool) -> list[Item]:
    """Items with titles, 1-3 genres from GENRES (skewed like real catalogs), years, a plot."""
    import numpy as np

    from catalog.models import Item

    genre_p = 1.0 / (np.arange(len(GENRES)) + 1.0) ** 0.8
    genre_draws = rng.choice(len(GENRES), size=(n_items, 3), p=genre_p / genre_p.sum())
    n_genres = rng.choice([1, 2, 3], size=n_items, p=[0.4, 0.4, 0.2])
    years = rng.integers(1930, 2025, size=n_items)
    words = rng.integers(0, 1 << 30, size=(n_items, 4))
    items: list[Item] = []
    for n in progress(range(n_items), n_items, "synthetic items", show):
        adj, noun, hero, goal = words[n]
        genres = list(dict.fromkeys(GENRES[g] for g in genre_draws[n, : n_genres[n]]))
        items.append(Item(
            id=f"syn{n}", title=f"The {ADJECTIVES[adj % len(ADJECTIVES)]} {NOUNS[noun % len(NOUNS)]}",
            year=int(years[n]), genres=genres,
            text=f"A {HEROES[hero % len(HEROES)]} must {GOALS[goal % len(GOALS)]}.",
        ))
    return items


def synthetic_triples(item_ids: list[str], n_people: int, rng: np.random.Generator,
                      show: bool) -> list[Triple]:
    """One director and ACTORS_PER_ITEM actors per item among n_people (a few are prolific)."""
    from catalog.models import Triple

    person_p = power_law(n_people, 0.8, rng)
    cast = rng.choice(n_people, size=(len(item_ids), 1 + ACTORS_PER_ITEM), p=person_p)
    names = [f"person:{person_name(p)}" for p in range(n_people)]
    triples: list[Triple] = []
    for n in progress(range(len(item_ids)), len(item_ids), "synthetic triples", show):
        head = f"item:{item_ids[n]}"
        triples.append(Triple(head=head, relation="director", tail=names[cast[n, 0]]))
        for actor in dict.fromkeys(cast[n, 1:].tolist()):
            triples.append(Triple(head=head, relation="actor", tail=names[actor]))
    return triples


def synthetic_interactions(item_ids: list[str], popularity: np.ndarray, n_users: int,
                           rng: np.random.Generator) -> Interactions:
    """Ratings: items drawn by power-law popularity, users uniformly; a pair drawn twice counts once."""
    import numpy as np

    from catalog.models import Interactions

    n_items = len(item_ids)
    n_draws = min(INTERACTIONS_PER_ITEM * n_items, MAX_INTERACTIONS)
    items = rng.choice(n_items, size=n_draws, p=popularity)
    users = rng.integers(0, n_users, size=n_draws)
    pairs = np.unique(users.astype(np.int64) * n_items + items)
    users, items = pairs // n_items, pairs % n_items
    ratings = rng.choice(np.array([1, 2, 3, 4, 5], dtype=np.float32), size=pairs.size,
                         p=[0.05, 0.1, 0.2, 0.35, 0.3])
    order = rng.permutation(pairs.size)  # not sorted by user, like a real ratings file
    user_names = np.array([f"u{u}" for u in range(n_users)], dtype=object)
    return Interactions(user_names[users[order]], np.array(item_ids, dtype=object)[items[order]],
                        ratings[order])


def synthetic_catalog(n_items: int, seed: int = 0, show: bool = False) -> Synthetic:
    """A catalog of n_items with power-law ratings and director/actor/genre KG edges.

    INTERACTIONS_PER_ITEM rating draws per item (at most MAX_INTERACTIONS in all) by
    n_items / 10 users, repeated (user, item) pairs kept once (about 16 per item remain at 10k
    items); n_items / 50 people. Genres are item metadata, which the knowledge graph
    turns into `genre` edges; directors and actors are catalog triples.
    """
    import numpy as np

    from catalog.models import Catalog

    rng = np.random.default_rng([seed, n_items])
    items = synthetic_items(n_items, rng, show)
    item_ids = [item.id for item in items]
    popularity = power_law(n_items, 1.0, rng)
    n_users = max(int(n_items * USERS_PER_ITEM), 10)
    n_people = max(int(n_items * PEOPLE_PER_ITEM), 10)
    stage(f"{n_items} items: ratings and triples", show)
    interactions = synthetic_interactions(item_ids, popularity, n_users, rng)
    triples = synthetic_triples(item_ids, n_people, rng, show)
    catalog = Catalog(name=f"synthetic-{n_items}", items={i.id: i for i in items},
                      interactions=interactions, triples=triples)
    return Synthetic(catalog, item_ids, popularity, n_users, n_people)


def unit_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    """n random unit vectors of the embedder's dimension (float32)."""
    import numpy as np

    from tools.embeddings import DIMENSIONS

    vectors = rng.standard_normal((n, DIMENSIONS), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def make_queries(syn: Synthetic, n: int, rng: np.random.Generator) -> list[Query]:
    """Profiles of 1-5 liked items (drawn by popularity), a genre entity and a wish text.

    Texts are distinct (numbered), so the retrieval tool's per-text cache never answers.
    """
    from tools.base import ProfileInputs

    vectors = unit_vectors(n, rng)
    queries: list[Query] = []
    for q in range(n):
        picks = rng.choice(len(syn.item_ids), size=int(rng.integers(1, 6)), replace=False,
                           p=syn.popularity)
        liked = [syn.item_ids[i] for i in picks]
        genre = GENRES[int(rng.integers(len(GENRES)))]
        first = syn.catalog.items[liked[0]]
        text = (f"a {genre} about a {HEROES[q % len(HEROES)]} who has to "
                f"{GOALS[int(rng.integers(len(GOALS)))]}, like {first.display_title} (#{q})")
        profile = ProfileInputs(free_text=text, liked_items=liked, entities=[f"genre:{genre}"])
        queries.append(Query(profile, vectors[q]))
    return queries


# ---------------------------------------------------------------------------- building tools

def fill_store(resources: ToolResources, rng: np.random.Generator, show: bool) -> bool:
    """Fill the catalog's Chroma collection with random unit vectors through `add_items`.

    Returns:
        False when a kept collection already held every item (nothing was added).
    """
    from tools.chroma_store import add_items, open_collection

    collection = open_collection(resources)
    items = list(resources.catalog.items.values())
    if collection.count() == len(items):
        return False
    genres = resources.catalog.genres()
    starts = range(0, len(items), STORE_BATCH)
    for start in progress(starts, len(starts), "chroma (random vectors)", show):
        chunk = items[start:start + STORE_BATCH]
        add_items(collection, chunk, unit_vectors(len(chunk), rng), genres)
    return True


def build_tools(syn: Synthetic, cache_dir: Path, rng: np.random.Generator,
                show: bool) -> tuple[dict[str, ConvrecTool], dict[str, dict[str, float]]]:
    """Create the three tools through the registry (building their artifacts); time each."""
    from tools.base import ToolResources
    from tools.registry import ToolRegistry

    registry = ToolRegistry()
    resources = ToolResources(catalog=syn.catalog, cache_dir=cache_dir, show_progress=show)
    tools: dict[str, ConvrecTool] = {}
    builds: dict[str, dict[str, float]] = {}
    for name in TOOL_NAMES:
        stage(f"{len(syn.item_ids)} items: building {name}", show)
        fill_s = 0.0
        filled = False
        if name == RETRIEVAL:
            start = time.perf_counter()
            filled = fill_store(resources, rng, show)
            fill_s = time.perf_counter() - start
        start = time.perf_counter()
        tools[name] = registry.create(name, resources)
        create_s = time.perf_counter() - start
        builds[name] = {"build_s": fill_s + create_s, "create_s": create_s}
        if name == RETRIEVAL:
            builds[name]["store_fill_s"] = fill_s
            builds[name]["reused"] = not filled
    return tools, builds


# ---------------------------------------------------------------------------- timing

def time_ms(call: Callable[[T], object], inputs: Sequence[T],
            warmup: Sequence[T] = ()) -> tuple[list[float], float]:
    """Milliseconds of `call` on each input, after untimed `warmup` calls; and the first call."""
    first = 0.0
    for n, value in enumerate(warmup):
        start = time.perf_counter()
        call(value)
        if n == 0:
            first = (time.perf_counter() - start) * 1000
    out: list[float] = []
    for value in inputs:
        start = time.perf_counter()
        call(value)
        out.append((time.perf_counter() - start) * 1000)
    return out, first


def rounded(stats: dict[str, float], digits: int = 3) -> dict[str, float]:
    """A summary with its floats rounded for the report."""
    return {k: (v if k == "n" else round(float(v), digits)) for k, v in stats.items()}


def measure_embedder(texts: list[str], warmup: list[str], documents: list[str]) -> dict[str, Any]:
    """Model load time, per-call latency of embedding ONE query text, and document throughput."""
    from tools.embeddings import embed, load_encoder

    start = time.perf_counter()
    load_encoder()
    load_s = time.perf_counter() - start
    times, _ = time_ms(lambda text: embed([text]), texts, warmup)
    start = time.perf_counter()
    embed(documents)
    docs_per_s = len(documents) / max(time.perf_counter() - start, 1e-9)
    return {"model_load_s": round(load_s, 3), "query_embed_ms": rounded(summary(times)),
            "documents_per_s": round(docs_per_s, 1)}


def bench_tool(tool: ConvrecTool, queries: list[Query], warmup: list[Query],
               k: int) -> dict[str, Any]:
    """Latency of `tool.score` on every query, and how many candidates came back."""
    from tools.base import ToolState

    state = ToolState()
    counts: list[int] = []

    def call(query: Query) -> None:
        counts.append(len(tool.score(query.profile, k, state)))

    times, first = time_ms(call, queries, warmup)
    counts = counts[len(warmup):]
    return {"score_ms": rounded(summary(times)), "first_call_ms": round(first, 3),
            "candidates_mean": round(sum(counts) / len(counts), 2)}


def bench_search(tool: Any, queries: list[Query], warmup: list[Query], k: int) -> dict[str, Any]:
    """Latency of the retrieval search with precomputed query vectors (no embedding)."""
    from tools.base import ToolState

    state = ToolState()
    counts: list[int] = []

    def call(query: Query) -> None:
        counts.append(len(tool.score_with_vector(query.profile, k, state, query.vector)))

    times, first = time_ms(call, queries, warmup)
    counts = counts[len(warmup):]
    return {"search_ms": rounded(summary(times)), "search_first_call_ms": round(first, 3),
            "candidates_mean": round(sum(counts) / len(counts), 2)}


def verdict(name: str, n_items: int, value_ms: float) -> dict[str, Any]:
    """Target and PASS/FAIL for a tool; only the TARGET_ITEMS catalog is judged."""
    if n_items != TARGET_ITEMS:
        return {"target_ms": None, "pass": None}
    return {"target_ms": TARGETS_MS[name], "pass": bool(value_ms <= TARGETS_MS[name])}


def bench_size(n_items: int, n_queries: int, k: int, seed: int, workdir: Path,
               embedder: dict[str, Any], show: bool) -> dict[str, Any]:
    """Build a synthetic catalog of n_items and its tools, then time every tool."""
    import numpy as np

    start = time.perf_counter()
    syn = synthetic_catalog(n_items, seed, show)
    catalog_s = time.perf_counter() - start
    rng = np.random.default_rng([seed, n_items, 1])
    tools, builds = build_tools(syn, workdir / f"n{n_items}", rng, show)
    queries = make_queries(syn, WARMUP_CALLS + n_queries, rng)
    warmup, queries = queries[:WARMUP_CALLS], queries[WARMUP_CALLS:]
    results: dict[str, dict[str, Any]] = {}
    for name, tool in tools.items():
        stage(f"{n_items} items: timing {name} on {n_queries} queries", show)
        results[name] = {**{key: v if isinstance(v, bool) else round(v, 3)
                            for key, v in builds[name].items()},
                         **bench_tool(tool, queries, warmup, k)}
    retrieval = results[RETRIEVAL]
    retrieval.update(bench_search(tools[RETRIEVAL], queries, warmup, k))
    embed_p50 = embedder["query_embed_ms"][TARGET_STAT]
    retrieval["query_embed_p50_ms"] = embed_p50
    retrieval["total_p50_ms"] = round(embed_p50 + retrieval["search_ms"][TARGET_STAT], 3)
    retrieval["embed_catalog_estimate_s"] = round(n_items / embedder["documents_per_s"], 1)
    for name, res in results.items():
        value = res["total_p50_ms"] if name == RETRIEVAL else res["score_ms"][TARGET_STAT]
        res.update(verdict(name, n_items, value))
    del tools, queries, warmup
    gc.collect()
    inter = syn.catalog.interactions
    return {"items": n_items, "users": syn.n_users, "people": syn.n_people,
            "interactions": len(inter), "triples": len(syn.catalog.triples),
            "catalog_s": round(catalog_s, 3), "tools": results,
            "reused_artifacts": bool(results[RETRIEVAL].get("reused")),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def run_tools_bench(sizes: Sequence[int], queries: int = 200, k: int = 50, seed: int = 0,
                    workdir: Path | None = None, keep: bool = False,
                    show: bool = True) -> dict[str, Any]:
    """Time each tool's `score` on synthetic catalogs of the given sizes.

    Args:
        sizes: Catalog sizes in items.
        queries: Timed queries per tool and size (and query texts embedded).
        k: Candidates asked of each tool.
        seed: Seed of the synthetic data and queries.
        workdir: Where artifacts go (default: a fresh temp dir).
        keep: Keep the artifacts instead of deleting them at the end.
        show: Progress bars and stage lines on stderr.

    Returns:
        The JSON-able result (see `write_tools_report`).
    """
    import numpy as np

    from tools.chroma_store import item_document

    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="convrec-bench-tools-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        stage("embedder: loading and timing one query text per call", show)
        sample = synthetic_catalog(max(queries, DOC_EMBED_SAMPLE, 10), seed)
        texts = [q.profile.free_text for q in make_queries(
            sample, WARMUP_CALLS + queries, np.random.default_rng([seed, 2]))]
        docs = [item_document(i) for i in list(sample.catalog.items.values())[:DOC_EMBED_SAMPLE]]
        embedder = measure_embedder(texts[WARMUP_CALLS:], texts[:WARMUP_CALLS], docs)
        results = [bench_size(n, queries, k, seed, root, embedder, show) for n in sizes]
    finally:
        if keep:
            stage(f"artifacts kept in {root}", show)
        else:
            shutil.rmtree(root, ignore_errors=True)
    return {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": cpu_cores(), "python": platform.python_version()},
        "settings": {"items": list(sizes), "queries": queries, "k": k, "seed": seed,
                     "interactions_per_item": INTERACTIONS_PER_ITEM,
                     "max_interactions": MAX_INTERACTIONS,
                     "retrieval_vectors": "random unit vectors (search timed apart from the "
                                          "query embedding)"},
        "targets": {"items": TARGET_ITEMS, "stat": TARGET_STAT, "ms": TARGETS_MS},
        "embedder": embedder,
        "sizes": results,
    }


# ---------------------------------------------------------------------------- report

def verdict_lines(result: dict[str, Any]) -> list[str]:
    """'PASS vector_retrieval 9.1 ms <= 15 ms' lines for the judged catalog size."""
    lines: list[str] = []
    for size in result["sizes"]:
        for name, res in size["tools"].items():
            if res["pass"] is None:
                continue
            value = res["total_p50_ms"] if name == RETRIEVAL else res["score_ms"][TARGET_STAT]
            word, sign = ("PASS", "<=") if res["pass"] else ("FAIL", ">")
            lines.append(f"{word} {name} at {size['items']} items: {TARGET_STAT} {value:.2f} ms "
                         f"{sign} target {res['target_ms']:g} ms")
    return lines


def _table(result: dict[str, Any]) -> list[str]:
    """Markdown rows: one per size and tool."""
    rows = []
    for size in result["sizes"]:
        for name, res in size["tools"].items():
            s = res["score_ms"]
            target = f"{res['target_ms']:g} ms" if res["target_ms"] is not None else "-"
            outcome = {True: "PASS", False: "FAIL", None: "-"}[res["pass"]]
            build = f"{res['build_s']:.2f}" + (" (kept, loaded)" if size.get("reused_artifacts")
                                               else "")
            rows.append([size["items"], name, build, f"{s['p50']:.2f}", f"{s['p95']:.2f}",
                         f"{s['mean']:.2f}", f"{res['first_call_ms']:.1f}",
                         f"{res['candidates_mean']:.1f}", target, outcome])
    return markdown_table(["items", "tool", "build s", "p50 ms", "p95 ms", "mean ms",
                           "first call ms", "candidates", "target", "result"], rows)


def render_markdown(result: dict[str, Any]) -> str:
    """The Markdown report of a `run_tools_bench` result."""
    emb = result["embedder"]
    lines = ["# bench-tools", "", f"settings: `{json.dumps(result['settings'])}`",
             f"machine: `{json.dumps(result['machine'])}`", "",
             "Latency of one `score` call per tool (vector_retrieval: the real `score`, i.e. "
             "query embedding + search). Targets are judged on the "
             f"{TARGET_STAT} at {TARGET_ITEMS} items (retrieval: embedding p50 + search p50).",
             "", *_table(result), "",
             "## Retrieval: query embedding + search",
             "", "The catalog vectors are random unit vectors (embedding a large catalog on a "
             "CPU is infeasible); the search is timed with precomputed query vectors and the "
             "query embedding separately, on real query texts.", "",
             f"embedder: model load {emb['model_load_s']:.2f} s, one query text "
             f"p50 {emb['query_embed_ms']['p50']:.2f} ms / p95 {emb['query_embed_ms']['p95']:.2f}"
             f" ms, documents {emb['documents_per_s']:.0f}/s", "",
             "| items | embed p50 ms | search p50 ms | search p95 ms | total p50 ms | "
             "store fill s | est. embed catalog s |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for size in result["sizes"]:
        r = size["tools"][RETRIEVAL]
        lines.append(f"| {size['items']} | {r['query_embed_p50_ms']:.2f} | "
                     f"{r['search_ms']['p50']:.2f} | {r['search_ms']['p95']:.2f} | "
                     f"{r['total_p50_ms']:.2f} | {r['store_fill_s']:.1f} | "
                     f"{r['embed_catalog_estimate_s']:.0f} |")
    lines += ["", "## Catalogs", "", "| items | users | ratings | triples | people | "
              "catalog s | peak RSS MiB |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for size in result["sizes"]:
        lines.append(f"| {size['items']} | {size['users']} | {size['interactions']} | "
                     f"{size['triples']} | {size['people']} | {size['catalog_s']:.1f} | "
                     f"{size['peak_rss_mb']:.0f} |")
    lines += ["", "Peak RSS is the process's high-water mark after each size.", ""]
    lines += verdict_lines(result) or [f"(no {TARGET_ITEMS}-item catalog: no targets judged)"]
    return "\n".join(lines) + "\n"


def write_tools_report(result: dict[str, Any], folder: Path, name: str = "bench-tools") -> Path:
    """Write `<name>.json` and `<name>.md` into folder; return the Markdown path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    path = folder / f"{name}.md"
    path.write_text(render_markdown(result))
    return path


# ---------------------------------------------------------------------------- command line

def add_tools_command(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                      common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `bench tools`."""
    p = sub.add_parser("tools", help="per-call latency of each tool on synthetic catalogs")
    common(p)
    p.add_argument("--items", type=parse_sizes, default=[TARGET_ITEMS],
                   help="catalog size(s), e.g. 10000 or 10000,100000,1000000 (default 10000)")
    p.add_argument("--queries", type=positive_int, default=200,
                   help="timed queries per tool and size (default 200)")
    p.add_argument("--k", type=positive_int, default=50, help="candidates asked of each tool")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--report", type=Path, default=Path("reports/bench"),
                   help="folder for bench-tools.md and bench-tools.json")
    p.add_argument("--keep", action="store_true", help="keep the synthetic artifacts")
    p.add_argument("--workdir", type=Path, default=None,
                   help="build the artifacts here and keep them; a later run with the same "
                        "folder, sizes and seed reuses them (build times then show loading)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars or stage lines")
    p.set_defaults(handler=_tools)


def _tools(args: argparse.Namespace) -> int:
    """Run the benchmark, write the report, print Markdown or JSON."""
    result = run_tools_bench(args.items, queries=args.queries, k=args.k, seed=args.seed,
                             workdir=args.workdir, keep=args.keep or args.workdir is not None,
                             show=not args.no_progress)
    md = write_tools_report(result, args.report)
    if args.json:
        print(json.dumps(result))
        for line in verdict_lines(result):
            print(line, file=sys.stderr)
    else:
        print(md.read_text())
    return 0
