"""The setting flags generated from `Settings`: the same in every command, each reaching Settings."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.settings import Settings
from agent.settings_flags import EXCLUDED, GROUP_TITLE, _scalar, flag_name, setting_fields, settings_from_args
from convrec.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CONVREC_* variable and no config file of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith("CONVREC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CONVREC_HOME", str(tmp_path / "home"))


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _sub(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    return _subcommands(parser)[name]


def _setting_flags(parser: argparse.ArgumentParser) -> set[str]:
    """The option strings of the parser's settings group, each also shown by its --help."""
    groups = [g for g in parser._action_groups if g.title == GROUP_TITLE]
    assert len(groups) == 1, f"{parser.prog}: {len(groups)} settings groups"
    flags = {s for a in groups[0]._group_actions for s in a.option_strings}
    text = parser.format_help()
    missing = {f for f in flags if f not in text}
    assert not missing, f"{parser.prog} --help does not show {missing}"
    return flags


def _leaves(parser: argparse.ArgumentParser,
            path: tuple[str, ...] = ()) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every runnable command under `parser` (sub-commands of sub-commands included)."""
    subs = _subcommands(parser)
    if not subs:
        return {path: parser}
    return {k: v for name, sub in subs.items() for k, v in _leaves(sub, (*path, name)).items()}


def _leaf(path: tuple[str, ...]) -> argparse.ArgumentParser:
    return _leaves(build_parser())[path]


def test_every_command_takes_the_same_setting_flags_covering_every_field() -> None:
    expected = ({"--config", "-v", "--verbose"}
                | {f"--{flag_name(f)}" for f in setting_fields()}
                | {f"--no-{flag_name(f)}" for f in setting_fields()
                   if Settings.model_fields[f].annotation is bool})
    assert set(setting_fields()) | set(EXCLUDED) == set(Settings.model_fields)
    assert not EXCLUDED  # every setting has a flag today; an exclusion needs its reason
    leaves = _leaves(build_parser())
    assert {("chat",), ("eval", "interview"), ("eval", "redial"), ("bench", "turn"),
            ("bench", "soak")} <= set(leaves)
    for path, leaf in leaves.items():
        assert _setting_flags(leaf) == expected, " ".join(path)
    # The stand-alone entry points (no shared flag set passed in) add the same generated set.
    from benchmarks.cli import add_commands as bench_commands
    from evaluation.cli import add_commands as eval_commands

    for add in (eval_commands, bench_commands):
        top = argparse.ArgumentParser()
        add(top.add_subparsers(dest="subcommand"))
        subs = _subcommands(top)
        assert subs
        for name, leaf in subs.items():
            assert _setting_flags(leaf) == expected, name


def test_the_real_entry_point_lists_them() -> None:
    """`python -m convrec eval redial --help` shows the flags the in-process parser has."""
    out = subprocess.run([sys.executable, "-m", "convrec", "eval", "redial", "--help"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": "200"}, check=True).stdout
    for flag in _setting_flags(_leaf(("eval", "redial"))):
        assert flag in out
    assert "--llm-seed" in out and "--memory-half-life-days" in out


def _value(field: str) -> tuple[list[str], Any]:
    """Command-line words that set `field` to a value other than its default, and that value."""
    info = Settings.model_fields[field]
    kind, choices = _scalar(info.annotation)
    flag = f"--{flag_name(field)}"
    if kind is bool:
        return ([f"--no-{flag_name(field)}"] if info.default else [flag]), not info.default
    if choices:
        value = next(c for c in choices if c != info.default)
        return [flag, str(value)], value
    if field == "sessions_url":
        return [flag, "postgresql://u@h/db"], "postgresql://u@h/db"
    if kind is int:
        bounds = {type(m).__name__: m for m in info.metadata}
        value = (info.default or 2) + 1
        if "Le" in bounds and value > bounds["Le"].le:
            value = info.default - 1
        return [flag, str(value)], value
    if kind is float:
        return [flag, "12.5"], 12.5
    if kind is Path:
        return [flag, "/tmp/convrec-flag-test"], Path("/tmp/convrec-flag-test")
    return [flag, f"{field}-value"], f"{field}-value"


@pytest.mark.parametrize("path", [("chat",), ("eval", "interview"), ("bench", "soak")])
def test_each_flag_reaches_the_settings(path: tuple[str, ...]) -> None:
    argv, expected = list(path), {}
    for field in setting_fields():
        words, value = _value(field)
        assert value != Settings.model_fields[field].default, field
        argv += words
        expected[field] = value
    if path == ("chat",):
        argv.append("--plain")
    args = build_parser().parse_args(argv)
    settings = settings_from_args(args)
    assert {f: getattr(settings, f) for f in expected} == expected


def test_flags_not_given_leave_config_and_env_alone(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text('ranker = "rrf"\nmemory = false\nn_ctx = 4096\n', encoding="utf-8")
    monkeypatch.setenv("CONVREC_N_RECOMMENDATIONS", "7")
    args = build_parser().parse_args(["bench", "turn", "--config", str(config)])
    s = settings_from_args(args)
    assert (s.ranker, s.memory, s.n_ctx, s.n_recommendations) == ("rrf", False, 4096, 7)
    args = build_parser().parse_args(["bench", "turn", "--config", str(config), "--memory",
                                      "--n-ctx", "1024", "--n-recommendations", "3"])
    s = settings_from_args(args)
    assert (s.ranker, s.memory, s.n_ctx, s.n_recommendations) == ("rrf", True, 1024, 3)


def test_command_seeds_and_the_llm_seed_are_separate() -> None:
    args = build_parser().parse_args(["eval", "interview", "--seed", "3", "--llm-seed", "9"])
    assert args.seed == 3 and settings_from_args(args).seed == 9
    args = build_parser().parse_args(["bench", "soak", "--seed", "4"])
    assert args.seed == 4 and settings_from_args(args).seed == 0


class _Loaded(Exception):
    """Raised by the fake catalog loader with the name it was asked for."""


@pytest.mark.parametrize("sub", ["interview", "redial"])
def test_eval_uses_the_catalog_setting(sub: str, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path) -> None:
    import catalog.loading

    def fake_load(name: str, *a: Any, **k: Any) -> None:
        raise _Loaded(name)

    monkeypatch.setattr(catalog.loading, "load_catalog", fake_load)
    extra = ["--dialogues", str(tmp_path / "d.jsonl")] if sub == "redial" else []
    monkeypatch.setenv("CONVREC_CATALOG", "ml-100k")  # from the environment, as everywhere
    args = build_parser().parse_args(["eval", sub, *extra])
    with pytest.raises(_Loaded, match="ml-100k"):
        args.handler(args)
    args = build_parser().parse_args(["eval", sub, "--catalog", str(tmp_path), *extra])
    with pytest.raises(_Loaded, match=str(tmp_path)):
        args.handler(args)


def test_a_bad_value_is_one_clear_line() -> None:
    from catalog.errors import UserFacingError

    args = build_parser().parse_args(["chat", "--n-ctx", "10"])
    with pytest.raises(UserFacingError, match="n_ctx"):
        settings_from_args(args)
    with pytest.raises(SystemExit):  # argparse itself rejects an unknown choice
        build_parser().parse_args(["chat", "--ranker", "best"])


def test_an_unsupported_field_type_fails_loudly() -> None:
    with pytest.raises(TypeError):
        _scalar(dict[str, int])
    with pytest.raises(TypeError):
        _scalar(int | str)
