"""Command-line flags generated from `Settings`: one flag per field, shared by every command."""

from __future__ import annotations

import argparse
import logging
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from agent.settings import Settings, load_settings

log = logging.getLogger(__name__)

GROUP_TITLE = "settings (override env CONVREC_* and the config file)"

# A field whose flag is not spelled like the field. `seed` (the LLM's sampling seed) becomes
# --llm-seed: eval interview/redial, train ranker and the benches already have their own --seed
# (simulated users, folds, generated messages), and the two must not share one flag or dest.
FLAG_NAMES: dict[str, str] = {"seed": "llm-seed"}
# Older spellings still accepted, per field (none today; every flag before this module was
# spelled like its field).
ALIASES: dict[str, tuple[str, ...]] = {}
# Fields that get no flag, each with its reason (none today).
EXCLUDED: dict[str, str] = {}


METAVARS: dict[Any, str] = {int: "N", float: "X", str: "TEXT", Path: "PATH"}


def flag_name(field: str) -> str:
    """The long option of one setting, without the dashes: n_gpu_layers -> n-gpu-layers."""
    return FLAG_NAMES.get(field, field.replace("_", "-"))


def flag_dest(field: str) -> str:
    """The argparse dest of one setting's flag (the field name unless renamed)."""
    return flag_name(field).replace("-", "_")


def setting_fields() -> list[str]:
    """The settings that have a flag, in the model's order."""
    return [name for name in Settings.model_fields if name not in EXCLUDED]


def _scalar(annotation: Any) -> tuple[Any, list[Any] | None]:
    """(argparse type, choices) for one field annotation; `X | None` is X."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"no flag type for {annotation!r}")
        return _scalar(inner[0])
    if origin is Literal:
        choices = list(get_args(annotation))
        return type(choices[0]), choices
    if annotation in (bool, int, float, str, Path):
        return annotation, None
    raise TypeError(f"no flag type for {annotation!r}")


def _help(field: str) -> str:
    info = Settings.model_fields[field]
    text = (info.description or field).rstrip(".")
    default = info.default
    env = f"env CONVREC_{field.upper()}"
    if default is None:  # the description says what happens without it, if anything
        tail = f"({env})"
    else:
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        tail = f"(default {shown}; {env})"
    return f"{text} {tail}".replace("%", "%%")


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """Add --config, -v/--verbose and one flag per setting to `parser`.

    Every setting flag defaults to None, so only the flags given override the config file and
    the environment; a bool setting gets --x and --no-x, a Literal one its choices.
    """
    group = parser.add_argument_group(GROUP_TITLE)
    group.add_argument("--config", type=Path, metavar="PATH", help="TOML config file "
                       "(default: CONVREC_CONFIG, else <cache dir>/config.toml)")
    for field in setting_fields():
        kind, choices = _scalar(Settings.model_fields[field].annotation)
        names = [f"--{flag_name(field)}", *(f"--{a}" for a in ALIASES.get(field, ()))]
        if kind is bool:
            group.add_argument(*names, dest=flag_dest(field), default=None,
                               action=argparse.BooleanOptionalAction, help=_help(field))
        else:
            group.add_argument(*names, dest=flag_dest(field), default=None, type=kind,
                               choices=choices, help=_help(field),
                               metavar=None if choices else METAVARS[kind])
    group.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags in `args`: field -> value, flags not given left out."""
    values = {field: getattr(args, flag_dest(field), None) for field in setting_fields()}
    return {field: value for field, value in values.items() if value is not None}


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from the config file, the environment and the flags in `args` (flags win).

    Raises:
        UserFacingError: when the config file is unreadable or a value is invalid.
    """
    return load_settings(getattr(args, "config", None), **setting_overrides(args))
