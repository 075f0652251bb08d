"""The TUI's screens: start-up progress, saved sessions, settings."""

from tui.screens.sessions import SessionsScreen
from tui.screens.settings import SettingsScreen, save_config
from tui.screens.startup import StartupScreen

__all__ = ["SessionsScreen", "SettingsScreen", "StartupScreen", "save_config"]
