"""`convrec bench load` across LLM engines: every engine's server up at once, levels interleaved."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.load import (
    LLM_TIMEOUT_S,
    SERIAL_NOTE,
    CallLog,
    CountingBackend,
    _finite,
    compare,
    run_level,
    stage,
)

if TYPE_CHECKING:
    from agent import Agent
    from agent.backends.base import LLMBackend
    from agent.settings import Settings


@dataclass
class Engine:
    """One LLM server under test: how to reach it and what it reports."""

    name: str
    url: str
    model: str | None = None
    metrics: Callable[[], dict[str, float]] | None = None
    servers: dict[str, Any] = field(default_factory=dict)
    setup_s: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def run_engines(agents: Sequence[Agent], backends: Sequence[CountingBackend],
                engines: Sequence[Engine], levels: Sequence[int], turns: int, calls: CallLog,
                make_backend: Callable[[Engine], LLMBackend], warmup: int = 1,
                show: bool = False, warm_sessions: int = 1) -> dict[str, dict[str, Any]]:
    """Load every engine at every level with the same agents, interleaved.

    The agents' counting backends are pointed at one engine at a time (`backends[i].inner`).
    Level by level, every engine runs once, in alternating order (A, B at one level, B, A at
    the next), so that a change in the machine's load during the run falls on both engines
    alike instead of on whichever ran second. Each engine first gets `warmup` unmeasured turns
    in `warm_sessions` concurrent sessions; every engine's sessions belong to its own users.

    Returns:
        {engine name: {"warmup_s", "levels": [run_level(...) per level]}}.
    """
    def point_at(engine: Engine) -> None:
        for backend in backends:
            backend.inner = make_backend(engine)

    out: dict[str, dict[str, Any]] = {e.name: {"levels": [], "warmup_s": 0.0} for e in engines}
    for engine in engines:
        point_at(engine)
        start = time.perf_counter()
        if warmup:
            # As many sessions as the server has slots, so that every slot holds the shared
            # prompt prefixes before the measured levels (the steady state of a running server).
            width = min(warm_sessions, len(agents))
            stage(f"{engine.name}: warm-up, {width} session(s) x {warmup} turn(s)", show)
            run_level(agents[:width], warmup, None, None, tag=f"warmup-{engine.name}")
        out[engine.name]["warmup_s"] = time.perf_counter() - start
    for k, n in enumerate(levels):
        for engine in (engines if k % 2 == 0 else list(reversed(engines))):
            point_at(engine)
            stage(f"{engine.name}: {n} concurrent session(s) x {turns} turn(s)", show)
            level = run_level(agents[:n], turns, calls, engine.metrics, tag=f"load-{engine.name}")
            level["loadavg_after"] = list(os.getloadavg())
            stage(f"{engine.name}: {n} session(s): {level['turns_per_s']:.3f} turns/s, "
                  f"p95 {level['latency_s']['p95']:.2f} s", show)
            out[engine.name]["levels"].append(level)
    return out


def default_slots(settings: Settings) -> int:
    """The slots `convrec serve llm` would give llama-server on this machine."""
    from convrec.serve import machine_plan

    return machine_plan(settings.n_ctx, gpu=settings.n_gpu_layers != 0).slots


def start_engine(name: str, settings: Settings, model_file: Path, work: Path,
                 stack: contextlib.ExitStack, slots: int, show: bool) -> Engine:
    """Start one engine's LLM server on loopback (stopped when `stack` closes).

    Raises:
        UserFacingError: when the server cannot be started.
    """
    from benchmarks.servers import llama_metrics, start_llama, start_llama_server
    from catalog.measure import cpu_cores

    # The same thread count for every engine (llama-cpp-python's server would otherwise take
    # half the cores and llama-server all of them: not the same machine).
    threads = settings.n_threads or cpu_cores()
    t = time.perf_counter()
    if name == "llama-cpp-python":
        stage(f"starting llama-cpp-python's server with {model_file.name}", show)
        server = stack.enter_context(start_llama(
            model_file, work / "llama-cpp-python.log", n_ctx=settings.n_ctx,
            n_threads=threads, n_gpu_layers=settings.n_gpu_layers, seed=settings.seed))
        engine = Engine(name, server.url, notes=[SERIAL_NOTE])
    else:
        stage(f"starting llama-server ({slots} slots x {settings.n_ctx} tokens) with "
              f"{model_file.name}", show)
        server = stack.enter_context(start_llama_server(
            model_file, work / "llama-server.log", slots=slots, ctx_per_slot=settings.n_ctx,
            n_threads=threads, n_gpu_layers=settings.n_gpu_layers,
            seed=settings.seed, cache=settings.resolved_cache_dir()))
        url = server.url
        engine = Engine(name, url, metrics=lambda: llama_metrics(url))
        engine.servers.update(slots=slots, ctx_per_slot=settings.n_ctx)
    engine.servers.update(engine=name, llm_url=server.url, llm_started=True, threads=threads,
                          command=" ".join(map(str, server.process.args)))  # type: ignore[arg-type]
    engine.setup_s["llm_server_start_s"] = time.perf_counter() - t
    return engine


def run_load_bench(settings: Settings, levels: Sequence[int], turns: int, *,
                   engines: Sequence[str] = ("llama-cpp-python",), slots: int | None = None,
                   warmup: int = 1, llm_timeout: float = LLM_TIMEOUT_S,
                   store_path: Path | None = None, show: bool = True) -> dict[str, Any]:
    """Start (or connect to) the LLM server of each engine and one Chroma server, and load them
    with the same sessions.

    Scale-out setup: every session gets its own `Agent` (own HTTP backend, own Chroma client, own
    tools, own session-store connection) in its own thread, and all of them share one LLM server
    (`backend=http`) and one Chroma server (`store_url`). Each level starts its sessions together
    and runs a fixed short scripted conversation in each; a turn's latency is the wall time of
    `Session.send`, queueing at the servers included. All engines' servers are up at once (an
    idle one uses no CPU) and the levels are interleaved across them (see `run_engines`), so
    that each engine meets the same machine.

    Engines:
    - `llama-server`: llama.cpp's own server (`scripts/build_llama_server.sh`, the llama.cpp
      that llama-cpp-python 0.3.36 vendors) with `slots` parallel slots (default: the
      machine's `convrec serve llm` plan: 2 per core on a CPU, where more slots each recompute
      the shared prompt prefixes, 16 on a GPU) of `n_ctx` tokens each, continuous batching, and a host-memory
      prompt cache; its `/metrics` counters are reported per level.
    - `llama-cpp-python`: `python -m llama_cpp.server` (0.3.36), one model instance behind a lock:
      requests queue, no parallel decoding; `--interrupt_requests False`, since by default it cuts
      a streamed reply short whenever another request arrives.

    The sessions run in threads of one process, so client-side Python work (understanding parse,
    linking, tool scoring) shares one interpreter lock; it is milliseconds per turn against seconds
    of LLM time.

    `settings.llm_url` / `settings.store_url`, when set, name running servers to use (then
    `engines` is ignored and the one engine is reported as `external`); otherwise this starts
    the servers with `settings.model` (and its n_ctx, n_threads, n_gpu_layers, seed) and `chroma
    run` (persisting to `store_path`, default a temporary folder), and stops them at the end.
    The catalog's vector index is built into the Chroma server when it is missing there.
    Sessions go to `settings.sessions_url` (Postgres) when set, else to a temporary SQLite file.

    Raises:
        UserFacingError: when a server cannot be started or reached, or the model is missing.
    """
    from agent import Agent
    from agent.backends.http import HttpBackend
    from agent.model_files import resolve_model_path
    from benchmarks.servers import start_chroma
    from catalog.loading import load_catalog
    from tools.base import ToolResources
    from tools.engines.chroma_store import fill_collection, open_collection

    cache = settings.resolved_cache_dir()
    load_before = os.getloadavg()
    setup: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="convrec-bench-load-"))
        stack.callback(shutil.rmtree, work, True)
        t = time.perf_counter()
        catalog = load_catalog(settings.catalog, cache, settings.data_dir)
        setup["catalog_s"] = time.perf_counter() - t
        store_url = settings.store_url
        if not store_url:
            t = time.perf_counter()
            stage("starting the Chroma server", show)
            chroma = stack.enter_context(start_chroma(store_path or work / "chroma",
                                                      work / "chroma.log"))
            store_url = chroma.url
            setup["store_server_start_s"] = time.perf_counter() - t
        t = time.perf_counter()
        resources = ToolResources(catalog=catalog, cache_dir=cache, store_url=store_url,
                                  show_progress=show)
        stage(f"vector index in the Chroma server at {store_url}", show)
        added = fill_collection(open_collection(resources), resources)
        setup["index_build_s"] = time.perf_counter() - t
        model_file = None if settings.llm_url else resolve_model_path(settings.model, cache)
        model_label = settings.model if "model" in settings.model_fields_set else None
        started: list[Engine] = []
        if model_file is None:
            assert settings.llm_url is not None
            started.append(Engine("external", settings.llm_url, model=model_label,
                                  servers={"engine": "external", "llm_url": settings.llm_url,
                                           "llm_started": False}))
        else:
            for name in engines:
                started.append(start_engine(name, settings, model_file, work, stack,
                                            slots or default_slots(settings), show))
        agent_settings = settings.model_copy(update={
            "backend": "http", "llm_url": started[0].url, "store_url": store_url,
            "sessions_db": work / "sessions.sqlite3"})
        calls = CallLog()
        backends: list[CountingBackend] = []

        def make_backend(engine: Engine) -> LLMBackend:
            return HttpBackend(engine.url, model=engine.model, timeout=llm_timeout,
                               seed=settings.seed)

        t = time.perf_counter()
        stage(f"building {max(levels)} agent(s)", show)
        agents = []
        for _ in range(max(levels)):
            backends.append(CountingBackend(make_backend(started[0]), calls))
            agents.append(Agent.from_settings(agent_settings, backend=backends[-1],
                                              catalog=catalog))
        setup["agents_s"] = time.perf_counter() - t
        runs = run_engines(agents, backends, started, levels, turns, calls, make_backend,
                           warmup, show, warm_sessions=slots or default_slots(settings))
    results = {e.name: {"servers": {**e.servers, "store_url": store_url,
                                    "index_items_added": added},
                        "setup_s": {**e.setup_s, "warmup_s": runs[e.name]["warmup_s"]},
                        "levels": runs[e.name]["levels"], "notes": e.notes} for e in started}
    baseline = "llama-cpp-python" if "llama-cpp-python" in results else list(results)[-1]
    return _finite({
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "loadavg_before": list(load_before),
                    "loadavg_after": list(os.getloadavg())},
        "settings": {"model": model_file.name if model_file else (model_label or
                                                                 "server default"),
                     "n_ctx": settings.n_ctx, "n_threads": settings.n_threads,
                     "n_gpu_layers": settings.n_gpu_layers, "catalog": settings.catalog,
                     "n_recommendations": settings.n_recommendations,
                     "justify_with_llm": settings.justify_with_llm,
                     "llm_justified": settings.llm_justified,
                     "llm_questions": settings.llm_questions,
                     "sessions_store": "postgres" if settings.sessions_url else "sqlite"},
        "turns_per_session": turns,
        "schedule": "levels interleaved across engines, order alternating per level",
        "setup_s": setup,
        "engines": results,
        "baseline": baseline,
        "comparison": compare(results, baseline),
    })
