"""`convrec bench load`: turns/s and turn latency of N concurrent sessions sharing one LLM server."""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.load_report import REPORT_NAME, write_load_report
from benchmarks.stats import summary

__all__ = ["REPORT_NAME", "CallLog", "CountingBackend", "parse_engines", "parse_sessions",
           "parse_turns", "run_level", "run_load", "write_load_report"]

if TYPE_CHECKING:  # the CLI imports this module to build its parser: keep that import light
    from agent import Agent
    from agent.backends.base import Completion, LLMBackend, Message

CONVERSATIONS: list[list[str]] = [
    ["I loved Alien and Star Wars. Recommend some sci-fi, but nothing with horror.",
     "Show me more.",
     "Something from the 1980s, please."],
    ["I really liked Toy Story and Aladdin. Show me animated comedies.",
     "Show me more.",
     "Only movies from the 1990s, please."],
    ["I'm in the mood for a crime drama like The Godfather.",
     "Show me more.",
     "Nothing older than 1970, please."],
    ["Hi, I'm looking for a movie to watch tonight.",
     "I really liked Raiders of the Lost Ark.",
     "Show me what you have."],
]
"""The scripted conversations; session i plays CONVERSATIONS[i % 4], cut to `--turns`."""
MAX_TURNS = min(len(c) for c in CONVERSATIONS)
LLM_TIMEOUT_S = 900.0
SERIAL_NOTE = ("llama-cpp-python's server answers one request at a time (no parallel slots): "
               "concurrent sessions queue at the server; throughput gains over 1 session come "
               "from overlapped client work and reused prompt prefixes, not parallel decoding.")
ENGINES = ("llama-server", "llama-cpp-python")


def parse_sessions(text: str) -> list[int]:
    """Concurrency levels from '1,4,16' (sorted, de-duplicated, each at least 1)."""
    try:
        levels = {int(part) for part in text.split(",") if part.strip()}
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of session counts: {text!r}") from exc
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"session counts must be 1 or more: {text!r}")
    return sorted(levels)


def parse_turns(text: str) -> int:
    """Turns per session: 1 to MAX_TURNS."""
    value = int(text)
    if not 1 <= value <= MAX_TURNS:
        raise argparse.ArgumentTypeError(f"--turns must be 1 to {MAX_TURNS}, got {value}")
    return value


def stage(message: str, show: bool) -> None:
    """Print a stage line to stderr (stdout stays free for the report or JSON)."""
    if show:
        print(f"[bench load] {message}", file=sys.stderr, flush=True)


@dataclass
class CallLog:
    """LLM calls and failed calls of every session, counted across threads."""

    calls: int = 0
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, failed: bool) -> None:
        """Count one call."""
        with self._lock:
            self.calls += 1
            self.failures += failed

    def snapshot(self) -> tuple[int, int]:
        """(calls, failures) so far."""
        with self._lock:
            return self.calls, self.failures


class CountingBackend:
    """An `LLMBackend` wrapper that counts calls and failures in a shared `CallLog`.

    The agent falls back to templates when a call fails, so a timed-out server would otherwise
    show up as fast turns instead of errors.
    """

    def __init__(self, inner: LLMBackend, log: CallLog) -> None:
        self.inner = inner
        self.log = log
        self.name = f"counting:{inner.name}"

    def chat(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0,
             json_schema: dict[str, Any] | None = None, stop: list[str] | None = None,
             on_token: Callable[[str], None] | None = None) -> Completion:
        """Forward the call (see `LLMBackend.chat`) and count it."""
        try:
            completion = self.inner.chat(messages, max_tokens=max_tokens, temperature=temperature,
                                         json_schema=json_schema, stop=stop, on_token=on_token)
        except Exception:
            self.log.record(failed=True)
            raise
        self.log.record(failed=False)
        return completion


@dataclass
class TurnRecord:
    """One completed turn of one session."""

    session: int
    turn: int
    kind: str
    seconds: float
    llm_calls: int


def _finite(value: Any) -> Any:
    """NaN becomes None, recursively, so that the result is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def run_level(agents: Sequence[Agent], turns: int, calls: CallLog | None = None,
              server_metrics: Callable[[], dict[str, float]] | None = None,
              tag: str = "load") -> dict[str, Any]:
    """Run one fresh session per agent, all started together, and summarise the level.

    Users are `<tag>-<level>-<i>`: a run that compares engines tags each engine's levels apart,
    so that no engine meets a user whom another engine's turns already taught (user memory).

    Session i plays `CONVERSATIONS[i % len(CONVERSATIONS)][:turns]`. A turn that raises ends its
    session and is counted in `failed_turns`; LLM calls that failed (and fell back) are counted
    in `llm_failures` when the agents' backends report to `calls`. With `server_metrics` (the
    LLM server's counters), the level also reports what the server did (`server`).
    """
    n = len(agents)
    barrier = threading.Barrier(n + 1)
    lock = threading.Lock()
    records: list[TurnRecord] = []
    errors: list[str] = []

    def play(index: int) -> None:
        session = agents[index].session(user_id=f"{tag}-{n}-{index}")
        script = CONVERSATIONS[index % len(CONVERSATIONS)][:turns]
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return
        for turn, text in enumerate(script, start=1):
            start = time.perf_counter()
            try:
                reply = session.send(text)
            except Exception as exc:  # noqa: BLE001 - a failed turn is a result, not a crash
                with lock:
                    errors.append(f"session {index} turn {turn}: {type(exc).__name__}: {exc}")
                return
            record = TurnRecord(index, turn, reply.kind, time.perf_counter() - start,
                                len(reply.llm_calls))
            with lock:
                records.append(record)

    threads = [threading.Thread(target=play, args=(i,), name=f"load-{n}-{i}", daemon=True)
               for i in range(n)]
    for thread in threads:
        thread.start()
    before = calls.snapshot() if calls else (0, 0)
    counters_before = server_metrics() if server_metrics else {}
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    after = calls.snapshot() if calls else (0, 0)
    counters_after = server_metrics() if server_metrics else {}
    seconds = [r.seconds for r in records]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for r in records:
        by_kind[r.kind].append(r.seconds)
    level: dict[str, Any] = {
        "sessions": n,
        "turns_planned": n * turns,
        "turns_completed": len(records),
        "failed_turns": len(errors),
        "errors": errors[:5],
        "wall_s": wall,
        "turns_per_s": len(records) / wall if wall > 0 else math.nan,
        "latency_s": summary(seconds),
        "by_kind": {kind: summary(v) for kind, v in sorted(by_kind.items())},
        "llm_calls": after[0] - before[0] if calls else sum(r.llm_calls for r in records),
        "llm_failures": after[1] - before[1],
    }
    if server_metrics:
        level["server"] = metrics_delta(counters_before, counters_after)
    return level


def run_load(make_agent: Callable[[int], Agent], levels: Sequence[int], turns: int,
             calls: CallLog | None = None, warmup: int = 1, show: bool = False,
             server_metrics: Callable[[], dict[str, float]] | None = None) -> dict[str, Any]:
    """Run every concurrency level; agents are made once (`make_agent(i)`) and reused.

    Each level plays fresh sessions. `warmup` turns of the first conversation run first, in
    a session of their own, and are not measured (they load the model's pages, the embedder).

    Returns:
        `{"agents_s", "warmup_s", "levels": [run_level(...) per level]}`.
    """
    agents: list[Agent] = []
    start = time.perf_counter()
    needed = max(levels)
    stage(f"building {needed} agent(s)", show)
    while len(agents) < needed:
        agents.append(make_agent(len(agents)))
    agents_s = time.perf_counter() - start
    start = time.perf_counter()
    if warmup:
        stage(f"warm-up: {warmup} turn(s)", show)
        session = agents[0].session(user_id="load-warmup")
        for text in CONVERSATIONS[0][:warmup]:
            session.send(text)
    warmup_s = time.perf_counter() - start
    results = []
    for n in levels:
        stage(f"{n} concurrent session(s) x {turns} turn(s)", show)
        level = run_level(agents[:n], turns, calls, server_metrics)
        stage(f"{n} session(s): {level['turns_per_s']:.3f} turns/s, "
              f"p95 {level['latency_s']['p95']:.2f} s", show)
        results.append(level)
    return {"agents_s": agents_s, "warmup_s": warmup_s, "levels": results}


def metrics_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What llama-server did between two `/metrics` scrapes (its counters are cumulative)."""
    def diff(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    passes = diff("n_decode_total")
    busy = (after.get("n_busy_slots_per_decode", 0.0) * after.get("n_decode_total", 0.0)
            - before.get("n_busy_slots_per_decode", 0.0) * before.get("n_decode_total", 0.0))
    return {"prompt_tokens": diff("prompt_tokens_total"),
            "prompt_tokens_cached": diff("prompt_tokens_cached_total"),
            "tokens_predicted": diff("tokens_predicted_total"), "decode_passes": passes,
            "busy_slots_per_pass": busy / passes if passes > 0 else math.nan,
            "requests_deferred_now": after.get("requests_deferred", 0.0)}


def parse_engines(text: str) -> list[str]:
    """LLM server engines from 'llama-server,llama-cpp-python' (order kept, each once)."""
    engines: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if part not in ENGINES:
            raise argparse.ArgumentTypeError(f"unknown engine {part!r}; choose from "
                                             f"{', '.join(ENGINES)}")
        if part not in engines:
            engines.append(part)
    if not engines:
        raise argparse.ArgumentTypeError("no engine given")
    return engines


def compare(engines: dict[str, dict[str, Any]], baseline: str) -> list[dict[str, Any]]:
    """Per level: every engine's turns/s, p50 and p95, and its throughput ratio to `baseline`."""
    rows = []
    levels = sorted({lv["sessions"] for run in engines.values() for lv in run["levels"]})
    for n in levels:
        row: dict[str, Any] = {"sessions": n, "ratio": {}}
        for name, run in engines.items():
            level = next((lv for lv in run["levels"] if lv["sessions"] == n), None)
            row[name] = {"turns_per_s": level["turns_per_s"] if level else math.nan,
                         "p50": level["latency_s"]["p50"] if level else math.nan,
                         "p95": level["latency_s"]["p95"] if level else math.nan}
        base = row.get(baseline, {}).get("turns_per_s", math.nan)
        for name in engines:
            if name != baseline and base and not math.isnan(base):
                row["ratio"][name] = row[name]["turns_per_s"] / base
        rows.append(row)
    return rows


def add_load_command(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                     common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `bench load`."""
    p = sub.add_parser("load", help="turns/s and p50/p95 latency of concurrent sessions sharing "
                       "one LLM server and one Chroma server, per LLM engine")
    common(p)
    p.add_argument("--engines", type=parse_engines, default=["llama-cpp-python"],
                   help="LLM servers to start and compare, one after the other: "
                   f"{','.join(ENGINES)} (default llama-cpp-python; ignored with --llm-url)")
    p.add_argument("--sessions", type=parse_sessions, default=[1, 4, 16],
                   help="concurrency levels, e.g. 1,4,16 (default)")
    p.add_argument("--turns", type=parse_turns, default=2,
                   help=f"scripted turns per session, 1 to {MAX_TURNS} (default 2)")
    p.add_argument("--slots", type=int, help="llama-server parallel slots (default: what "
                   "`convrec serve llm` picks for this machine: 2 per core on a CPU, 16 on a GPU)")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured turns first (default 1)")
    p.add_argument("--llm-timeout", type=float, default=LLM_TIMEOUT_S,
                   help="seconds a session waits for the LLM server's reply, queueing included")
    p.add_argument("--store-path", type=Path,
                   help="persistence folder of the started Chroma server (default: temporary; "
                   "give one to keep the vector index between runs)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--report", type=Path, default=Path("reports/bench"),
                   help="folder for bench-load.md and bench-load.json")
    p.add_argument("--no-progress", action="store_true", help="no progress bars or stage lines")
    p.set_defaults(handler=_load)


def _load(args: argparse.Namespace) -> int:
    """Run the benchmark, write the report, print Markdown or JSON."""
    import json

    from agent.settings_flags import settings_from_args
    from benchmarks.load_engines import run_load_bench

    result = run_load_bench(settings_from_args(args), args.sessions, args.turns,
                            engines=args.engines, slots=args.slots, warmup=args.warmup,
                            llm_timeout=args.llm_timeout, store_path=args.store_path,
                            show=not args.no_progress)
    md = write_load_report(result, args.report)
    print(json.dumps(result, indent=2) if args.json else md.read_text())
    return 0
