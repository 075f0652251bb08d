"""A scripted fake LLM backend for tests: canned or computed replies, every request recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.backends.base import Completion, Message

Responder = Callable[[list[Message], dict[str, Any] | None], str]


@dataclass
class ScriptedBackend:
    """Replies from a queue of strings/dicts, or from a responder function when the queue is empty.

    A dict reply is serialised as JSON. Every call is appended to `requests` so tests can
    assert on prompts, schemas and token caps.
    """

    replies: list[str | dict[str, Any]] = field(default_factory=list)
    responder: Responder | None = None
    name: str = "scripted"
    requests: list[dict[str, Any]] = field(default_factory=list)

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
        """Return the next scripted reply (see class docstring)."""
        self.requests.append({"messages": messages, "max_tokens": max_tokens,
                              "json_schema": json_schema, "stop": stop})
        if self.replies:
            reply = self.replies.pop(0)
        elif self.responder is not None:
            reply = self.responder(messages, json_schema)
        else:
            reply = "{}" if json_schema else "OK."
        text = reply if isinstance(reply, str) else json.dumps(reply)
        if on_token:
            for piece in text.split(" "):
                on_token(piece + " ")
        prompt_tokens = sum(len(m["content"].split()) for m in messages)
        return Completion(text=text, finish_reason="stop", prompt_tokens=prompt_tokens,
                          completion_tokens=len(text.split()), seconds=0.0,
                          first_token_seconds=0.0)
