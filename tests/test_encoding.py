"""Text that is not UTF-8 (lone surrogates, undecodable bytes) at every boundary: U+FFFD, never a crash."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.backends.http import HttpBackend
from agent.store import SessionStore
from catalog.generic import load_generic
from catalog.text import safe_bytes, safe_data, safe_text

ROOT = Path(__file__).resolve().parents[1]
ANY_CHAR = st.characters(codec=None, categories=None)  # the whole range, surrogates included
ANY_TEXT = st.text(alphabet=ANY_CHAR, max_size=300)
NOT_BYTE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=None).filter(
    lambda c: not 0xDC80 <= ord(c) <= 0xDCFF)  # a lone surrogate that no escaped byte maps to


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ---- the function ---------------------------------------------------------------------------
@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
def test_safe_text_always_encodes_and_keeps_valid_text(text: str) -> None:
    fixed = safe_text(text)
    assert _utf8(fixed)
    assert safe_text(fixed) == fixed  # idempotent
    if _utf8(text):
        assert fixed == text  # everything that is already UTF-8 is kept as it is


@given(st.lists(st.text(alphabet=ANY_CHAR.filter(lambda c: not 0xD800 <= ord(c) <= 0xDFFF),
                        max_size=5), min_size=1, max_size=5), NOT_BYTE)
def test_a_lone_surrogate_becomes_one_replacement_char(parts: list[str], lone: str) -> None:
    text = lone.join(parts)
    assert safe_text(text) == "\ufffd".join(parts)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_bytes_decoded_like_stdin_and_argv_become_replacement_chars(raw: bytes) -> None:
    expected = raw.decode("utf-8", "replace")
    assert safe_bytes(raw) == expected
    assert safe_text(raw.decode("utf-8", "surrogateescape")) == expected  # stdin, C locale
    if sys.getfilesystemencoding() == "utf-8":
        assert safe_text(os.fsdecode(raw)) == expected  # argv


def test_safe_text_cases() -> None:
    assert safe_text("hello \udcff\udcfe world") == "hello \ufffd\ufffd world"
    assert safe_text("caf\udcc3\udca9") == "café"  # argv decoded as ASCII: the UTF-8 is recovered
    assert safe_text("\ud83d\ude00") == "😀"  # a UTF-16 pair means its character
    assert safe_text("\ude00\ud83d") == "\ufffd\ufffd"
    assert safe_text(b"Alien \xff") == "Alien \ufffd" and safe_text(7) == "7"  # type: ignore[arg-type]
    assert safe_data({"a\ud800": ["x\udcff", 1, None]}) == {"a\ufffd": ["x\ufffd", 1, None]}


# ---- files and the HTTP backend ---------------------------------------------------------------
def test_generic_catalog_with_bad_bytes_and_escaped_surrogates(tmp_path: Path) -> None:
    folder = tmp_path / "cat"
    folder.mkdir()
    lines = [json.dumps({"id": "1", "title": "Caf\udce9 Noir", "year": 1990}),  # \udce9 escape
             b'{"id": "2", "title": "Am\xe9lie", "year": 2001}'.decode("latin-1"),
             json.dumps({"id": "3", "title": "Plain"})]
    raw = b"\xef\xbb\xbf" + "\n".join(lines).encode("latin-1") + b"\n"  # a BOM, then latin-1 bytes
    (folder / "items.jsonl").write_bytes(raw)
    (folder / "interactions.csv").write_bytes(b"\xef\xbb\xbfuser_id,item_id,rating\nu\xff,1,4\n")
    catalog = load_generic(folder)
    assert catalog.items["1"].title == "Caf\ufffd Noir"
    assert catalog.items["2"].title == "Am\ufffdlie"
    assert catalog.items["3"].title == "Plain"
    assert list(catalog.interactions.user_ids) == ["u\ufffd"]


class BadBytesServer(BaseHTTPRequestHandler):
    """An OpenAI-style server whose replies hold invalid UTF-8 and a JSON-escaped lone surrogate."""

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["stream"]:
            out = (b'data: {"choices": [{"delta": {"content": "Hi \xff"}}]}\n\n'
                   b'data: {"choices": [{"delta": {"content": "there \\udc80"}}]}\n\n'
                   b"data: [DONE]\n\n")
        else:
            out = b'{"choices": [{"message": {"content": "Hi \xff there \\ud800"}}]}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.fixture
def bad_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BadBytesServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_backend_replies_are_made_utf8(bad_server: str) -> None:
    backend = HttpBackend(bad_server, model="m")
    hello = [{"role": "user", "content": "hi"}]
    done = backend.chat(hello, max_tokens=8)
    assert done.text == "Hi \ufffd there \ufffd"
    pieces: list[str] = []
    streamed = backend.chat(hello, max_tokens=8, on_token=pieces.append)
    assert pieces == ["Hi \ufffd", "there \ufffd"] and streamed.text == "Hi \ufffdthere \ufffd"


def _alien(catalog) -> str:  # type: ignore[no-untyped-def]
    (item_id,) = [i.id for i in catalog.items.values() if i.title == "Alien"]
    return str(item_id)


# ---- the store and the session -----------------------------------------------------------------
def test_store_never_writes_text_it_cannot_encode(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite3")
    store.save_turn("s1", "u\udcff", {"k\ud800": "v\udcfe"}, 1, "hi \udcff", {"text": "x\ud800"})
    store.save_state("s1", "u\udcff", {"k": "w\udcfe"})
    (turn,) = store.turns("s1")
    assert turn["user"] == "hi \ufffd" and turn["reply"] == {"text": "x\ufffd"}
    assert store.load("s1") == ("u\ufffd", {"k": "w\ufffd"})


def test_send_with_surrogates_answers_and_the_session_goes_on(ml100k, ml100k_agent_factory) -> None:  # type: ignore[no-untyped-def]
    from agent.testing import keyword_backend

    session = ml100k_agent_factory(keyword_backend(ml100k)).session("enc")
    reply = session.send("I loved Alien \udcff\udcfe")
    assert _utf8(reply.model_dump_json()) and reply.text.strip()
    assert _alien(ml100k) in {i.item_id for i in reply.profile.liked_items}  # the rest understood
    assert session.history()[-1]["user"] == "I loved Alien \ufffd\ufffd"
    assert session.send("I liked Toy Story").turn == 2


# ---- the command line, in subprocesses (argv and stdin decoded by Python itself) ----------------
KEYWORD_CLI = """
import sys
import agent.backends.factory as factory
from agent.testing import keyword_backend
from catalog.loading import load_catalog
factory.make_backend = lambda s, cache_dir=None: keyword_backend(
    load_catalog(s.catalog, s.resolved_cache_dir(), s.data_dir))
from convrec.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _convrec(args: list[str | bytes], real_home: Path, db: Path, stdin: bytes = b"",
             keyword: bool = False, locale: str = "C.UTF-8") -> subprocess.CompletedProcess[bytes]:
    """Run the CLI (scripted backend; the keyword fake when `keyword`) on ml-100k's real tools."""
    head: list[str | bytes] = [sys.executable, "-c", KEYWORD_CLI] if keyword else [
        sys.executable, "-m", "convrec"]
    flags = ["--backend", "scripted", "--catalog", "ml-100k", "--cache-dir", str(real_home),
             "--sessions-db", str(db)]
    env = {**os.environ, "LC_ALL": locale, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONIOENCODING", None)
    env.pop("PYTHONUTF8", None)
    return subprocess.run([*head, *args, *flags], input=stdin, capture_output=True, cwd=ROOT,
                          env=env, timeout=300)


def _turns(db: Path) -> list[dict[str, Any]]:
    store = SessionStore(db)
    (session,) = store.list_sessions()
    return store.turns(session["id"])


@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
def test_plain_chat_with_invalid_utf8_on_stdin(real_home: Path, tmp_path: Path, locale: str) -> None:
    db = tmp_path / "s.sqlite3"
    done = _convrec(["chat", "--plain"], real_home, db,
                    stdin=b"hello \xff\xfe world\nI loved Alien \xff\xfe\nrecommend something\n",
                    locale=locale)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0 and "error" not in err, err[-500:]
    turns = _turns(db)
    assert [t["user"] for t in turns] == ["hello \ufffd\ufffd world", "I loved Alien \ufffd\ufffd",
                                         "recommend something"]  # the session went on
    out = done.stdout.decode("utf-8")
    for t in turns:
        assert t["reply"]["text"].splitlines()[0] in out


def test_ask_with_invalid_utf8_in_argv(ml100k, real_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "s.sqlite3"
    done = _convrec(["ask", b"I loved Alien \xff\xfe", "--json"], real_home, db, keyword=True)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-500:]
    reply = json.loads(done.stdout)
    assert reply["text"].strip()
    assert _alien(ml100k) in {i["item_id"] for i in reply["profile"]["liked_items"]}  # understood
    assert _turns(db)[0]["user"] == "I loved Alien \ufffd\ufffd"
    again = _convrec(["ask", "I liked Toy Story", "--session", reply["session_id"]], real_home, db,
                     keyword=True)
    assert again.returncode == 0 and len(_turns(db)) == 2  # and the session goes on


def test_plain_chat_prints_every_reply_of_a_piped_conversation(real_home: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    done = _convrec(["chat", "--plain"], real_home, db, keyword=True,
                    stdin=b"hi there\nI loved Alien \xff\nrecommend something\n")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-500:]
    out = done.stdout.decode("utf-8")
    turns = _turns(db)
    assert len(turns) == 3
    kinds = [t["reply"]["kind"] for t in turns]
    assert "question" in kinds and kinds[-1] == "recommendations", kinds
    blocks = re.split(r"^\[[\d.]+ s\]$", out, flags=re.M)  # every turn ends with "[0.1 s]"
    assert len(blocks) == 4, out
    for turn, block in zip(turns, blocks, strict=False):
        reply = turn["reply"]
        if reply["kind"] == "recommendations":
            assert all(r["title"] in block for r in reply["recommendations"]), block
        else:
            assert reply["text"] in block, (reply["text"], block)  # questions are printed too
