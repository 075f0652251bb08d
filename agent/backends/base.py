"""The LLM backend contract: one chat call, optionally JSON-schema constrained and streamed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from catalog.errors import ConvrecError

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


@dataclass
class Completion:
    """What one chat call produced, with its cost."""

    text: str
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    first_token_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class LLMBackend(Protocol):
    """Anything that can answer a chat: llama.cpp, an OpenAI-compatible server, a script."""

    name: str

    def chat(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        json_schema: dict[str, Any] | None = None,
        stop: list[str] | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Completion:
        """Answer the conversation.

        Args:
            messages: The chat so far, system message first.
            max_tokens: Hard cap on generated tokens.
            temperature: Sampling temperature (0 = greedy).
            json_schema: When given, decoding is constrained to JSON matching it.
            stop: Stop strings.
            on_token: Called with each streamed text piece, when the backend streams.
        """
        ...


class BackendError(ConvrecError):
    """The backend could not answer (server down, model failure); one of the ConvrecError family."""
