"""`convrec eval interview|redial`: argparse sub-commands that run, save and print evaluations."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.settings_flags import add_setting_flags, settings_from_args
from catalog.errors import UserFacingError

log = logging.getLogger(__name__)

CommonFlags = Callable[[argparse.ArgumentParser], None]


def _int_list(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") \
            from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _str_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _own_common(p: argparse.ArgumentParser) -> None:
    """The shared settings flags (the same generated set `convrec` itself adds)."""
    add_setting_flags(p)


def add_commands(subparsers: Any, common: CommonFlags | None = None) -> None:
    """Register `interview` and `redial` on an `eval` command's sub-parsers.

    Args:
        subparsers: What `add_subparsers()` of the `eval` parser returned.
        common: Adds the shared settings flags (--backend, --catalog, --data-dir, ...);
            without it, the same flags generated from `Settings`.
    """
    common = common or _own_common
    p = subparsers.add_parser("interview", help="simulated cold-start interviews",
                              description="Simulated cold-start interviews: success@T, "
                              "Recall/NDCG@K, reliability and latency per method.")
    common(p)
    p.add_argument("--users", type=int, default=50, help="simulated users (default 50)")
    p.add_argument("--turns", type=_int_list, default=[3, 5, 10], help="turn budgets, e.g. 3,5,10")
    p.add_argument("--k", type=int, default=10, help="headline cut-off K (1, 5, 20 also shown)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", type=_str_list, default=None,
                   help="comma list of random,popularity,cf,retrieval,kg,fused,agent,oracle")
    p.add_argument("--simulator", choices=["rules", "llm"], default="rules",
                   help="rule-based user, or its answers paraphrased by the LLM")
    p.add_argument("--test-fraction", type=float, default=0.2, help="share of held-out users")
    p.add_argument("--users-from", choices=["test", "dev"], default="test",
                   help="held-out test users (reported) or development users (for tuning)")
    p.add_argument("--records", type=Path, help="append one JSON line per conversation here")
    p.add_argument("--user-slice", default=None,
                   help="START:STOP: only these of the --users users (split a run)")
    p.add_argument("--shard", default="0/1", help="I/N: of those, every N-th user from the I-th")
    p.add_argument("--from-records", type=Path, nargs="+", default=None,
                   help="summarise these --records files instead of running")
    p.add_argument("--json", type=Path, dest="json_out", help="write the results here")
    p.add_argument("--report", type=Path, help="write report.md and plots into this folder")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(handler=cmd_interview)
    p = subparsers.add_parser("redial", help="ReDial dialogue-context Recall@K",
                              description="ReDial protocol: Recall@K over every (sample, "
                              "target) pair of the next human recommendations (unmappable "
                              "targets are misses), all targets and new targets.")
    common(p)
    p.add_argument("--dialogues", type=Path, default=None,
                   help="ReDial JSONL (default: <data-dir>/redial/dev_dialogues.jsonl)")
    p.add_argument("--k", type=_int_list, default=[1, 5, 10, 20], help="cut-offs, e.g. 1,5,10,20")
    p.add_argument("--limit", type=int, default=None, help="read at most N samples")
    p.add_argument("--methods", type=_str_list, default=None,
                   help="comma list of random,popularity,cf,kg,retrieval,fused,agent,"
                   "fused+transcript")
    p.add_argument("--shard", default="0/1", help="I/N: every N-th dialogue from the I-th")
    p.add_argument("--records", type=Path, help="append one JSON line per method and sample")
    p.add_argument("--from-records", type=Path, nargs="+", default=None,
                   help="summarise these --records files instead of running")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, dest="json_out", help="write the results here")
    p.add_argument("--report", type=Path, help="write redial.md and plots into this folder")
    p.add_argument("--include-training-dialogues", action="store_true",
                   help="also score the dialogues the installed co-mention table and learned "
                   "ranker were trained on (by default only their held-out fold is scored)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(handler=cmd_redial)
    from evaluation.understanding_eval import add_arguments as understanding_arguments

    p = subparsers.add_parser("understanding", help="labelled understanding set: P/R per field",
                              description="Read each labelled message in a fresh session and "
                              "score what the profile gained: precision/recall per field, "
                              "mention F1, invented titles on chit-chat, intent accuracy.")
    common(p)
    understanding_arguments(p)


def add_eval_commands(subparsers: Any,
                      common: CommonFlags | None = None) -> argparse.ArgumentParser:
    """Register `eval` (with `interview` and `redial`) on a top-level parser's sub-parsers."""
    p = subparsers.add_parser("eval", help="offline evaluation: interviews, ReDial")
    add_commands(p.add_subparsers(dest="subcommand", required=True), common)
    return p


def _pair(text: str, sep: str) -> tuple[int, int]:
    """'3:7' or '0/2' as two integers."""
    try:
        a, b = (int(x) for x in text.split(sep))
    except ValueError as exc:
        raise UserFacingError(f"{text!r} is not two integers joined by {sep!r}",
                              f"e.g. 0{sep}2") from exc
    return a, b


def _settings(args: argparse.Namespace) -> Any:
    """Settings from the config file, env and the shared flags (catalog included)."""
    return settings_from_args(args)


def _backend_for(settings: Any, catalog: Any) -> Any:
    """The scripted backend answers through the keyword responder, so the agent understands."""
    if settings.backend != "scripted":
        return None
    from agent.testing import keyword_backend

    return keyword_backend(catalog)


def cmd_interview(args: argparse.Namespace) -> int:
    """Run `convrec eval interview`; prints a compact table."""
    from catalog.loading import load_catalog
    from evaluation.interview import DEFAULT_METHODS, run_interviews, write_json
    from evaluation.report import interview_table, write_interview_report

    if args.from_records:
        from evaluation.interview import summarize_records

        summary = summarize_records(args.from_records, args.turns, sorted({1, 5, args.k, 20}),
                                    args.seed)
        results = {"config": {"turns": sorted(args.turns), "k": args.k}, **summary}
        print(interview_table(results))
        print(f"users finished by every method: {summary['n_users']}")
        if args.json_out:
            print(f"results: {write_json(results, args.json_out)}")
        return 0
    settings = _settings(args)
    name = settings.catalog
    catalog = load_catalog(name, settings.resolved_cache_dir(), settings.data_dir)
    methods = args.methods or list(DEFAULT_METHODS)
    try:
        results = run_interviews(
            name, settings.data_dir, n_users=args.users, turns=args.turns, k=args.k,
            seed=args.seed, settings=settings, backend=_backend_for(settings, catalog),
            methods=methods, catalog=catalog, simulator=args.simulator,
            test_fraction=args.test_fraction, show_progress=not args.no_progress,
            users_from=args.users_from, records=args.records,
            user_slice=_pair(args.user_slice, ":") if args.user_slice else None,
            shard=_pair(args.shard, "/"))
    except ValueError as exc:
        raise UserFacingError(str(exc), "see `convrec eval interview --help`") from exc
    print(interview_table(results))
    for method, why in results["skipped_methods"].items():
        print(f"not run: {method}: {why}")
    if args.json_out:
        print(f"results: {write_json(results, args.json_out)}")
    if args.report:
        print(f"report: {write_interview_report(results, args.report)}")
    return 0


def cmd_redial(args: argparse.Namespace) -> int:
    """Run `convrec eval redial`; prints a compact table."""
    from catalog.loading import load_catalog, resolve_data_dir
    from evaluation.interview import write_json
    from evaluation.redial import REDIAL_METHODS, run_redial
    from evaluation.report import redial_table, write_redial_report

    if args.from_records:
        from evaluation.redial import load_records
        from evaluation.redial_summary import summarize_records

        results = {"config": {"ks": sorted(set(args.k)), "dialogues": "records"},
                   **summarize_records(load_records(args.from_records), sorted(set(args.k)),
                                       seed=args.seed)}
        print(redial_table(results))
        if args.json_out:
            print(f"results: {write_json(results, args.json_out)}")
        return 0
    try:
        shard = tuple(int(x) for x in args.shard.split("/"))
        if len(shard) != 2:
            raise ValueError
    except ValueError as exc:
        raise UserFacingError(f"--shard {args.shard!r} is not I/N", "e.g. --shard 0/2") from exc
    settings = _settings(args)
    name = settings.catalog
    dialogues = args.dialogues or (resolve_data_dir(settings.data_dir) / "redial"
                                   / "dev_dialogues.jsonl")
    catalog = load_catalog(name, settings.resolved_cache_dir(), settings.data_dir)
    methods = args.methods or list(REDIAL_METHODS)
    unknown = [m for m in methods if m not in REDIAL_METHODS]
    if unknown:
        raise UserFacingError(f"unknown method(s) {', '.join(unknown)}",
                              f"use some of {', '.join(REDIAL_METHODS)}")
    try:
        results = run_redial(dialogues, name, settings.data_dir, ks=args.k, limit=args.limit,
                             methods=methods, seed=args.seed, settings=settings,
                             backend=_backend_for(settings, catalog), catalog=catalog,
                             records=args.records, shard=(shard[0], shard[1]),
                             show_progress=not args.no_progress,
                             held_out_only=not args.include_training_dialogues)
    except ValueError as exc:
        raise UserFacingError(str(exc), "see `convrec eval redial --help`") from exc
    print(redial_table(results))
    for method, why in results["skipped_methods"].items():
        print(f"not run: {method}: {why}")
    if args.json_out:
        print(f"results: {write_json(results, args.json_out)}")
    if args.report:
        print(f"report: {write_redial_report(results, args.report)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: `python -m evaluation.cli interview ...`."""
    parser = argparse.ArgumentParser(prog="convrec-eval", description=__doc__)
    add_commands(parser.add_subparsers(dest="subcommand", required=True))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except UserFacingError as exc:
        print(f"convrec eval: error: {exc.one_line()}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
