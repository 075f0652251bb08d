"""The terminal chat UI (Textual) on top of the agent's public API."""

from tui.app import ConvrecApp, run_tui

__all__ = ["ConvrecApp", "run_tui"]
