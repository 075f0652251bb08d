"""The settings screen: model, catalog and GPU layers, saved to config.toml for the next start."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from agent import Settings
from tui.widgets.status import device_label

RESTART_NOTE = ("These settings are read when convrec starts: saving writes them to the config "
                "file, and they take effect the next time you start it. This session keeps "
                "its current model and catalog.")


def toml_value(value: Any) -> str:
    """One TOML value (strings, paths, numbers, booleans, flat lists)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to the config file")


def save_config(path: Path, updates: dict[str, Any]) -> dict[str, Any]:
    """Merge `updates` into the TOML config at `path` (validated as Settings) and write it.

    Raises:
        ValueError: when the existing file is unreadable or the result is not valid Settings.
    """
    values: dict[str, Any] = {}
    if path.is_file():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read {path}: {exc}") from exc
    values.update(updates)
    try:
        Settings.model_validate(values)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        errors = getattr(exc, "errors", None)
        if errors is None:
            raise
        err = errors()[0]
        raise ValueError(f"invalid {'.'.join(map(str, err['loc']))}: {err['msg']}") from exc
    lines = [f"{key} = {toml_value(value)}" for key, value in values.items() if value is not None]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("# written by convrec's settings screen\n" + "\n".join(lines) + "\n",
                   encoding="utf-8")
    tmp.replace(path)
    return values


class SettingsScreen(ModalScreen[None]):
    """Shows the running model, catalog and n_gpu_layers; saves changes for the next start."""

    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    SettingsScreen #settings-box {
        width: 80; height: auto; border: round $accent; padding: 1 2; background: $surface;
    }
    SettingsScreen .note { color: $text-muted; margin: 1 0; }
    SettingsScreen Label { margin-top: 1; }
    SettingsScreen #settings-buttons { height: auto; margin-top: 1; }
    SettingsScreen Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.config_path = settings.config_file()

    def compose(self) -> ComposeResult:
        s = self.settings
        device = device_label(s.n_gpu_layers)
        with Vertical(id="settings-box") as box:
            box.border_title = "Settings"
            yield Static(f"Running now: model {s.model}, catalog {s.catalog}, "
                         f"n_gpu_layers {s.n_gpu_layers} ({device}), backend {s.backend}.",
                         markup=False)
            yield Label("Model (a named model or a path to a GGUF file)")
            yield Input(s.model, id="set-model")
            yield Label("Catalog (ml-100k, movielens-redial or a catalog folder)")
            yield Input(s.catalog, id="set-catalog")
            yield Label("GPU layers (0 = CPU only, -1 = all layers on the GPU)")
            yield Input(str(s.n_gpu_layers), id="set-gpu", type="integer")
            yield Static(RESTART_NOTE + f"\nConfig file: {self.config_path}", classes="note",
                         markup=False)
            with Horizontal(id="settings-buttons"):
                yield Button("Save for next start", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Save or cancel."""
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_close()

    def values(self) -> dict[str, Any]:
        """The values typed in (n_gpu_layers as an int).

        Raises:
            ValueError: when n_gpu_layers is not a whole number.
        """
        gpu = self.query_one("#set-gpu", Input).value.strip()
        try:
            n_gpu_layers = int(gpu)
        except ValueError:
            raise ValueError(f"GPU layers must be a whole number, not {gpu!r}") from None
        return {"model": self.query_one("#set-model", Input).value.strip(),
                "catalog": self.query_one("#set-catalog", Input).value.strip(),
                "n_gpu_layers": n_gpu_layers}

    def action_save(self) -> None:
        """Write the config file and say that a restart applies it."""
        try:
            save_config(self.config_path, self.values())
        except (ValueError, TypeError, OSError) as exc:
            self.notify(str(exc), title="Not saved", severity="error", markup=False)
            return
        self.notify(f"Saved to {self.config_path}. Restart convrec to use them.",
                    title="Settings saved", markup=False)
        self.dismiss(None)

    def action_close(self) -> None:
        """Close without saving."""
        self.dismiss(None)
