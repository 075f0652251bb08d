"""Crash-safe persistence of sessions, turns and per-user memory: the interface and SQLite."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from catalog.errors import ArtifactError, UserFacingError
from catalog.text import safe_data

if TYPE_CHECKING:
    from agent.settings import Settings

log = logging.getLogger(__name__)

Memory = dict[str, Any]
MemoryUpdate = Memory | Callable[[Memory | None], Memory]
"""A user's new memory, or a function of the stored one (run inside the write transaction)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, turn INTEGER NOT NULL,
    user_text TEXT NOT NULL, reply TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (session_id, turn));
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
CREATE TABLE IF NOT EXISTS memories (
    user_id TEXT PRIMARY KEY, memory TEXT NOT NULL, updated REAL NOT NULL);
"""
FIX = "move the file away (sessions in it are lost) or pass --sessions-db to another path"


class SessionStoreError(UserFacingError):
    """The session store cannot be reached or refused a write."""


def check_session_store(path: Path) -> str:
    """Verify the session database without creating or changing it (SQLite integrity check).

    Returns:
        A one-line status.

    Raises:
        ArtifactError: when the file is not a healthy SQLite database.
    """
    if not path.exists():
        return f"{path}: not created yet (made on first use)"
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise ArtifactError(f"session store {path} is unreadable: {exc}", FIX) from exc
    if result != "ok":
        raise ArtifactError(f"session store {path} is corrupt: {result}", FIX)
    return f"{path}: integrity ok"


def resolve_memory(update: MemoryUpdate, stored: Memory | None) -> Memory:
    """The memory to write: `update` itself, or `update(stored)` when it is a function.

    Raises:
        TypeError: when the result is not a dict.
    """
    memory = update(stored) if callable(update) else update
    if not isinstance(memory, dict):
        raise TypeError(f"a user's memory must be a dict, got {type(memory).__name__}")
    return memory


class BaseSessionStore(ABC):
    """Sessions, their completed turns and each user's long-term memory.

    Every write is one transaction: a crash (even SIGKILL) leaves the last completed turn, its
    state and the memory written with it, or nothing of that turn. Values are JSON-ready dicts;
    the store never interprets them (the memory's layout belongs to `agent.memory`).
    Implementations: `SqliteSessionStore` (one file, one machine) and
    `agent.store_pg.PostgresSessionStore` (many agent processes on many machines).
    """

    location: str
    """Where the data lives, for messages (a path, or a URL without its password)."""

    @abstractmethod
    def save_turn(self, session_id: str, user_id: str, state: dict[str, Any], turn: int,
                  user_text: str, reply: dict[str, Any],
                  memory: MemoryUpdate | None = None) -> None:
        """Write the session state, the completed turn and (when given) the user's memory in
        one transaction."""

    @abstractmethod
    def save_state(self, session_id: str, user_id: str, state: dict[str, Any]) -> None:
        """Write only the state (feedback, removed beliefs) atomically."""

    @abstractmethod
    def load(self, session_id: str) -> tuple[str, dict[str, Any]] | None:
        """(user_id, state) of a session, or None."""

    @abstractmethod
    def turns(self, session_id: str) -> list[dict[str, Any]]:
        """Completed turns of a session, in order: {"turn", "user", "reply", "created"}."""

    @abstractmethod
    def list_sessions(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Sessions (newest first), optionally of one user: {"id", "user_id", "created",
        "updated"}."""

    @abstractmethod
    def delete_session(self, session_id: str) -> bool:
        """Delete one session and its turns; True if it existed."""

    @abstractmethod
    def delete_user(self, user_id: str) -> int:
        """Delete every session of a user and the user's memory, in one transaction; returns
        how many sessions."""

    @abstractmethod
    def load_memory(self, user_id: str) -> Memory | None:
        """The user's long-term memory, or None when nothing is remembered."""

    @abstractmethod
    def save_memory(self, user_id: str, memory: MemoryUpdate) -> Memory:
        """Replace the user's memory (or apply a function to it) atomically; returns it."""

    @abstractmethod
    def forget(self, user_id: str) -> bool:
        """Delete the user's memory (sessions stay); True if there was one."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def memory_updated(self, user_id: str) -> float | None:
        """When the user's memory was last written (epoch seconds), or None."""
        return None

    def export_user(self, user_id: str) -> dict[str, Any]:
        """All of a user's sessions with their state and turns, and the memory, as JSON-ready
        data."""
        out = []
        for info in self.list_sessions(user_id):
            loaded = self.load(info["id"])
            out.append({**info, "state": loaded[1] if loaded else {},
                        "turns": self.turns(info["id"])})
        return {"user_id": user_id, "sessions": out, "memory": self.load_memory(user_id),
                "memory_updated": self.memory_updated(user_id)}

    def __enter__(self) -> BaseSessionStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class SqliteSessionStore(BaseSessionStore):
    """Sessions and their turns in SQLite (WAL, synchronous=FULL), safe across threads and
    processes on one machine (writers take the file's lock: `BEGIN IMMEDIATE`)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.location = self.path
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                       timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ArtifactError(f"session store {self.path} is unreadable: {exc}", FIX) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the database's write lock."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @staticmethod
    def _upsert_state(db: sqlite3.Connection, session_id: str, user_id: str,
                      state: dict[str, Any], now: float) -> None:
        db.execute("INSERT INTO sessions(id, user_id, created, updated, state) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                   "updated=excluded.updated, state=excluded.state",
                   (session_id, user_id, now, now, json.dumps(state)))

    @staticmethod
    def _write_memory(db: sqlite3.Connection, user_id: str, update: MemoryUpdate,
                      now: float) -> Memory:
        row = db.execute("SELECT memory FROM memories WHERE user_id=?", (user_id,)).fetchone()
        memory = resolve_memory(update, json.loads(row[0]) if row else None)
        db.execute("INSERT INTO memories(user_id, memory, updated) VALUES (?, ?, ?) "
                   "ON CONFLICT(user_id) DO UPDATE SET memory=excluded.memory, "
                   "updated=excluded.updated", (user_id, json.dumps(memory), now))
        return memory

    def save_turn(self, session_id: str, user_id: str, state: dict[str, Any], turn: int,
                  user_text: str, reply: dict[str, Any],
                  memory: MemoryUpdate | None = None) -> None:
        """Write the session state, the completed turn and (when given) the user's memory in
        one transaction."""
        user_id, user_text, state, reply = safe_data([user_id, user_text, state, reply])  # UTF-8 only
        now = time.time()
        with self._write() as db:
            self._upsert_state(db, session_id, user_id, state, now)
            db.execute("INSERT OR REPLACE INTO turns(session_id, turn, user_text, reply, created) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (session_id, turn, user_text, json.dumps(reply), now))
            if memory is not None:
                self._write_memory(db, user_id, memory, now)

    def save_state(self, session_id: str, user_id: str, state: dict[str, Any]) -> None:
        """Write only the state (feedback, removed beliefs) atomically."""
        user_id, state = safe_data([user_id, state])  # no lone surrogates reach the database
        with self._write() as db:
            self._upsert_state(db, session_id, user_id, state, time.time())

    def load(self, session_id: str) -> tuple[str, dict[str, Any]] | None:
        """(user_id, state) of a session, or None."""
        with self._lock:
            row = self._db.execute("SELECT user_id, state FROM sessions WHERE id=?",
                                   (session_id,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def turns(self, session_id: str) -> list[dict[str, Any]]:
        """Completed turns of a session, in order."""
        with self._lock:
            rows = self._db.execute("SELECT turn, user_text, reply, created FROM turns WHERE "
                                    "session_id=? ORDER BY turn", (session_id,)).fetchall()
        return [{"turn": t, "user": u, "reply": json.loads(r), "created": c}
                for t, u, r, c in rows]

    def list_sessions(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Sessions (newest first), optionally of one user."""
        sql = "SELECT id, user_id, created, updated FROM sessions"
        args: tuple[str, ...] = ()
        if user_id is not None:
            sql += " WHERE user_id=?"
            args = (user_id,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY updated DESC", args).fetchall()
        return [{"id": i, "user_id": u, "created": c, "updated": up} for i, u, c, up in rows]

    def delete_session(self, session_id: str) -> bool:
        """Delete one session and its turns; True if it existed."""
        with self._write() as db:
            db.execute("DELETE FROM turns WHERE session_id=?", (session_id,))
            cur = db.execute("DELETE FROM sessions WHERE id=?", (session_id,))
        return cur.rowcount > 0

    def delete_user(self, user_id: str) -> int:
        """Delete every session of a user and the user's memory; returns how many sessions."""
        with self._write() as db:
            db.execute("DELETE FROM turns WHERE session_id IN "
                       "(SELECT id FROM sessions WHERE user_id=?)", (user_id,))
            cur = db.execute("DELETE FROM sessions WHERE user_id=?", (user_id,))
            db.execute("DELETE FROM memories WHERE user_id=?", (user_id,))
        return cur.rowcount

    def load_memory(self, user_id: str) -> Memory | None:
        """The user's long-term memory, or None."""
        with self._lock:
            row = self._db.execute("SELECT memory FROM memories WHERE user_id=?",
                                   (user_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def memory_updated(self, user_id: str) -> float | None:
        """When the user's memory was last written, or None."""
        with self._lock:
            row = self._db.execute("SELECT updated FROM memories WHERE user_id=?",
                                   (user_id,)).fetchone()
        return float(row[0]) if row else None

    def save_memory(self, user_id: str, memory: MemoryUpdate) -> Memory:
        """Replace the user's memory (or apply a function to it) atomically; returns it."""
        with self._write() as db:
            return self._write_memory(db, user_id, memory, time.time())

    def forget(self, user_id: str) -> bool:
        """Delete the user's memory; True if there was one."""
        with self._write() as db:
            cur = db.execute("DELETE FROM memories WHERE user_id=?", (user_id,))
        return cur.rowcount > 0

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


SessionStore = SqliteSessionStore
"""The SQLite store under its original name (kept for existing callers)."""


def redact_url(url: str) -> str:
    """`url` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def open_store(target: str | Path) -> BaseSessionStore:
    """The store at `target`: a `postgresql://` URL opens Postgres, anything else a SQLite file.

    Raises:
        ArtifactError: a damaged SQLite file. SessionStoreError: Postgres unreachable.
    """
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        from agent.store_pg import PostgresSessionStore

        return PostgresSessionStore(text)
    return SqliteSessionStore(target)


def open_session_store(settings: Settings) -> BaseSessionStore:
    """The store the settings choose: `sessions_url` (Postgres) when set, else the SQLite file."""
    return open_store(settings.sessions_url or settings.resolved_sessions_db())


def check_sessions(settings: Settings) -> str:
    """A one-line health check of the configured store, changing nothing.

    Raises:
        ArtifactError / SessionStoreError: when the store is damaged or unreachable.
    """
    if settings.sessions_url:
        from agent.store_pg import check_postgres_store

        return check_postgres_store(settings.sessions_url)
    return check_session_store(settings.resolved_sessions_db())
