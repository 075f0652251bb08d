"""The TUI's widgets: chat pane, recommendation cards, profile pane, status bar."""

from tui.widgets.cards import RecommendationCard, RecommendationsPane
from tui.widgets.chat import ChatMessage, ChatPane
from tui.widgets.profile import ProfilePane
from tui.widgets.status import StatusBar

__all__ = [
    "ChatMessage",
    "ChatPane",
    "ProfilePane",
    "RecommendationCard",
    "RecommendationsPane",
    "StatusBar",
]
