"""LLM backends: the one-call contract, llama.cpp, OpenAI-compatible HTTP, a fake, LangChain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.backends.base import BackendError, Completion, LLMBackend, Message
from agent.backends.factory import make_backend
from agent.backends.http import HttpBackend
from agent.backends.scripted import ScriptedBackend

if TYPE_CHECKING:
    from agent.backends.langchain_adapter import ConvrecChatModel, LangChainBackend
    from agent.backends.llama_cpp import LlamaCppBackend

__all__ = [
    "BackendError",
    "Completion",
    "ConvrecChatModel",
    "HttpBackend",
    "LLMBackend",
    "LangChainBackend",
    "LlamaCppBackend",
    "Message",
    "ScriptedBackend",
    "make_backend",
]

_LAZY = {"LlamaCppBackend": "agent.backends.llama_cpp",
         "ConvrecChatModel": "agent.backends.langchain_adapter",
         "LangChainBackend": "agent.backends.langchain_adapter"}


def __getattr__(name: str) -> Any:
    """Import the heavy backends (llama.cpp's library, LangChain) only when first used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
