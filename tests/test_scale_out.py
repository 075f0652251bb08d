"""Scale-out: agent processes sharing one LLM server, one Chroma server and one session store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from test_backends import BackendContract, real_default_model
from test_real_model_dialogues import assert_structure

from agent import Reply
from agent.backends import HttpBackend, LLMBackend
from agent.store import open_store
from benchmarks.servers import (
    ManagedServer,
    ServerStartError,
    llama_metrics,
    start_chroma,
    start_llama,
    start_llama_server,
)
from catalog import Catalog
from catalog.errors import UserFacingError
from convrec.serve import (
    BUILD_SCRIPT,
    LlamaServerMissing,
    ServePlan,
    build_llama_server,
    find_llama_server,
    llama_server_argv,
    machine_plan,
)
from tools.base import ToolResources
from tools.engines.chroma_store import collection_name, drop_collection, open_collection

REPO = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 900
WORKER_READY_S = 300
CONVERSATION_TIMEOUT_S = 1200
ALICE = "I loved Alien and Star Wars. Recommend some sci-fi, but nothing with horror."
BOB = "I really liked Toy Story and Aladdin. Show me animated comedies."
MORE = "Show me more."
ALICE_IDS, BOB_IDS = {"183", "50"}, {"1", "95"}  # ml-100k: Alien, Star Wars / Toy Story, Aladdin

# One agent process: build the Agent, say ready, wait for "go", play its turns, write replies.
WORKER = """
import json, sys, time
from pathlib import Path
from agent import Agent, Settings
from agent.backends.http import HttpBackend

cfg = json.loads(sys.argv[1])
out = Path(cfg["out"])
store = ({"sessions_url": cfg["db"]} if cfg["db"].startswith("postgres")
         else {"sessions_db": Path(cfg["db"])})
settings = Settings(backend="http", llm_url=cfg["llm_url"], store_url=cfg["store_url"],
                    catalog="ml-100k", cache_dir=Path(cfg["home"]), n_recommendations=3, **store)
agent = Agent.from_settings(settings, backend=HttpBackend(cfg["llm_url"], timeout=900, seed=0))
(out / "ready.json").write_text(json.dumps({"tools": sorted(agent.tools),
                                            "failed": agent.failed_tools}))
while not Path(cfg["go"]).exists():
    time.sleep(0.05)
session = agent.session(cfg["user"])
turns = []
for text in cfg["turns"]:
    start = time.time()
    reply = session.send(text)
    turns.append({"start": start, "end": time.time(), "reply": reply.model_dump(mode="json")})
(out / "result.json").write_text(json.dumps({"session_id": session.id, "turns": turns}))
"""


def server_or_fail(start: Any, *args: Any, **kwargs: Any) -> ManagedServer:
    """Start a server; a failure fails the test with the server's own words."""
    try:
        return start(*args, **kwargs)
    except ServerStartError as exc:
        pytest.fail(exc.one_line(), pytrace=False)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedServer]:
    """`chroma run` on a free loopback port, always stopped at the end of the module."""
    folder = tmp_path_factory.mktemp("chroma-server")
    with server_or_fail(start_chroma, folder / "db", folder / "chroma.log") as server:
        yield server


@pytest.fixture(scope="module")
def llm_server(real_home: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[ManagedServer]:
    """`python -m llama_cpp.server` with the default model, always stopped at the end."""
    model = real_default_model(real_home)
    log = tmp_path_factory.mktemp("llama-server") / "llama.log"
    with server_or_fail(start_llama, model, log, n_ctx=2048, n_threads=2) as server:
        yield server


@pytest.fixture(scope="module")
def llama_server_binary(real_home: Path) -> Path:
    """The cached llama-server build; built here when missing (first time: tens of minutes on
    2 cores, then cached under the real cache's bin/)."""
    found = find_llama_server(real_home, cuda=False)
    if found is not None:
        return found
    try:
        return build_llama_server(real_home, show=True)
    except LlamaServerMissing as exc:
        pytest.fail(exc.one_line(), pytrace=False)


@pytest.fixture(scope="module")
def llama_cpp_server(real_home: Path, llama_server_binary: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedServer]:
    """llama.cpp's `llama-server` with the default model, 2 parallel slots of 2048 tokens."""
    model = real_default_model(real_home)
    log = tmp_path_factory.mktemp("llama-server-native") / "llama-server.log"
    with server_or_fail(start_llama_server, model, log, slots=2, ctx_per_slot=2048,
                        n_threads=2, binary=llama_server_binary) as server:
        yield server


@pytest.fixture(scope="module")
def scale_home(real_home: Path, ml100k: Catalog, chroma_server: ManagedServer,
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh cache whose catalog links to the installed ml-100k (nothing copied), with its
    artifacts built by `convrec build --store-url`: CF and KG locally, the vector index INTO
    the Chroma server."""
    home = tmp_path_factory.mktemp("scale-home")
    (home / "catalogs").mkdir()
    (home / "catalogs" / "ml-100k").symlink_to(real_home / "catalogs" / "ml-100k",
                                               target_is_directory=True)
    build = subprocess.run(
        [sys.executable, "-m", "convrec", "build", "--catalog", "ml-100k", "--cache-dir",
         str(home), "--store-url", chroma_server.url],
        capture_output=True, text=True, cwd=REPO, timeout=BUILD_TIMEOUT_S,
        env={**os.environ, "CONVREC_HOME": str(home)})
    assert build.returncode == 0, build.stderr[-2000:]
    assert not list(home.glob("artifacts/*/chroma")), "the index went to a local store"
    return home


def play_concurrently(configs: list[dict[str, Any]], go: Path) -> list[dict[str, Any]]:
    """Start one worker process per config, release them together, return their results."""
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for cfg in configs:
            out = Path(cfg["out"])
            with (out / "worker.log").open("wb") as log:
                procs.append((subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(cfg)],
                                               cwd=REPO, stdout=log, stderr=subprocess.STDOUT),
                              out))
        deadline = time.monotonic() + WORKER_READY_S
        while not all((out / "ready.json").exists() for _, out in procs):
            for proc, out in procs:
                if proc.poll() is not None:
                    pytest.fail(f"agent worker exited with {proc.returncode} before it was "
                                f"ready:\n{(out / 'worker.log').read_text()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"agent workers not ready after {WORKER_READY_S} s")
            time.sleep(0.1)
        go.touch()
        for proc, out in procs:
            code = proc.wait(timeout=CONVERSATION_TIMEOUT_S)
            assert code == 0, (out / "worker.log").read_text()[-3000:]
        return [{**json.loads((out / "ready.json").read_text()),
                 **json.loads((out / "result.json").read_text())} for _, out in procs]
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def run_two_agents(llm_url: str, chroma_server: ManagedServer, scale_home: Path, db: str,
                   tmp_path: Path, turns: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Alice's and Bob's agent processes, released together, sharing the LLM server, the Chroma
    server and the session store `db` (a SQLite path or a Postgres URL)."""
    configs = []
    for user, text in (("alice", ALICE), ("bob", BOB)):
        out = tmp_path / user
        out.mkdir()
        configs.append({"user": user, "turns": [text, MORE][:turns], "llm_url": llm_url,
                        "store_url": chroma_server.url, "home": str(scale_home), "db": db,
                        "out": str(out), "go": str(tmp_path / "go")})
    alice, bob = play_concurrently(configs, tmp_path / "go")
    for result in (alice, bob):
        assert {"cf_scoring", "kg_expansion", "vector_retrieval"} <= set(result["tools"])
        assert not result["failed"]
    # both conversations were in flight at the same time
    assert max(alice["turns"][0]["start"], bob["turns"][0]["start"]) < \
        min(alice["turns"][-1]["end"], bob["turns"][-1]["end"])
    return alice, bob


def check_conversations(alice: dict[str, Any], bob: dict[str, Any], ml100k: Catalog,
                        db: str) -> dict[str, list[Reply]]:
    """Each conversation is well formed and its own, and the shared store holds exactly the
    turns each process played, under its own user."""
    replies = {name: [Reply.model_validate(t["reply"]) for t in r["turns"]]
               for name, r in (("alice", alice), ("bob", bob))}
    for turns in replies.values():
        for reply in turns:
            assert_structure(reply, ml100k)
        calls = [c for reply in turns for c in reply.llm_calls]  # a failed call falls back
        assert calls, "no LLM call of this conversation was answered"  # and leaves no record
        assert all(c.valid_json is not False for c in calls if c.stage == "understanding")
    a, b = replies["alice"][0], replies["bob"][0]
    assert a.session_id == alice["session_id"] != bob["session_id"] == b.session_id
    a_liked = {i.item_id for i in replies["alice"][-1].profile.liked_items}
    b_liked = {i.item_id for i in replies["bob"][-1].profile.liked_items}
    assert ALICE_IDS <= a_liked, a.profile.liked_items
    assert "1" in b_liked, b.profile.liked_items
    assert not a_liked & BOB_IDS and not b_liked & ALICE_IDS, (a_liked, b_liked)  # no cross-talk
    assert a.kind == "recommendations" and len(a.recommendations) >= 1
    assert all("horror" not in r.genres for t in replies["alice"] for r in t.recommendations)
    assert all(r.evidence for t in replies.values() for reply in t for r in reply.recommendations)

    with open_store(db) as store:
        for name, played in (("alice", alice), ("bob", bob)):
            owner, state = store.load(played["session_id"]) or ("", {})
            assert owner == name
            last = replies[name][-1]
            assert {i["item_id"] for i in state["profile"]["liked_items"]} == \
                {i.item_id for i in last.profile.liked_items}
            stored = store.turns(played["session_id"])
            assert [t["turn"] for t in stored] == [r.turn for r in replies[name]] == \
                list(range(1, len(played["turns"]) + 1))
            assert [t["user"] for t in stored] == [ALICE if name == "alice" else BOB, MORE][
                :len(stored)]
            assert [t["reply"]["text"] for t in stored] == [r.text for r in replies[name]]
            assert [s["id"] for s in store.list_sessions(name)] == [played["session_id"]]
    return replies


def check_chroma_served(replies: dict[str, list[Reply]], chroma_server: ManagedServer,
                        ml100k: Catalog) -> None:
    """The Chroma server holds the index and answered the vector searches."""
    assert any("vector_retrieval" in r.tools_used for t in replies.values() for r in t), \
        [r.tools_used for t in replies.values() for r in t]
    url = urlsplit(chroma_server.url)
    client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                 settings=ChromaSettings(anonymized_telemetry=False))
    assert client.get_collection(collection_name(ml100k)).count() == len(ml100k.items)
    assert "/query" in chroma_server.log_tail(10**7), "no query reached the Chroma server"


@pytest.mark.real_model
@pytest.mark.slow
def test_two_agents_on_llama_server_and_postgres(
        llama_cpp_server: ManagedServer, chroma_server: ManagedServer, scale_home: Path,
        ml100k: Catalog, postgres_db_url: str, tmp_path: Path) -> None:
    """The scale-out topology: two agent processes, one llama-server (2 parallel slots), one
    Chroma server, one Postgres, all on loopback; two turns each."""
    before = llama_metrics(llama_cpp_server.url)
    alice, bob = run_two_agents(llama_cpp_server.url, chroma_server, scale_home,
                                postgres_db_url, tmp_path, turns=2)
    replies = check_conversations(alice, bob, ml100k, postgres_db_url)
    check_chroma_served(replies, chroma_server, ml100k)
    after = llama_metrics(llama_cpp_server.url)
    assert after["n_decode_total"] > before.get("n_decode_total", 0)  # this server answered
    assert after["tokens_predicted_total"] > before.get("tokens_predicted_total", 0)


@pytest.mark.real_model
@pytest.mark.slow
def test_two_agents_share_llm_and_chroma_servers(
        llm_server: ManagedServer, chroma_server: ManagedServer, scale_home: Path,
        ml100k: Catalog, tmp_path: Path) -> None:
    """The same with llama-cpp-python's server and one SQLite file (as on a shared volume)."""
    db = str(tmp_path / "sessions.sqlite3")
    alice, bob = run_two_agents(llm_server.url, chroma_server, scale_home, db, tmp_path,
                                turns=1)
    replies = check_conversations(alice, bob, ml100k, db)
    check_chroma_served(replies, chroma_server, ml100k)


@pytest.mark.real_model
class TestLlamaServerContract(BackendContract):
    """The HTTP backend against llama-server: streaming (with usage), `response_format`
    json_object + schema (compiled to a grammar), finish_reason, max_tokens."""

    real = True

    @pytest.fixture
    def backend(self, llama_cpp_server: ManagedServer) -> LLMBackend:
        return HttpBackend(llama_cpp_server.url, timeout=600, seed=0)

    def test_usage_is_reported_not_estimated(self, backend: LLMBackend) -> None:
        streamed = backend.chat(GREETING_FOR_USAGE, max_tokens=8, on_token=lambda _: None)
        plain = backend.chat(GREETING_FOR_USAGE, max_tokens=8)
        for done in (streamed, plain):
            assert not done.extra.get("usage_estimated"), done.extra
            assert done.prompt_tokens > 10


GREETING_FOR_USAGE = [{"role": "user", "content": "Say hello in one word."}]


def test_serve_plan_sizes_slots_and_context() -> None:
    cpu = machine_plan(2048, gpu=False)
    assert cpu.gpu_layers == 0 and 2 <= cpu.slots <= 16 and cpu.threads >= 1
    assert cpu.ctx_total == cpu.slots * 2048  # llama-server divides -c among its slots
    gpu = machine_plan(4096, gpu=True)
    assert gpu.gpu_layers == -1 and gpu.slots == 16 and gpu.ctx_total == 16 * 4096
    assert machine_plan(1024, slots=3, threads=1, gpu=False) == \
        ServePlan(slots=3, ctx_per_slot=1024, threads=1, gpu_layers=0)
    with pytest.raises(UserFacingError, match="--slots"):
        machine_plan(2048, slots=0, gpu=False)
    argv = llama_server_argv(Path("/x/llama-server"), Path("/m/model.gguf"),
                             ServePlan(slots=4, ctx_per_slot=2048, threads=2, gpu_layers=0),
                             port=9000)
    flags = dict(zip(argv[1::2], argv[2::2], strict=False))
    assert flags["--parallel"] == "4" and flags["--ctx-size"] == "8192"
    assert flags["--port"] == "9000" and "--cont-batching" in argv and "--metrics" in argv


def test_serve_print_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             real_home: Path) -> None:
    fake = tmp_path / "llama-server"
    fake.write_text("#!/bin/sh\necho fake\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CONVREC_LLAMA_SERVER", str(fake))
    done = subprocess.run([sys.executable, "-m", "convrec", "serve", "llm", "--cache-dir",
                           str(real_home), "--slots", "3", "--print-command"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{fake} --model ") and "--parallel 3" in done.stdout
    assert "--ctx-size 6144" in done.stdout  # 3 slots x the default n_ctx 2048


def test_build_script_is_cached(llama_server_binary: Path, real_home: Path) -> None:
    """A second run of the build script only prints the binary (no download, no compile)."""
    start = time.monotonic()
    done = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True,
                          env={**os.environ, "CONVREC_HOME": str(real_home),
                               "CONVREC_LLAMA_CUDA": "off"}, timeout=60)
    assert done.returncode == 0, done.stderr
    cached = Path(done.stdout.strip())
    assert cached.is_file() and cached.is_relative_to(real_home / "bin") and not done.stderr
    if llama_server_binary.is_relative_to(real_home):
        assert cached == llama_server_binary
    assert time.monotonic() - start < 10


def test_drop_collection_on_a_chroma_server(ml100k: Catalog, tmp_path: Path) -> None:
    """`convrec build --rebuild --store-url` empties the server's collection (not just folders)."""
    with server_or_fail(start_chroma, tmp_path / "db", tmp_path / "chroma.log") as server:
        resources = ToolResources(catalog=ml100k, cache_dir=tmp_path / "home",
                                  store_url=server.url)
        assert open_collection(resources).count() == 0  # created empty, nothing embedded
        assert drop_collection(resources) is True
        assert drop_collection(resources) is False
        assert not list((tmp_path / "home").glob("artifacts/*/chroma"))
