"""Line-mode chat on stdin/stdout, for scripts and pipes (`convrec chat --plain`)."""

from __future__ import annotations

import sys

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
        line = sys.stdin.readline()
        if not line:
            return 0
        line = line.rstrip("\n")
        if line.strip() in ("/quit", "/exit"):
            return 0
        if line.startswith("/"):
            shown = _command(session, agent, line, shown, out) or shown
            continue
        reply = session.send(line, on_text=lambda piece: (out.write(piece), out.flush()))
        if reply.kind != "recommendations":
            out.write("\n")
        shown = [r.item_id for r in reply.recommendations] or shown
        for note in reply.notices:
            if not note.startswith("I don't know"):
                out.write(f"[note] {note}\n")
        out.write(f"[{reply.timings.get('total', 0):.1f} s]\n")
        out.flush()


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
            reply = session.more_like(item_id, on_text=lambda p: out.write(p))
            return [r.item_id for r in reply.recommendations]
        session.feedback(item_id, kinds[cmd])
        out.write(f"noted: {kinds[cmd]} {agent.catalog.items[item_id].display_title}\n")
        return None
    out.write(HELP + "\n")
    return None
