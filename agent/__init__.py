"""The conversational core: sessions, understanding, policy, planning, justification, API."""

from agent.core import Agent
from agent.profile import LinkedItem, UserProfile
from agent.reply import LLMCall, Recommendation, Reply
from agent.session import Session
from agent.settings import Settings, load_settings

__all__ = [
    "Agent",
    "LLMCall",
    "LinkedItem",
    "Recommendation",
    "Reply",
    "Session",
    "Settings",
    "UserProfile",
    "load_settings",
]
