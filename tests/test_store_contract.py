"""One contract for every session store (SQLite file, Postgres): turns, export, delete, memory."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.settings import Settings
from agent.store import (
    BaseSessionStore,
    SessionStore,
    SessionStoreError,
    SqliteSessionStore,
    open_session_store,
    open_store,
    redact_url,
)
from agent.store_pg import PostgresSessionStore


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives: a SQLite file or a fresh Postgres database."""
    if request.param == "sqlite":
        return str(tmp_path / "s.sqlite3")
    return str(request.getfixturevalue("postgres_db_url"))


@pytest.fixture
def store(target: str) -> Iterator[BaseSessionStore]:
    with open_store(target) as opened:
        yield opened


def test_factory_chooses_by_settings(tmp_path: Path, postgres_db_url: str) -> None:
    sqlite = open_session_store(Settings(sessions_db=tmp_path / "x.sqlite3"))
    assert isinstance(sqlite, SqliteSessionStore) and SessionStore is SqliteSessionStore
    pg = open_session_store(Settings(sessions_db=tmp_path / "x.sqlite3",
                                     sessions_url=postgres_db_url))
    assert isinstance(pg, PostgresSessionStore)
    sqlite.close()
    pg.close()


def test_turns_state_and_overwrite(store: BaseSessionStore) -> None:
    store.save_turn("s1", "alice", {"turn": 1}, 1, "hi", {"text": "hello"})
    store.save_turn("s1", "alice", {"turn": 2}, 2, "more", {"text": "sure"})
    store.save_turn("s1", "alice", {"turn": 2}, 2, "more!", {"text": "again"})  # a retried turn
    assert store.load("s1") == ("alice", {"turn": 2})
    assert [(t["turn"], t["user"], t["reply"]["text"]) for t in store.turns("s1")] == \
        [(1, "hi", "hello"), (2, "more!", "again")]
    store.save_state("s1", "alice", {"turn": 2, "feedback": {"7": "liked"}})
    assert store.load("s1") == ("alice", {"turn": 2, "feedback": {"7": "liked"}})
    assert store.load("nope") is None and store.turns("nope") == []


def test_export_and_delete(store: BaseSessionStore) -> None:
    store.save_turn("s1", "alice", {"turn": 1}, 1, "hi", {"text": "hello"})
    store.save_turn("s2", "alice", {"turn": 1}, 1, "yo", {"text": "hey"},
                    memory={"liked": ["50"]})
    store.save_turn("s3", "bob", {"turn": 1}, 1, "x", {"text": "y"}, memory={"liked": ["1"]})
    exported = json.loads(json.dumps(store.export_user("alice")))
    assert {s["id"] for s in exported["sessions"]} == {"s1", "s2"}
    assert exported["memory"] == {"liked": ["50"]} and exported["memory_updated"] > 0
    assert {s["turns"][0]["user"] for s in exported["sessions"]} == {"hi", "yo"}
    assert [s["id"] for s in store.list_sessions()][0] == "s3"  # newest first
    assert store.delete_session("s1") is True and store.delete_session("s1") is False
    assert store.delete_user("alice") == 1
    assert store.list_sessions("alice") == [] and store.load_memory("alice") is None
    assert store.load("s3") is not None and store.load_memory("bob") == {"liked": ["1"]}


def test_memory_api(store: BaseSessionStore) -> None:
    assert store.load_memory("carol") is None and store.forget("carol") is False
    assert store.save_memory("carol", {"items": {"1": "liked"}}) == {"items": {"1": "liked"}}
    grown = store.save_memory("carol", lambda old: {"items": {**(old or {})["items"], "2": "seen"}})
    assert grown == {"items": {"1": "liked", "2": "seen"}} == store.load_memory("carol")
    store.save_turn("c1", "carol", {"turn": 1}, 1, "hi", {"text": "t"},
                    memory=lambda old: {**(old or {}), "turns": 1})
    assert store.load_memory("carol") == {"items": {"1": "liked", "2": "seen"}, "turns": 1}
    with pytest.raises(TypeError):
        store.save_memory("carol", ["not", "a", "dict"])  # type: ignore[arg-type]
    assert store.forget("carol") is True and store.load_memory("carol") is None
    assert store.load("c1") is not None  # forgetting memory keeps the sessions


def test_failed_memory_update_rolls_back_the_turn(store: BaseSessionStore) -> None:
    def broken(old: dict | None) -> dict:
        raise RuntimeError("memory code failed")

    store.save_turn("d1", "dan", {"turn": 1}, 1, "one", {"text": "1"}, memory={"n": 1})
    with pytest.raises(RuntimeError):
        store.save_turn("d1", "dan", {"turn": 2}, 2, "two", {"text": "2"}, memory=broken)
    assert store.load("d1") == ("dan", {"turn": 1})  # all of turn 2 or none of it
    assert [t["turn"] for t in store.turns("d1")] == [1] and store.load_memory("dan") == {"n": 1}


def test_hostile_text_round_trips(store: BaseSessionStore) -> None:
    text = "\x00\x1b[31mred\x07 🎬 Robert'); DROP TABLE sessions;-- Мне"
    store.save_turn("h1", "eve", {"note": text}, 1, text, {"text": text})
    assert store.load("h1") == ("eve", {"note": text})
    stored = store.turns("h1")[0]
    assert stored["reply"]["text"] == text
    assert stored["user"].replace("\ufffd", "\x00") == text  # Postgres text cannot hold NUL


def test_concurrent_memory_updates_lose_nothing(target: str) -> None:
    """Eight threads, each with its own store (as eight agent processes), add to one user's
    memory through read-modify-write functions: every addition survives."""
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            with open_store(target) as own:
                for k in range(5):
                    own.save_memory("zoe", lambda old, key=f"{n}-{k}":
                                    {"seen": sorted({*(old or {}).get("seen", []), key})})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    with open_store(target) as check:
        assert len((check.load_memory("zoe") or {})["seen"]) == 40


def test_unreachable_postgres_is_one_clear_line() -> None:
    with pytest.raises(SessionStoreError, match="fix: start Postgres") as caught:
        PostgresSessionStore("postgresql://convrec:secret@127.0.0.1:9/none")
    assert "secret" not in str(caught.value) and "\n" not in caught.value.one_line()
    assert redact_url("postgresql://u:pw@h:1/d") == "postgresql://u:***@h:1/d"


def test_sessions_url_must_be_postgres() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Settings(sessions_url="mysql://x/y")
