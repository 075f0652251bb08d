"""`convrec memory show|forget USER [ITEM]`: what is remembered about a user, and forgetting."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from catalog.errors import UserFacingError


def add_memory_command(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                       common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register the `memory` sub-command."""
    p = sub.add_parser("memory", help="show or forget what is remembered about a user")
    common(p)
    p.add_argument("action", choices=["show", "forget"])
    p.add_argument("user", help="the user id")
    p.add_argument("item", nargs="?", help="forget: an item id, entity (genre:horror) or "
                   "remembered title; without it, everything about the user is forgotten")
    p.add_argument("--json", action="store_true", help="show: the stored memory as JSON")
    p.set_defaults(handler=cmd_memory)


def cmd_memory(args: argparse.Namespace) -> int:
    """Show or forget a user's long-term memory."""
    from agent.memory import UserMemory, describe, forget_in_store
    from agent.store import open_session_store
    from convrec.cli import settings_from

    settings = settings_from(args)
    store = open_session_store(settings)
    try:
        memory = UserMemory.from_stored(store.load_memory(args.user))
        if args.action == "show":
            if args.json:
                print(json.dumps(memory.model_dump(mode="json"), indent=2, ensure_ascii=False))
            elif not memory.facts:
                print(f"nothing remembered about {args.user}")
            else:
                half = settings.memory_half_life_days
                print(f"{len(memory.facts)} facts about {args.user} (half-life "
                      f"{half:g} days{'' if settings.memory else '; memory is off'}):")
                print("\n".join(describe(memory, half_life_days=half)))
            return 0
        n = forget_in_store(store, args.user, args.item)
        if args.item and n == 0:
            raise UserFacingError(f"{args.item!r} is not remembered about {args.user}",
                                  f"see `convrec memory show {args.user}`")
        print(f"forgot {n} fact{'s' if n != 1 else ''} about {args.user}")
        return 0
    finally:
        store.close()
