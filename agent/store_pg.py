"""Sessions, turns and per-user memory in Postgres (psycopg 3), shared by agents on many machines."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from agent.store import BaseSessionStore, Memory, MemoryUpdate, SessionStoreError, redact_url
from agent.store import resolve_memory as _resolve
from catalog.text import safe_text

log = logging.getLogger(__name__)

SCHEMA_LOCK = 0x636F6E76  # advisory lock id: concurrent first starts create the tables once
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
    "created DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL, state TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS turns (session_id TEXT NOT NULL REFERENCES sessions(id) "
    "ON DELETE CASCADE, turn INTEGER NOT NULL, user_text TEXT NOT NULL, reply TEXT NOT NULL, "
    "created DOUBLE PRECISION NOT NULL, PRIMARY KEY (session_id, turn))",
    "CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id)",
    "CREATE TABLE IF NOT EXISTS memories (user_id TEXT PRIMARY KEY, memory TEXT NOT NULL, "
    "updated DOUBLE PRECISION NOT NULL)",
)
CONNECT_TIMEOUT_S = 10
FIX = "start Postgres or correct sessions_url (postgresql://USER@HOST:PORT/DB)"


def pg_text(text: str) -> str:
    """`text` as Postgres can store it: `safe_text` (lone surrogates become U+FFFD), then NUL
    characters, which Postgres text refuses, become U+FFFD too.

    JSON columns need nothing of the kind (json.dumps escapes both); only the raw user text
    is stored as typed.
    """
    return safe_text(text).replace("\x00", "\ufffd")


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection (each write opens its own transaction).

    Raises:
        SessionStoreError: one line naming the server (password hidden) and the fix.
    """
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                               application_name="convrec")
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SessionStoreError(f"cannot connect to the session store {redact_url(url)}: "
                                f"{detail}", FIX) from exc


def check_postgres_store(url: str) -> str:
    """Connect and count what is stored, creating nothing.

    Raises:
        SessionStoreError: when the server cannot be reached or the query fails.
    """
    with connect(url) as conn:
        try:
            row = conn.execute("SELECT to_regclass('sessions') IS NOT NULL").fetchone()
            if not row or not row[0]:
                return f"{redact_url(url)}: reachable, tables not created yet (made on first use)"
            count = conn.execute("SELECT count(*) FROM sessions").fetchone()
        except psycopg.Error as exc:
            raise SessionStoreError(f"session store {redact_url(url)} failed a check: {exc}",
                                    FIX) from exc
    return f"{redact_url(url)}: ok, {count[0] if count else 0} sessions"


class PostgresSessionStore(BaseSessionStore):
    """`BaseSessionStore` on Postgres: same tables, same atomic writes as the SQLite store.

    One connection per store, guarded by a lock (an `Agent` owns one store; run more agent
    processes for more throughput). A broken connection (server restart) is reopened on the
    next call; the call that hit it raises `SessionStoreError` and writes nothing. The memory
    read-modify-write locks the user's row (`SELECT ... FOR UPDATE`), so two agents updating one
    user's memory at once serialise instead of losing an update.

    Args:
        url: `postgresql://USER[:PASSWORD]@HOST[:PORT]/DB`, or with `?host=/socket/dir`.

    Raises:
        SessionStoreError: when the server cannot be reached or the schema cannot be created.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = redact_url(url)
        self._lock = threading.RLock()
        self._conn = connect(url)
        try:
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for statement in SCHEMA:
                    self._conn.execute(statement)
        except psycopg.Error as exc:
            self._conn.close()
            raise SessionStoreError(f"cannot create the session tables in {self.location}: "
                                    f"{exc}", "grant CREATE on the database or create them "
                                    "as its owner") from exc

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction on a live connection; database errors become SessionStoreError."""
        with self._lock:
            if self._conn.closed or self._conn.broken:
                log.warning("session store connection to %s lost; reconnecting", self.location)
                self._conn = connect(self.url)
            try:
                with self._conn.transaction():
                    yield self._conn
            except psycopg.Error as exc:
                raise SessionStoreError(f"session store {self.location} failed: "
                                        f"{str(exc).strip()}", FIX) from exc

    @staticmethod
    def _upsert_state(conn: psycopg.Connection[Any], session_id: str, user_id: str,
                      state: dict[str, Any], now: float) -> None:
        conn.execute("INSERT INTO sessions(id, user_id, created, updated, state) "
                     "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                     "updated=excluded.updated, state=excluded.state",
                     (session_id, user_id, now, now, json.dumps(state)))

    @staticmethod
    def _write_memory(conn: psycopg.Connection[Any], user_id: str, update: MemoryUpdate,
                      now: float) -> Memory:
        stored = None
        if callable(update):  # read-modify-write: hold the row (or, if new, the user's key)
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                         ("convrec-memory:" + user_id,))
            row = conn.execute("SELECT memory FROM memories WHERE user_id=%s FOR UPDATE",
                               (user_id,)).fetchone()
            stored = json.loads(row[0]) if row else None
        memory = _resolve(update, stored)
        conn.execute("INSERT INTO memories(user_id, memory, updated) VALUES (%s, %s, %s) "
                     "ON CONFLICT (user_id) DO UPDATE SET memory=excluded.memory, "
                     "updated=excluded.updated", (user_id, json.dumps(memory), now))
        return memory

    def save_turn(self, session_id: str, user_id: str, state: dict[str, Any], turn: int,
                  user_text: str, reply: dict[str, Any],
                  memory: MemoryUpdate | None = None) -> None:
        """Write the session state, the completed turn and (when given) the user's memory in
        one transaction."""
        now = time.time()
        with self._tx() as conn:
            self._upsert_state(conn, session_id, user_id, state, now)
            conn.execute("INSERT INTO turns(session_id, turn, user_text, reply, created) "
                         "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (session_id, turn) DO UPDATE "
                         "SET user_text=excluded.user_text, reply=excluded.reply, "
                         "created=excluded.created",
                         (session_id, turn, pg_text(user_text), json.dumps(reply), now))
            if memory is not None:
                self._write_memory(conn, user_id, memory, now)

    def save_state(self, session_id: str, user_id: str, state: dict[str, Any]) -> None:
        """Write only the state atomically."""
        with self._tx() as conn:
            self._upsert_state(conn, session_id, user_id, state, time.time())

    def load(self, session_id: str) -> tuple[str, dict[str, Any]] | None:
        """(user_id, state) of a session, or None."""
        with self._tx() as conn:
            row = conn.execute("SELECT user_id, state FROM sessions WHERE id=%s",
                               (session_id,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def turns(self, session_id: str) -> list[dict[str, Any]]:
        """Completed turns of a session, in order."""
        with self._tx() as conn:
            rows = conn.execute("SELECT turn, user_text, reply, created FROM turns WHERE "
                                "session_id=%s ORDER BY turn", (session_id,)).fetchall()
        return [{"turn": t, "user": u, "reply": json.loads(r), "created": c}
                for t, u, r, c in rows]

    def list_sessions(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Sessions (newest first), optionally of one user."""
        sql = "SELECT id, user_id, created, updated FROM sessions"
        args: tuple[str, ...] = ()
        if user_id is not None:
            sql += " WHERE user_id=%s"
            args = (user_id,)
        with self._tx() as conn:
            rows = conn.execute(sql + " ORDER BY updated DESC", args).fetchall()
        return [{"id": i, "user_id": u, "created": c, "updated": up} for i, u, c, up in rows]

    def delete_session(self, session_id: str) -> bool:
        """Delete one session and its turns; True if it existed."""
        with self._tx() as conn:
            conn.execute("DELETE FROM turns WHERE session_id=%s", (session_id,))
            cur = conn.execute("DELETE FROM sessions WHERE id=%s", (session_id,))
        return cur.rowcount > 0

    def delete_user(self, user_id: str) -> int:
        """Delete every session of a user and the user's memory; returns how many sessions."""
        with self._tx() as conn:
            conn.execute("DELETE FROM turns WHERE session_id IN "
                         "(SELECT id FROM sessions WHERE user_id=%s)", (user_id,))
            cur = conn.execute("DELETE FROM sessions WHERE user_id=%s", (user_id,))
            conn.execute("DELETE FROM memories WHERE user_id=%s", (user_id,))
        return cur.rowcount

    def load_memory(self, user_id: str) -> Memory | None:
        """The user's long-term memory, or None."""
        with self._tx() as conn:
            row = conn.execute("SELECT memory FROM memories WHERE user_id=%s",
                               (user_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def memory_updated(self, user_id: str) -> float | None:
        """When the user's memory was last written, or None."""
        with self._tx() as conn:
            row = conn.execute("SELECT updated FROM memories WHERE user_id=%s",
                               (user_id,)).fetchone()
        return float(row[0]) if row else None

    def save_memory(self, user_id: str, memory: MemoryUpdate) -> Memory:
        """Replace the user's memory (or apply a function to it) atomically; returns it."""
        with self._tx() as conn:
            return self._write_memory(conn, user_id, memory, time.time())

    def forget(self, user_id: str) -> bool:
        """Delete the user's memory; True if there was one."""
        with self._tx() as conn:
            cur = conn.execute("DELETE FROM memories WHERE user_id=%s", (user_id,))
        return cur.rowcount > 0

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
