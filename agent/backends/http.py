"""An OpenAI-compatible HTTP backend (llama.cpp's server, vLLM) using only the standard library."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, Literal

from agent.backends.base import BackendError, Completion, Message
from catalog.text import safe_text

log = logging.getLogger(__name__)

SchemaMode = Literal["json_object", "json_schema"]
SERVER_HINT = "start it (e.g. `convrec serve llm`) or correct llm_url"


def api_root(base_url: str) -> str:
    """The `.../v1` root of an OpenAI-compatible server, with or without `/v1` given."""
    root = base_url.rstrip("/")
    return root if root.endswith("/v1") else root + "/v1"


class HttpBackend:
    """An `LLMBackend` that posts to `<base_url>/v1/chat/completions`.

    JSON schemas are sent the way the server understands them: `schema_mode="json_object"`
    sends `{"type": "json_object", "schema": ...}`, which both llama.cpp servers compile into
    a grammar (llama-cpp-python's and llama.cpp's own `llama-server`, which also reads
    `json_schema`/`grammar` at the top level and the OpenAI form below); `"json_schema"` sends
    OpenAI's structured-output form `{"type": "json_schema", "json_schema": {"name": ...,
    "schema": ..., "strict": true}}` (vLLM, OpenAI, llama-server). llama-cpp-python 0.3.36's
    server rejects that second form (HTTP 422). llama-server reuses a slot's cached prompt
    prefix by default (`cache_prompt` true) and picks the slot whose cache matches best, so
    nothing extra is sent for caching; `n_probs`/`id_slot` are not used.

    Streaming uses server-sent events; `stream_options.include_usage` asks for token counts
    in the last event (llama-server sends them). Servers that send none (llama-cpp-python's)
    get counts estimated from the text, flagged by `extra["usage_estimated"]`.

    Args:
        base_url: Server root, e.g. `http://127.0.0.1:8000` or `http://127.0.0.1:8000/v1`.
        model: Model name to request; None asks `/v1/models` once and takes the first.
        api_key: Sent as a bearer token when given.
        timeout: Seconds to wait to connect and between received bytes (not the whole reply).
        schema_mode: How a JSON schema is sent (see above).
        seed: Sampling seed sent with every request, when given.
        name: Backend name reported in logs.
    """

    def __init__(self, base_url: str, *, model: str | None = None, api_key: str | None = None,
                 timeout: float = 120.0, schema_mode: SchemaMode = "json_object",
                 seed: int | None = None, name: str = "http") -> None:
        self.root = api_root(base_url)
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.schema_mode = schema_mode
        self.seed = seed
        self.name = name
        self._model_resolved = model is not None

    def models(self) -> list[str]:
        """Ids of the models the server serves (`GET /v1/models`).

        Raises:
            BackendError: when the server cannot be reached or answers with an error.
        """
        with self._open("GET", "/models", None) as response:
            payload = self._json(self._read_all(response, "/models"), "/models")
        return [str(m.get("id")) for m in payload.get("data", [])]

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
        """Answer the conversation (see `LLMBackend.chat`).

        Raises:
            BackendError: when the server is unreachable, times out or answers with an error.
        """
        body: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens,
                                "temperature": temperature, "stream": on_token is not None}
        model = self._resolve_model()
        if model:
            body["model"] = model
        if stop:
            body["stop"] = stop
        if self.seed is not None:
            body["seed"] = self.seed
        if json_schema is not None:
            body["response_format"] = self._response_format(json_schema)
        if on_token is not None:
            body["stream_options"] = {"include_usage": True}
        start = time.perf_counter()
        with self._open("POST", "/chat/completions", body) as response:
            if on_token is None:
                raw = self._read_all(response, "/chat/completions")
                completion = self._parse_reply(self._json(raw, "/chat/completions"))
            else:
                completion = self._read_stream(response, start, on_token)
        completion.seconds = time.perf_counter() - start
        if not completion.prompt_tokens:  # no usage sent: about 4 characters per token
            completion.prompt_tokens = sum(len(m.get("content") or "") for m in messages) // 4
            completion.extra["usage_estimated"] = True
        if not completion.completion_tokens and completion.text:
            completion.completion_tokens = max(1, len(completion.text) // 4)
            completion.extra["usage_estimated"] = True
        completion.extra["json_schema"] = json_schema is not None
        return completion

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The `response_format` value for this server's dialect."""
        if self.schema_mode == "json_schema":
            return {"type": "json_schema",
                    "json_schema": {"name": str(schema.get("title", "response")),
                                    "schema": schema, "strict": True}}
        return {"type": "json_object", "schema": schema}

    def _resolve_model(self) -> str | None:
        """The model name to send, asking the server once when none was configured."""
        if not self._model_resolved:
            try:
                ids = self.models()
                self.model = ids[0] if ids else None
            except BackendError as exc:
                if "HTTP" not in str(exc):  # unreachable: no point in posting either
                    raise
                log.debug("server lists no models (%s); sending none", exc)
            self._model_resolved = True
        return self.model

    def _parse_reply(self, payload: dict[str, Any]) -> Completion:
        """A Completion from a non-streamed chat completion response."""
        choices = payload.get("choices") or []
        if not choices:
            raise BackendError(f"LLM server at {self.root} sent a reply without choices: "
                               f"{json.dumps(payload)[:200]}")
        usage = payload.get("usage") or {}
        content = (choices[0].get("message") or {}).get("content") or ""
        return Completion(text=safe_text(str(content)),
                          finish_reason=choices[0].get("finish_reason") or "stop",
                          prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0))

    def _read_stream(self, response: Any, start: float,
                     on_token: Callable[[str], None]) -> Completion:
        """Consume an SSE stream of chat completion chunks, calling `on_token` per piece."""
        pieces: list[str] = []
        finish = "stop"
        first: float | None = None
        usage: dict[str, Any] = {}
        chunks = 0
        for event in self._events(response):
            if "error" in event:
                raise BackendError(f"LLM server at {self.root} failed mid-stream: "
                                   f"{json.dumps(event['error'])[:200]}")
            usage = event.get("usage") or usage
            for choice in event.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    piece = safe_text(str(piece))
                    if first is None:
                        first = time.perf_counter() - start
                    chunks += 1
                    pieces.append(piece)
                    on_token(piece)
                finish = choice.get("finish_reason") or finish
        completion = Completion(text="".join(pieces), finish_reason=finish,
                                first_token_seconds=first,
                                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                                completion_tokens=int(usage.get("completion_tokens") or 0))
        if not usage:  # llama.cpp's server: one chunk per token; the prompt size is unknown
            completion.completion_tokens = chunks
        return completion

    def _events(self, response: Any) -> Iterator[dict[str, Any]]:
        """The JSON payloads of an SSE stream's `data:` lines, up to `[DONE]`."""
        try:
            for raw in response:
                line = raw.decode("utf-8", "replace").strip()  # a bad byte is U+FFFD, not a crash
                if not line.startswith("data:"):
                    continue  # blank separators, `: ping` comments, `event:` lines
                data = line[len("data:"):].strip()
                if data == "[DONE]":
                    return
                yield self._json(data.encode("utf-8"), "/chat/completions (stream)")
        except OSError as exc:
            raise self._read_error(exc, "/chat/completions (stream)") from exc

    def _read_all(self, response: Any, what: str) -> bytes:
        """The whole body of a response, with read failures as BackendError."""
        try:
            return bytes(response.read())
        except OSError as exc:
            raise self._read_error(exc, what) from exc

    def _read_error(self, exc: OSError, what: str) -> BackendError:
        """A one-line BackendError for a failure while reading a reply."""
        if isinstance(exc, TimeoutError):
            return BackendError(f"LLM server at {self.root} sent nothing for {self.timeout:g} s "
                                f"while answering {what} -- fix: raise the timeout or check "
                                "the server")
        return BackendError(f"connection to the LLM server at {self.root} broke while reading "
                            f"{what}: {exc} -- fix: check the server")

    def _open(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        """Send one request and return the open response.

        Raises:
            BackendError: one line naming the URL, for every transport or HTTP failure.
        """
        url = self.root + path
        headers = {"Accept": "application/json, text/event-stream"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").replace("\n", " ")[:300]
            raise BackendError(f"LLM server at {url} answered HTTP {exc.code}: {detail}") from exc
        except urllib.error.URLError as exc:
            raise BackendError(f"cannot reach the LLM server at {url}: {exc.reason} "
                               f"-- fix: {SERVER_HINT}") from exc
        except TimeoutError as exc:
            raise BackendError(f"the LLM server at {url} did not answer within "
                               f"{self.timeout:g} s -- fix: raise the timeout or check the "
                               "server") from exc
        except (ConnectionError, OSError) as exc:
            raise BackendError(f"connection to the LLM server at {url} failed: {exc} "
                               f"-- fix: {SERVER_HINT}") from exc

    def _json(self, raw: bytes, what: str) -> dict[str, Any]:
        """Decode a JSON object from the server, or raise BackendError."""
        try:
            payload = json.loads(raw.decode("utf-8", "replace"))  # bad bytes: U+FFFD
        except json.JSONDecodeError as exc:
            raise BackendError(f"LLM server at {self.root} sent invalid JSON for {what}: "
                               f"{raw[:120]!r}") from exc
        if not isinstance(payload, dict):
            raise BackendError(f"LLM server at {self.root} sent {type(payload).__name__} "
                               f"for {what}, expected an object")
        return payload
