"""Scale-out: two agent processes sharing one llama.cpp server and one Chroma server on loopback."""

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
from test_backends import real_default_model
from test_real_model_dialogues import assert_structure

from agent import Reply
from agent.store import SessionStore
from benchmarks.servers import ManagedServer, ServerStartError, start_chroma, start_llama
from catalog import Catalog
from tools.base import ToolResources
from tools.chroma_store import collection_name, drop_collection, open_collection

REPO = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 900
WORKER_READY_S = 300
CONVERSATION_TIMEOUT_S = 1200
ALICE = "I loved Alien and Star Wars. Recommend some sci-fi, but nothing with horror."
BOB = "I really liked Toy Story and Aladdin. Show me animated comedies."
ALICE_IDS, BOB_IDS = {"183", "50"}, {"1", "95"}  # ml-100k: Alien, Star Wars / Toy Story, Aladdin

# One agent process: build the Agent, say ready, wait for "go", play its turns, write replies.
WORKER = """
import json, sys, time
from pathlib import Path
from agent import Agent, Settings
from agent.backends.http import HttpBackend

cfg = json.loads(sys.argv[1])
out = Path(cfg["out"])
settings = Settings(backend="http", llm_url=cfg["llm_url"], store_url=cfg["store_url"],
                    catalog="ml-100k", cache_dir=Path(cfg["home"]),
                    sessions_db=Path(cfg["db"]), n_recommendations=3)
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


@pytest.mark.real_model
@pytest.mark.slow
def test_two_agents_share_llm_and_chroma_servers(
        llm_server: ManagedServer, chroma_server: ManagedServer, scale_home: Path,
        ml100k: Catalog, tmp_path: Path) -> None:
    db = tmp_path / "sessions.sqlite3"  # one store for both processes, as on a shared volume
    configs = []
    for user, text in (("alice", ALICE), ("bob", BOB)):
        out = tmp_path / user
        out.mkdir()
        configs.append({"user": user, "turns": [text], "llm_url": llm_server.url,
                        "store_url": chroma_server.url, "home": str(scale_home), "db": str(db),
                        "out": str(out), "go": str(tmp_path / "go")})
    alice, bob = play_concurrently(configs, tmp_path / "go")

    for result in (alice, bob):
        assert {"cf_scoring", "kg_expansion", "vector_retrieval"} <= set(result["tools"])
        assert not result["failed"]
    # both conversations were in flight at the same time
    assert max(alice["turns"][0]["start"], bob["turns"][0]["start"]) < \
        min(alice["turns"][0]["end"], bob["turns"][0]["end"])

    replies = {name: Reply.model_validate(r["turns"][0]["reply"])
               for name, r in (("alice", alice), ("bob", bob))}
    for reply in replies.values():
        assert_structure(reply, ml100k)
        assert any(c.stage == "understanding" and c.valid_json for c in reply.llm_calls)
    a, b = replies["alice"], replies["bob"]
    assert a.session_id == alice["session_id"] != bob["session_id"] == b.session_id
    a_liked = {i.item_id for i in a.profile.liked_items}
    b_liked = {i.item_id for i in b.profile.liked_items}
    assert ALICE_IDS <= a_liked, a.profile.liked_items
    assert "1" in b_liked, b.profile.liked_items
    assert not a_liked & BOB_IDS and not b_liked & ALICE_IDS, (a_liked, b_liked)  # no cross-talk
    assert a.kind == "recommendations" and len(a.recommendations) >= 1
    assert all("horror" not in r.genres for r in a.recommendations)
    assert all(r.evidence for r in a.recommendations + b.recommendations)

    # the shared session store holds each session under its own user, with its own profile
    store = SessionStore(db)
    for name, reply in replies.items():
        owner, state = store.load(reply.session_id) or ("", {})
        assert owner == name
        assert {i["item_id"] for i in state["profile"]["liked_items"]} == \
            {i.item_id for i in reply.profile.liked_items}

    # the Chroma server holds the index and answered the vector searches
    assert any("vector_retrieval" in r.tools_used for r in replies.values()), \
        [r.tools_used for r in replies.values()]
    url = urlsplit(chroma_server.url)
    client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                 settings=ChromaSettings(anonymized_telemetry=False))
    assert client.get_collection(collection_name(ml100k)).count() == len(ml100k.items)
    assert "/query" in chroma_server.log_tail(10**7), "no query reached the Chroma server"


def test_drop_collection_on_a_chroma_server(ml100k: Catalog, tmp_path: Path) -> None:
    """`convrec build --rebuild --store-url` empties the server's collection (not just folders)."""
    with server_or_fail(start_chroma, tmp_path / "db", tmp_path / "chroma.log") as server:
        resources = ToolResources(catalog=ml100k, cache_dir=tmp_path / "home",
                                  store_url=server.url)
        assert open_collection(resources).count() == 0  # created empty, nothing embedded
        assert drop_collection(resources) is True
        assert drop_collection(resources) is False
        assert not list((tmp_path / "home").glob("artifacts/*/chroma"))
