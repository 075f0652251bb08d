"""Bridges to LangChain: our backends as a LangChain chat model, and LangChain models as ours."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from agent.backends.base import Completion, LLMBackend, Message

log = logging.getLogger(__name__)

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
_FINISH = {"max_tokens": "length", "MAX_TOKENS": "length", "length": "length",
           "end_turn": "stop", "stop_sequence": "stop", "STOP": "stop", "stop": "stop"}
_MAX_TOKEN_FIELDS = ("max_tokens", "max_output_tokens", "max_new_tokens", "num_predict")
JSON_INSTRUCTION = ("Reply with one JSON object only (no prose, no code fences) that matches "
                    "this JSON schema:\n{schema}")


def to_convrec_messages(messages: list[BaseMessage]) -> list[Message]:
    """LangChain messages as convrec chat messages (tool and other messages become user text)."""
    return [{"role": _ROLES.get(m.type, "user"), "content": str(m.text)} for m in messages]


def to_langchain_messages(messages: list[Message]) -> list[BaseMessage]:
    """convrec chat messages as LangChain messages."""
    kinds: dict[str, type[BaseMessage]] = {"system": SystemMessage, "assistant": AIMessage}
    return [kinds.get(m["role"], HumanMessage)(content=m["content"]) for m in messages]


def _usage(completion: Completion) -> UsageMetadata:
    return UsageMetadata(input_tokens=completion.prompt_tokens,
                         output_tokens=completion.completion_tokens,
                         total_tokens=completion.prompt_tokens + completion.completion_tokens)


def _metadata(completion: Completion) -> dict[str, Any]:
    return {"finish_reason": completion.finish_reason, "seconds": completion.seconds,
            "first_token_seconds": completion.first_token_seconds, **completion.extra}


class ConvrecChatModel(BaseChatModel):
    """Any convrec `LLMBackend` as a LangChain chat model (invoke, stream, batch, callbacks).

    `max_tokens`, `temperature` and `json_schema` can be set on the model or passed per call
    (`model.invoke(messages, max_tokens=64)`). Token usage lands in `usage_metadata`, and
    finish reason and timings in `response_metadata`. `stream()` runs the backend in a worker
    thread; abandoning the stream early lets that call run to its end.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    backend: LLMBackend = Field(description="The convrec backend that answers.")
    max_tokens: int = Field(256, ge=1, description="Cap on generated tokens per call.")
    temperature: float = Field(0.0, ge=0.0, description="Sampling temperature.")
    json_schema: dict[str, Any] | None = Field(None, description="Constrain replies to it.")

    @property
    def _llm_type(self) -> str:
        return f"convrec-{self.backend.name}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"backend": self.backend.name, "max_tokens": self.max_tokens,
                "temperature": self.temperature}

    def _call_args(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"max_tokens": int(kwargs.get("max_tokens", self.max_tokens)),
                "temperature": float(kwargs.get("temperature", self.temperature)),
                "json_schema": kwargs.get("json_schema", self.json_schema),
                "stop": stop}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        completion = self.backend.chat(to_convrec_messages(messages),
                                       **self._call_args(stop, kwargs))
        message = AIMessage(content=completion.text, usage_metadata=_usage(completion),
                            response_metadata=_metadata(completion))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        args = self._call_args(stop, kwargs)
        converted = to_convrec_messages(messages)

        def work() -> None:
            try:
                done = self.backend.chat(converted, on_token=lambda p: events.put(("token", p)),
                                         **args)
                events.put(("done", done))
            except BaseException as exc:  # handed to the consumer thread and re-raised there
                events.put(("error", exc))

        worker = threading.Thread(target=work, name="convrec-stream", daemon=True)
        worker.start()
        while True:
            kind, value = events.get()
            if kind == "error":
                raise value
            if kind == "done":
                yield ChatGenerationChunk(message=AIMessageChunk(
                    content="", usage_metadata=_usage(value),
                    response_metadata=_metadata(value), chunk_position="last"))
                break
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=value))
            if run_manager:
                run_manager.on_llm_new_token(value, chunk=chunk)
            yield chunk
        worker.join()


def extract_json(text: str) -> Any:
    """The first JSON value in a reply, skipping prose and code fences around it.

    Raises:
        ValueError: when the reply holds no complete JSON object or array.
    """
    decoder = json.JSONDecoder()
    for start, char in enumerate(text):
        if char in "{[":
            try:
                return decoder.raw_decode(text, start)[0]
            except json.JSONDecodeError:
                continue
    raise ValueError("no complete JSON object in the reply")


class LangChainBackend:
    """Any LangChain chat model as a convrec `LLMBackend`.

    Limitation: LangChain has no portable grammar-constrained decoding, so a JSON schema is
    sent as a system instruction and the reply is parsed afterwards. The schema is NOT
    enforced (maxItems, enums and required keys can be violated): validate the result (e.g.
    with the pydantic model the schema came from). With a schema, `text` is the extracted JSON
    re-serialised, `extra["raw_text"]` the reply as written (streamed pieces follow the raw
    reply), and `extra["json_error"]` is set when no JSON could be extracted.
    `max_tokens` and `temperature` reach the model only when it declares a field for them
    (`max_tokens`, `max_output_tokens`, `max_new_tokens` or `num_predict`; `temperature`).

    Args:
        chat_model: The LangChain chat model that answers.
        name: Backend name reported in logs.
    """

    def __init__(self, chat_model: BaseChatModel, *, name: str = "langchain") -> None:
        self.chat_model = chat_model
        self.name = name

    def _configured(self, max_tokens: int, temperature: float) -> BaseChatModel:
        """A shallow copy of the model with the per-call fields it supports set."""
        fields = type(self.chat_model).model_fields
        update: dict[str, Any] = {f: max_tokens for f in _MAX_TOKEN_FIELDS if f in fields}
        if "temperature" in fields:
            update["temperature"] = temperature
        return self.chat_model.model_copy(update=update) if update else self.chat_model

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
        """Answer the conversation (see `LLMBackend.chat` and the class limitation)."""
        lc_messages = to_langchain_messages(messages)
        if json_schema is not None:
            instruction = JSON_INSTRUCTION.format(schema=json.dumps(json_schema))
            lc_messages.insert(0, SystemMessage(content=instruction))
        model = self._configured(max_tokens, temperature)
        start = time.perf_counter()
        first: float | None = None
        if on_token is None:
            reply: BaseMessage = model.invoke(lc_messages, stop=stop)
        else:
            merged: AIMessageChunk | None = None
            for chunk in model.stream(lc_messages, stop=stop):
                piece = str(chunk.text)
                if piece:
                    first = first if first is not None else time.perf_counter() - start
                    on_token(piece)
                merged = chunk if merged is None else merged + chunk
            reply = merged if merged is not None else AIMessage(content="")
        text = str(reply.text)
        completion = Completion(text=text, seconds=time.perf_counter() - start,
                                first_token_seconds=first)
        usage = getattr(reply, "usage_metadata", None) or {}
        completion.prompt_tokens = int(usage.get("input_tokens", 0))
        completion.completion_tokens = int(usage.get("output_tokens", 0))
        meta = reply.response_metadata
        raw_finish = meta.get("finish_reason") or meta.get("stop_reason") or "stop"
        completion.finish_reason = _FINISH.get(str(raw_finish), str(raw_finish))
        if json_schema is not None:
            completion.extra["raw_text"] = text
            try:
                completion.text = json.dumps(extract_json(text), ensure_ascii=False)
            except ValueError as exc:
                completion.extra["json_error"] = str(exc)
                log.warning("%s: reply holds no JSON: %.80r", self.name, text)
        return completion
