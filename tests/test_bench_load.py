"""`convrec bench load` logic at 1 and 2 sessions against a fake serial OpenAI-compatible server."""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agent import Agent, Settings
from agent.backends import BackendError, HttpBackend
from agent.testing import keyword_responder
from benchmarks.load import (
    CONVERSATIONS,
    CallLog,
    CountingBackend,
    compare,
    metrics_delta,
    parse_engines,
    parse_sessions,
    parse_turns,
    run_load,
    write_load_report,
)
from benchmarks.servers import free_port
from catalog import Catalog
from convrec.cli import build_parser

LEVEL_KEYS = {"sessions", "turns_planned", "turns_completed", "failed_turns", "errors", "wall_s",
              "turns_per_s", "latency_s", "by_kind", "llm_calls", "llm_failures"}


class SerialLLM(BaseHTTPRequestHandler):
    """A fake llama.cpp server: keyword answers, one request at a time (like its model lock)."""

    responder: Any = None
    lock = threading.Lock()
    requests = 0

    def log_message(self, *args: Any) -> None:
        """Keep test output quiet."""

    def _send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._send({"data": [{"id": "fake-serial"}]})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        with cls.lock:
            cls.requests += 1
            schema = (body.get("response_format") or {}).get("schema")
            text = cls.responder(body["messages"], schema)
        self._send({"choices": [{"message": {"content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split())}})



@pytest.fixture
def serial_llm(ml100k: Catalog) -> Iterator[str]:
    """The fake server on a free loopback port, answering like the keyword test responder."""
    SerialLLM.responder = keyword_responder(ml100k)
    SerialLLM.requests = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), SerialLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_load_levels_report(serial_llm: str, ml100k: Catalog, real_home: Path,
                            tmp_path: Path) -> None:
    calls = CallLog()
    settings = Settings(backend="http", llm_url=serial_llm, cache_dir=real_home,
                        sessions_db=tmp_path / "sessions.sqlite3")
    agents: list[Agent] = []

    def make_agent(index: int) -> Agent:
        # CF and KG only: the vector tool would open the real cache's local Chroma store
        agent = Agent.from_settings(settings, catalog=ml100k,
                                    backend=CountingBackend(HttpBackend(serial_llm), calls),
                                    tool_names=["cf_scoring", "kg_expansion"])
        agents.append(agent)
        return agent

    run = run_load(make_agent, [1, 2], turns=2, calls=calls, warmup=1)
    assert len(agents) == 2  # made once, reused by the next level
    assert [level["sessions"] for level in run["levels"]] == [1, 2]
    for level in run["levels"]:
        assert set(level) == LEVEL_KEYS
        n = level["sessions"]
        assert level["turns_planned"] == level["turns_completed"] == 2 * n
        assert level["failed_turns"] == level["llm_failures"] == 0 and not level["errors"]
        assert level["llm_calls"] >= 2 * n  # at least the understanding call of every turn
        assert level["turns_per_s"] > 0 and level["wall_s"] > 0
        assert level["latency_s"]["n"] == 2 * n
        assert 0 < level["latency_s"]["p50"] <= level["latency_s"]["p95"] <= level["latency_s"]["max"]
        assert sum(s["n"] for s in level["by_kind"].values()) == 2 * n
    assert SerialLLM.requests == calls.calls > 0

    # no cross-talk: every saved session holds only its own script's titles
    store = agents[0].store
    liked = {}
    for info in store.list_sessions():
        if info["user_id"].startswith("load-2-"):
            state = store.load(info["id"])[1]
            liked[info["user_id"]] = {i["item_id"] for i in state["profile"]["liked_items"]}
    assert liked == {"load-2-0": {"183", "50"}, "load-2-1": {"1", "95"}}, liked

    result = {"settings": {"model": "fake-serial"}, "turns_per_session": 2, **run}
    md = write_load_report(result, tmp_path / "report")
    assert json.loads((tmp_path / "report" / "bench-load.json").read_text()) == result
    text = md.read_text()
    assert md.name == "bench-load.md" and "| sessions | turns | failed turns |" in text
    assert "\n| 1 | 2/2 | 0 |" in text and "\n| 2 | 4/4 | 0 |" in text


def test_counting_backend_counts_failures() -> None:
    calls = CallLog()
    backend = CountingBackend(HttpBackend(f"http://127.0.0.1:{free_port()}", model="m",
                                          timeout=2), calls)
    with pytest.raises(BackendError):
        backend.chat([{"role": "user", "content": "hi"}], max_tokens=4)
    assert calls.snapshot() == (1, 1)


def test_parse_levels_and_cli() -> None:
    assert parse_sessions("16,1,4,4") == [1, 4, 16]
    for bad in ("0,2", "a", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_sessions(bad)
    assert parse_turns("2") == 2
    with pytest.raises(argparse.ArgumentTypeError):
        parse_turns(str(len(CONVERSATIONS[0]) + 1))
    args = build_parser().parse_args(["bench", "load", "--sessions", "1,4", "--turns", "1",
                                      "--llm-url", "http://127.0.0.1:1", "--json"])
    assert (args.sessions, args.turns, args.json, args.llm_url) == ([1, 4], 1, True,
                                                                    "http://127.0.0.1:1")
    assert args.handler.__name__ == "_load"
    assert args.engines == ["llama-cpp-python"]  # the default
    args = build_parser().parse_args(["bench", "load", "--engines",
                                      "llama-server,llama-cpp-python", "--slots", "8"])
    assert (args.engines, args.slots) == (["llama-server", "llama-cpp-python"], 8)
    assert parse_engines("llama-server,llama-server") == ["llama-server"]
    with pytest.raises(argparse.ArgumentTypeError, match="choose from"):
        parse_engines("vllm")


def _level(n: int, tps: float, p50: float) -> dict[str, Any]:
    return {"sessions": n, "turns_planned": 2 * n, "turns_completed": 2 * n, "failed_turns": 0,
            "errors": [], "wall_s": 2 * n / tps, "turns_per_s": tps,
            "latency_s": {"n": 2 * n, "p50": p50, "p95": 2 * p50, "mean": p50, "max": 3 * p50},
            "by_kind": {}, "llm_calls": 4 * n, "llm_failures": 0}


def test_engines_compared_in_one_report(tmp_path: Path) -> None:
    fast = [_level(1, 0.1, 9.0), _level(16, 0.4, 30.0)]
    fast[1]["server"] = metrics_delta(
        {"n_decode_total": 100, "n_busy_slots_per_decode": 1.0, "prompt_tokens_total": 50},
        {"n_decode_total": 300, "n_busy_slots_per_decode": 3.0, "prompt_tokens_total": 850,
         "prompt_tokens_cached_total": 400, "tokens_predicted_total": 900})
    assert fast[1]["server"]["busy_slots_per_pass"] == (900 - 100) / 200  # = 4 in that window
    assert fast[1]["server"]["prompt_tokens"] == 800
    slow = [_level(1, 0.08, 10.0), _level(16, 0.13, 98.0)]
    engines = {"llama-server": {"servers": {}, "levels": fast, "notes": []},
               "llama-cpp-python": {"servers": {}, "levels": slow, "notes": ["serial"]}}
    rows = compare(engines, "llama-cpp-python")
    assert [r["sessions"] for r in rows] == [1, 16]
    assert rows[1]["ratio"] == {"llama-server": pytest.approx(0.4 / 0.13)}
    result = {"settings": {}, "turns_per_session": 2, "engines": engines,
              "baseline": "llama-cpp-python", "comparison": rows}
    text = write_load_report(result, tmp_path).read_text()
    assert "| llama-server / llama-cpp-python turns/s |" in text
    assert "| 16 | 0.400 | 30.00 | 60.00 | 0.130 | 98.00 | 196.00 | 3.08x |" in text
    assert "## llama-server" in text and "## llama-cpp-python" in text
    assert "| 16 | 800 | 400 | 900 |" in text and "note: serial" in text


def test_engines_are_interleaved_level_by_level(ml100k: Catalog, real_home: Path,
                                                tmp_path: Path) -> None:
    """Two fake servers stand for two engines: both see every level, in alternating order."""
    from benchmarks.load_engines import Engine, run_engines

    order: list[str] = []
    servers = []
    for name in ("a", "b"):
        handler = type(f"Serial{name}", (SerialLLM,), {"lock": threading.Lock(), "requests": 0,
                                                        "responder": keyword_responder(ml100k)})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, handler))
    engines = [Engine(name, f"http://127.0.0.1:{server.server_address[1]}", model="fake",
                      metrics=lambda name=name: order.append(name) or {})
               for name, (server, _) in zip(("a", "b"), servers, strict=True)]
    calls = CallLog()
    settings = Settings(backend="http", llm_url=engines[0].url, cache_dir=real_home,
                        sessions_db=tmp_path / "sessions.sqlite3")
    backends = [CountingBackend(HttpBackend(engines[0].url, model="fake"), calls)
                for _ in range(2)]
    agents = [Agent.from_settings(settings, catalog=ml100k, backend=b,
                                  tool_names=["cf_scoring", "kg_expansion"]) for b in backends]
    try:
        runs = run_engines(agents, backends, engines, [1, 2], 1, calls,
                           lambda e: HttpBackend(e.url, model="fake"), warmup=1,
                           warm_sessions=2)
    finally:
        for server, _ in servers:
            server.shutdown()
            server.server_close()
    assert order == ["a", "a", "b", "b", "b", "b", "a", "a"]  # before/after each level: A B, B A
    for name in ("a", "b"):
        assert [lv["sessions"] for lv in runs[name]["levels"]] == [1, 2]
        assert all(lv["turns_completed"] == lv["sessions"] for lv in runs[name]["levels"])
        assert "loadavg_after" in runs[name]["levels"][0] and runs[name]["warmup_s"] > 0
    assert all(handler.requests > 0 for _, handler in servers)
    # each engine's sessions (warm-up: as many as asked, together) belong to its own users,
    # so that no engine meets a user another engine's turns taught (user memory)
    users = {s["user_id"] for s in agents[0].store.list_sessions()}
    for name in ("a", "b"):
        assert {f"warmup-{name}-2-0", f"warmup-{name}-2-1", f"load-{name}-1-0",
                f"load-{name}-2-0", f"load-{name}-2-1"} <= users
