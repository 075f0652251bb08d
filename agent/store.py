"""Crash-safe SQLite persistence of sessions: one atomic transaction per completed turn."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from catalog.errors import ArtifactError
from catalog.text import safe_data

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, turn INTEGER NOT NULL,
    user_text TEXT NOT NULL, reply TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (session_id, turn));
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
"""
FIX = "move the file away (sessions in it are lost) or pass --sessions-db to another path"


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


class SessionStore:
    """Sessions and their turns in SQLite (WAL, synchronous=FULL), safe across threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ArtifactError(f"session store {self.path} is unreadable: {exc}", FIX) from exc

    def save_turn(self, session_id: str, user_id: str, state: dict[str, Any], turn: int,
                  user_text: str, reply: dict[str, Any]) -> None:
        """Write the session state and the completed turn in one transaction."""
        user_id, user_text, state, reply = safe_data([user_id, user_text, state, reply])  # UTF-8 only
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO sessions(id, user_id, created, updated, state) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "updated=excluded.updated, state=excluded.state",
                    (session_id, user_id, now, now, json.dumps(state)))
                self._db.execute(
                    "INSERT OR REPLACE INTO turns(session_id, turn, user_text, reply, created) "
                    "VALUES (?, ?, ?, ?, ?)", (session_id, turn, user_text, json.dumps(reply), now))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def save_state(self, session_id: str, user_id: str, state: dict[str, Any]) -> None:
        """Write only the state (feedback, removed beliefs) atomically."""
        user_id, state = safe_data([user_id, state])  # no lone surrogates reach the database
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions(id, user_id, created, updated, state) VALUES (?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET updated=excluded.updated, state=excluded.state",
                (session_id, user_id, now, now, json.dumps(state)))

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
        with self._lock:
            self._db.execute("DELETE FROM turns WHERE session_id=?", (session_id,))
            cur = self._db.execute("DELETE FROM sessions WHERE id=?", (session_id,))
        return cur.rowcount > 0

    def delete_user(self, user_id: str) -> int:
        """Delete every session of a user; returns how many."""
        ids = [s["id"] for s in self.list_sessions(user_id)]
        for sid in ids:
            self.delete_session(sid)
        return len(ids)

    def export_user(self, user_id: str) -> dict[str, Any]:
        """All of a user's sessions with their state and turns, as JSON-ready data."""
        out = []
        for info in self.list_sessions(user_id):
            loaded = self.load(info["id"])
            out.append({**info, "state": loaded[1] if loaded else {},
                        "turns": self.turns(info["id"])})
        return {"user_id": user_id, "sessions": out}

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
