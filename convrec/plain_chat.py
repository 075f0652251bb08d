"""Line-mode chat on stdin/stdout, for scripts and pipes (`convrec chat --plain`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from catalog.text import safe_bytes, safe_text

HELP = ("commands: /like N, /dislike N, /seen N, /more N (N = card number), /profile, "
        "/new, /quit")


def run_plain(agent, user_id: str = "local", session_id: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """Read a line, answer it (streamed), repeat until EOF or /quit."""
    session = agent.session(user_id, session_id)
    out = sys.stdout
    out.write(f"convrec ({agent.catalog.name}); session {session.id}. {HELP}\n")
    shown: list[str] = []
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            out.write("> ")
            out.flush()
        line = _read_line()
        if not line:
            return 0
        line = line.rstrip("\r\n")
        if line.strip() in ("/quit", "/exit"):
            return 0
        if line.startswith("/"):
            shown = _command(session, agent, line, shown, out) or shown
            continue
        reply = _answer(lambda on_text, line=line: session.send(line, on_text=on_text), out)
        shown = [r.item_id for r in reply.recommendations] or shown
        for note in reply.notices:
            if not note.startswith("I don't know"):
                out.write(f"[note] {note}\n")
        out.write(f"[{reply.timings.get('total', 0):.1f} s]\n")
        out.flush()


def _read_line() -> str:
    """One line of stdin as UTF-8 text; bytes that are not UTF-8 become U+FFFD ('' at EOF)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:  # the bytes, so no locale or error policy can fail the read
        return safe_bytes(buffer.readline())
    return safe_text(sys.stdin.readline())


def _answer(run: Callable[[Callable[[str], None]], Any], out: Any) -> Any:
    """Run a turn with its text streamed to `out`; print the reply's text if nothing streamed.

    Template questions and messages are never streamed, so without this a question turn
    printed nothing.
    """
    streamed: list[str] = []

    def on_text(piece: str) -> None:
        streamed.append(piece)
        out.write(piece)
        out.flush()

    reply = run(on_text)
    printed = "".join(streamed)
    if not printed.strip():
        printed = reply.text
        out.write(printed)
    if not printed.endswith("\n"):
        out.write("\n")
    return reply


def _command(session, agent, line: str, shown: list[str], out) -> list[str] | None:  # type: ignore[no-untyped-def]
    parts = line.split()
    cmd = parts[0]
    if cmd == "/profile":
        out.write(session.profile.model_dump_json(indent=2) + "\n")
        return None
    if cmd == "/new":
        session.__init__(agent, None, session.user_id)
        out.write(f"new session {session.id}\n")
        return []
    kinds = {"/like": "liked", "/dislike": "disliked", "/seen": "seen"}
    if cmd in (*kinds, "/more") and len(parts) == 2 and parts[1].isdigit():
        n = int(parts[1])
        if not 1 <= n <= len(shown):
            out.write(f"no card {n}; the last reply showed {len(shown)}\n")
            return None
        item_id = shown[n - 1]
        if cmd == "/more":
            reply = _answer(lambda on_text: session.more_like(item_id, on_text=on_text), out)
            return [r.item_id for r in reply.recommendations]
        session.feedback(item_id, kinds[cmd])
        out.write(f"noted: {kinds[cmd]} {agent.catalog.items[item_id].shown_title}\n")
        return None
    out.write(HELP + "\n")
    return None
