"""`convrec bench ...` sub-commands."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from agent.settings_flags import add_setting_flags, settings_from_args

CommonFlags = Callable[[argparse.ArgumentParser], None]


def add_commands(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                 common: CommonFlags | None = None) -> None:
    """Register `bench turn`, `bench load`, `bench soak` and `bench tools`.

    Args:
        sub: What `add_subparsers()` of the `bench` parser returned.
        common: Adds the shared settings flags; without it, the same flags generated from
            `Settings` (agent.settings_flags).
    """
    common = common or add_setting_flags
    p = sub.add_parser("turn", help="per-turn latency by stage on the real backend")
    common(p)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--report", type=Path, default=Path("reports/bench"))
    p.set_defaults(handler=_turn)
    p = sub.add_parser("soak", help="generated hostile/undecodable messages through whole turns "
                       "on the fake backend: escaped exceptions and malformed replies")
    common(p)
    p.add_argument("--messages", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--turns-per-session", type=int, default=10)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--report", type=Path, default=Path("reports/bench"))
    p.set_defaults(handler=_soak)
    from benchmarks.load import add_load_command

    add_load_command(sub, common)
    try:
        from benchmarks.tools_bench import add_tools_command
    except ImportError:
        return
    add_tools_command(sub, common)


def _turn(args: argparse.Namespace) -> int:
    from benchmarks.turn import run_turn_bench, write_report

    settings = settings_from_args(args)
    result = run_turn_bench(settings, repeats=args.repeats)
    md = write_report(result, args.report, "bench-turn")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(md.read_text())
    return 0


def _soak(args: argparse.Namespace) -> int:
    from benchmarks.soak import run_soak, write_soak_report

    result = run_soak(settings_from_args(args), messages=args.messages, seed=args.seed,
                      turns_per_session=args.turns_per_session)
    md = write_soak_report(result, args.report)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(md.read_text())
    return 0 if result["escaped"] == 0 and result["malformed"] == 0 else 1
