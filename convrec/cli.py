"""The `convrec` command line: setup, build, chat, ask, check, sessions, bench, eval."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from catalog.errors import UserFacingError

log = logging.getLogger("convrec")


def _common(p: argparse.ArgumentParser) -> None:
    """The settings flags every command takes, generated from `Settings` (agent.settings_flags)."""
    from agent.settings_flags import add_setting_flags

    add_setting_flags(p)


def settings_from(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Settings from the config file, env and these flags."""
    from agent.settings_flags import settings_from_args

    return settings_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="convrec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup", help="install the model (and ml-100k with --catalog ml-100k), "
                       "build the catalog's artifacts")
    _common(p)
    p.add_argument("--no-build", action="store_true", help="skip building the artifacts")
    p = sub.add_parser("build", help="build and cache the catalog's artifacts")
    _common(p)
    p.add_argument("--rebuild", action="store_true", help="delete and rebuild the artifacts")
    p = sub.add_parser("chat", help="chat in the terminal UI (or --plain line mode)")
    _common(p)
    p.add_argument("--plain", action="store_true", help="line-mode chat on stdin/stdout")
    p.add_argument("--session", help="resume a saved session id")
    p.add_argument("--user", default="local")
    p = sub.add_parser("ask", help="one turn; prints the reply")
    _common(p)
    p.add_argument("text")
    p.add_argument("--json", action="store_true", help="print the whole reply as JSON")
    p.add_argument("--session", help="continue a saved session id")
    p.add_argument("--user", default="local")
    p = sub.add_parser("check", help="self-test: model, artifacts, store")
    _common(p)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("sessions", help="list, export or delete saved sessions")
    _common(p)
    p.add_argument("action", choices=["list", "export", "delete", "delete-user"])
    p.add_argument("target", nargs="?", help="session id (delete) or user id (export/delete-user)")
    from convrec.serve import add_serve_command

    add_serve_command(sub, _common)
    from convrec.memory_cmd import add_memory_command

    add_memory_command(sub, _common)
    for name, module in (("bench", "benchmarks.cli"), ("eval", "evaluation.cli"),
                         ("train", "evaluation.train_ranker")):
        p = sub.add_parser(name, help=f"{name} commands")
        p.set_defaults(lazy_module=module)
        _attach_lazy(p, module)
    return parser


def _attach_lazy(p: argparse.ArgumentParser, module: str) -> None:
    try:
        mod = __import__(module, fromlist=["add_commands"])
    except ImportError as exc:
        p.set_defaults(unavailable=f"{module} is not available: {exc}")
        return
    mod.add_commands(p.add_subparsers(dest="subcommand", required=True), _common)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user-facing errors are one line on stderr and a non-zero exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if getattr(args, "unavailable", None):
            raise UserFacingError(args.unavailable, "reinstall convrec")
        handler = getattr(args, "handler", None) or COMMANDS[args.command]
        return int(handler(args) or 0)
    except UserFacingError as exc:
        print(f"convrec: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("convrec: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, no traceback
        if getattr(args, "verbose", False):
            raise
        print(f"convrec: error: {type(exc).__name__}: {exc} (run with -v for details)",
              file=sys.stderr)
        return 1


def cmd_setup(args: argparse.Namespace) -> int:
    from agent.model_files import NAMED_MODELS, install_model
    from catalog import ml100k

    settings = settings_from(args)
    cache = settings.resolved_cache_dir()
    start = time.perf_counter()
    did = []
    if settings.model in NAMED_MODELS:
        if install_model(settings.model, cache):
            did.append(f"model {settings.model}")
    else:
        from agent.model_files import resolve_model_path

        resolve_model_path(settings.model, cache)
    # movielens-redial is embedded in the package; ml-100k may not be redistributed and is
    # fetched only when it is the catalog (`convrec setup --catalog ml-100k`).
    if settings.catalog == "ml-100k" and ml100k.install(cache):
        did.append("catalog ml-100k")
    if not args.no_build:
        if _build(settings, rebuild=False):
            did.append(f"artifacts for {settings.catalog}")
    took = time.perf_counter() - start
    if did:
        print(f"setup done in {took:.1f} s: installed {', '.join(did)} (cache: {cache})")
    else:
        print(f"setup: nothing to do, everything is installed and verified ({took:.1f} s; "
              f"cache: {cache})")
    return 0


def _build(settings: Any, rebuild: bool) -> bool:
    import shutil

    from catalog.loading import load_catalog
    from tools.base import ToolResources
    from tools.registry import ToolRegistry

    cache = settings.resolved_cache_dir()
    catalog = load_catalog(settings.catalog, cache, settings.data_dir)
    resources = ToolResources(catalog=catalog, cache_dir=cache, store_url=settings.store_url,
                              show_progress=sys.stderr.isatty() or True)
    registry = ToolRegistry()
    did = False
    if rebuild and settings.store_url:  # the server's collection outlives the local folders
        from tools.engines.chroma_store import drop_collection

        drop_collection(resources)
    if rebuild:  # once, before building: inside the loop it deleted what the last tool built
        for kind in ("chroma", "kg", "cf"):
            shutil.rmtree(resources.artifact_dir(kind), ignore_errors=True)
    for name in registry.names():
        did = registry.get(name).build_artifacts(resources) or did
    return did


def cmd_build(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    start = time.perf_counter()
    did = _build(settings, args.rebuild)
    took = time.perf_counter() - start
    print(f"build: {'built' if did else 'nothing to do, artifacts are cached'} for "
          f"{settings.catalog} in {took:.1f} s")
    return 0


def _agent(args: argparse.Namespace, show_progress: bool = False):  # type: ignore[no-untyped-def]
    from agent import Agent

    return Agent.from_settings(settings_from(args), show_progress=show_progress)


def _safe_text_args(args: argparse.Namespace) -> None:
    """Argv arrives with undecodable bytes as lone surrogates: make the text arguments UTF-8."""
    from catalog.text import safe_text

    for name in ("text", "user", "session"):
        if isinstance(getattr(args, name, None), str):
            setattr(args, name, safe_text(getattr(args, name)))
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 terminal shows '?', never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def cmd_ask(args: argparse.Namespace) -> int:
    _safe_text_args(args)
    agent = _agent(args)
    session = agent.session(args.user, args.session)
    reply = session.send(args.text)
    if args.json:
        print(reply.model_dump_json(indent=2))
    else:
        print(reply.text)
        print(f"(session {reply.session_id}; {reply.timings.get('total', 0):.1f} s)")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    _safe_text_args(args)
    if not args.plain:
        from tui.app import run_tui

        run_tui(settings_from(args), session_id=args.session)
        return 0
    from convrec.plain_chat import run_plain

    return run_plain(_agent(args, show_progress=True), args.user, args.session)


def cmd_check(args: argparse.Namespace) -> int:
    from convrec.health import run_checks

    report = run_checks(settings_from(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, item in report["checks"].items():
            print(f"{'ok  ' if item['ok'] else 'FAIL'} {name}: {item['detail']}")
    return 0 if report["ok"] else 1


def cmd_sessions(args: argparse.Namespace) -> int:
    from agent.store import open_session_store

    store = open_session_store(settings_from(args))
    if args.action == "list":
        for s in store.list_sessions(args.target):
            print(f"{s['id']}  user={s['user_id']}  updated={time.ctime(s['updated'])}")
    elif args.action == "export":
        if not args.target:
            raise UserFacingError("export needs a user id", "convrec sessions export USER")
        print(json.dumps(store.export_user(args.target), indent=2))
    elif args.action == "delete":
        if not args.target or not store.delete_session(args.target):
            raise UserFacingError(f"no session {args.target!r}", "see `convrec sessions list`")
        print(f"deleted session {args.target}")
    else:
        if not args.target:
            raise UserFacingError("delete-user needs a user id", "convrec sessions delete-user U")
        print(f"deleted {store.delete_user(args.target)} sessions of {args.target}")
    return 0


COMMANDS = {"setup": cmd_setup, "build": cmd_build, "ask": cmd_ask, "chat": cmd_chat,
            "check": cmd_check, "sessions": cmd_sessions}
