"""LLM backends: one contract suite for every backend, the factory, adapters and error paths."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from agent.backends import (
    BackendError,
    ConvrecChatModel,
    HttpBackend,
    LangChainBackend,
    LLMBackend,
    ScriptedBackend,
    make_backend,
)
from agent.model_files import DEFAULT_MODEL, NAMED_MODELS, models_dir, resolve_model_path
from agent.settings import Settings
from catalog.errors import ConvrecError, ModelFileError, UserFacingError


class Taste(BaseModel):
    """The small extraction schema of the contract: capped arrays, no extra keys."""

    model_config = ConfigDict(extra="forbid")
    genres: list[str] = Field(max_length=3)
    liked_titles: list[str] = Field(max_length=2)


TASTE_SCHEMA = Taste.model_json_schema()
SYSTEM = {"role": "system", "content": "You are a terse assistant for a movie recommender."}
GREETING = [SYSTEM, {"role": "user", "content": "Reply with one word: hello."}]
EXTRACTION = [{"role": "system", "content": "Extract the user's movie tastes as JSON."},
              {"role": "user", "content": "I loved Alien and The Thing. I like sci-fi and "
                                          "horror."}]
COUNTING = [SYSTEM, {"role": "user", "content": "Count from 1 to 50, separated by commas."}]


def real_default_model(real_home: Path) -> Path:
    """The installed default model; a missing one FAILS the test (it must run in CI)."""
    try:
        return resolve_model_path(DEFAULT_MODEL, real_home)
    except ModelFileError as exc:
        pytest.fail(f"real-model test needs the default model: {exc.one_line()}")


class BackendContract:
    """The assertions every backend must pass; subclasses provide the `backend` fixture."""

    real = False  # token counts come from a real tokenizer and max_tokens is enforced
    exact_stream = True  # streamed pieces concatenate to exactly the returned text

    def test_returns_text_and_costs(self, backend: LLMBackend) -> None:
        done = backend.chat(GREETING, max_tokens=16)
        assert isinstance(done.text, str) and done.text.strip()
        assert done.finish_reason in {"stop", "length"}
        assert done.prompt_tokens > 0 and done.completion_tokens > 0
        if self.real:
            assert done.seconds > 0 and done.completion_tokens <= 16

    def test_json_schema_reply_matches(self, backend: LLMBackend) -> None:
        done = backend.chat(EXTRACTION, max_tokens=64, json_schema=TASTE_SCHEMA)
        assert done.finish_reason == "stop", done
        taste = Taste.model_validate_json(done.text)  # valid JSON, arrays within maxItems
        assert taste.genres or taste.liked_titles

    def test_streaming_pieces_make_the_text(self, backend: LLMBackend) -> None:
        pieces: list[str] = []
        done = backend.chat(GREETING, max_tokens=16, on_token=pieces.append)
        assert pieces and done.text.strip()
        joined = "".join(pieces)
        assert joined == done.text if self.exact_stream else joined.strip() == done.text.strip()
        if self.real:
            assert done.first_token_seconds is not None
            assert 0 < done.first_token_seconds <= done.seconds

    def test_max_tokens_cuts_with_length(self, backend: LLMBackend) -> None:
        if not self.real:
            pytest.skip("fakes do not count tokens (see the report on scripted.py)")
        done = backend.chat(COUNTING, max_tokens=4)
        assert done.finish_reason == "length"
        assert done.text and 0 < done.completion_tokens <= 5  # re-tokenizing may split one


def taste_responder(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    """A scripted reply that fits the contract (and obeys a JSON instruction, as LLMs try to)."""
    if schema is not None or "JSON schema" in messages[0]["content"]:
        return json.dumps({"genres": ["sci-fi", "horror"], "liked_titles": ["Alien"]})
    return "Hello there."


class TestScriptedContract(BackendContract):
    exact_stream = False  # ScriptedBackend streams "word " pieces (trailing space)

    @pytest.fixture
    def backend(self) -> LLMBackend:
        return ScriptedBackend(responder=taste_responder)


class TestLangChainRoundTripContract(BackendContract):
    """Our fake wrapped as a LangChain model, wrapped back as a backend."""

    @pytest.fixture
    def backend(self) -> LLMBackend:
        return LangChainBackend(ConvrecChatModel(backend=ScriptedBackend(
            responder=taste_responder)))


@pytest.fixture(scope="module")
def llama(real_home: Path) -> Iterator[Any]:
    """The real default model, loaded once for this module."""
    from agent.backends.llama_cpp import LlamaCppBackend

    backend = LlamaCppBackend(real_default_model(real_home), n_threads=2, n_ctx=2048)
    yield backend
    backend.close()


@pytest.mark.real_model
class TestLlamaCppContract(BackendContract):
    real = True

    @pytest.fixture
    def backend(self, llama: Any) -> LLMBackend:
        return llama


@pytest.mark.real_model
def test_llama_reuses_the_shared_prompt_prefix(llama: Any) -> None:
    system = {"role": "system", "content": "You recommend movies. " * 40}
    llama.chat([system, {"role": "user", "content": "Hi."}], max_tokens=1)
    done = llama.chat([system, {"role": "user", "content": "Something scary?"}], max_tokens=1)
    assert done.extra["reused_prompt_tokens"] >= llama.count_tokens(system["content"])
    assert done.extra["prompt_eval_tokens"] < done.prompt_tokens / 2


@pytest.mark.real_model
def test_llama_refuses_a_schema_it_cannot_compile(llama: Any) -> None:
    with pytest.raises(BackendError, match="simplify the schema"):
        llama.chat(GREETING, max_tokens=4, json_schema={"type": "frob"})


@pytest.mark.real_model
def test_llama_calls_from_threads_are_serialised(llama: Any) -> None:
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(
        llama.chat(GREETING, max_tokens=2).finish_reason)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and set(results) <= {"stop", "length"}


@pytest.mark.real_model
def test_truncated_model_is_refused_with_one_line(real_home: Path, tmp_path: Path) -> None:
    source = real_default_model(real_home)
    cache = tmp_path / "cache"
    truncated = models_dir(cache) / NAMED_MODELS[DEFAULT_MODEL].filename
    with source.open("rb") as f:
        truncated.write_bytes(f.read(1 << 20))
    with pytest.raises(ModelFileError) as caught:
        resolve_model_path(DEFAULT_MODEL, cache)
    assert "truncated" in str(caught.value) and "\n" not in str(caught.value)
    from agent.backends.llama_cpp import LlamaCppBackend

    with pytest.raises(ModelFileError, match="fix: "):
        LlamaCppBackend(truncated)


def test_gguf_magic_with_garbage_is_a_model_file_error(tmp_path: Path,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    from agent.backends.llama_cpp import LlamaCppBackend

    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + random.Random(7).randbytes(64 * 1024))
    with pytest.raises(ModelFileError) as caught:
        LlamaCppBackend(bad)
    line = caught.value.one_line()
    assert "\n" not in line and "convrec setup" in line and str(bad) in line
    assert "gguf_init" not in capfd.readouterr().err  # llama.cpp's noise stays quiet


def test_missing_model_file_names_the_fix(tmp_path: Path) -> None:
    from agent.backends.llama_cpp import LlamaCppBackend

    with pytest.raises(ModelFileError, match="not found"):
        LlamaCppBackend(tmp_path / "absent.gguf")


def test_scripted_backend_records_requests() -> None:
    backend = ScriptedBackend(replies=[{"genres": []}, "plain"])
    first = backend.chat(EXTRACTION, max_tokens=32, json_schema=TASTE_SCHEMA, stop=["\n"])
    second = backend.chat(GREETING, max_tokens=8)
    assert json.loads(first.text) == {"genres": []} and second.text == "plain"
    assert [r["max_tokens"] for r in backend.requests] == [32, 8]
    assert backend.requests[0]["json_schema"] == TASTE_SCHEMA
    assert backend.requests[0]["stop"] == ["\n"] and backend.requests[1]["messages"] == GREETING


def test_factory_builds_scripted_and_http() -> None:
    assert isinstance(make_backend(Settings(backend="scripted")), ScriptedBackend)
    http = make_backend(Settings(backend="http", llm_url="http://127.0.0.1:9/"))
    assert isinstance(http, HttpBackend)
    assert http.root == "http://127.0.0.1:9/v1" and http.model is None
    named = make_backend(Settings(backend="http", llm_url="http://h:1/v1", model="qwen"))
    assert isinstance(named, HttpBackend) and named.model == "qwen"
    with pytest.raises(UserFacingError, match="llm_url"):
        make_backend(Settings(backend="http"))


def test_factory_loads_llama_cpp_with_the_settings(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import agent.backends.llama_cpp as llama_module

    built: dict[str, Any] = {}
    monkeypatch.setattr(llama_module, "LlamaCppBackend",
                        lambda path, **kw: built.update(path=path, **kw) or "llama")
    model = tmp_path / "any.gguf"
    model.write_bytes(b"GGUF" + bytes(4096))
    settings = Settings(model=str(model), n_gpu_layers=-1, n_threads=3, n_ctx=4096, seed=5)
    assert make_backend(settings, tmp_path) == "llama"
    assert built == {"path": model, "n_gpu_layers": -1, "n_threads": 3, "n_ctx": 4096,
                     "seed": 5, "contexts": 2}


def test_factory_without_installed_model_says_run_setup(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="convrec setup"):
        make_backend(Settings(), tmp_path)


class FakeOpenAI(BaseHTTPRequestHandler):
    """A tiny OpenAI-compatible server: records bodies, answers plain or as SSE."""

    bodies: list[dict[str, Any]] = []
    status = 200
    usage_in_stream = False

    def log_message(self, *args: Any) -> None:
        """Keep test output quiet."""

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._send(200, json.dumps({"data": [{"id": "fake-model"}]}).encode())

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        if self.status != 200:
            self._send(self.status, b'{"error": "boom"}')
            return
        text = '{"genres": ["horror"], "liked_titles": []}' if "response_format" in body \
            else "Hello there"
        if not body["stream"]:
            reply = {"choices": [{"message": {"content": text}, "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 12, "completion_tokens": 3}}
            self._send(200, json.dumps(reply).encode())
            return
        events = [{"choices": [{"delta": {"role": "assistant"}, "finish_reason": None}]}]
        events += [{"choices": [{"delta": {"content": p}, "finish_reason": None}]}
                   for p in (text[:4], text[4:])]
        events.append({"choices": [{"delta": {}, "finish_reason": "length"}]})
        if self.usage_in_stream:
            events.append({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2}})
        stream = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
        stream += ": ping\n\ndata: [DONE]\n\n"
        self._send(200, stream.encode(), "text/event-stream")


@pytest.fixture
def fake_server() -> Iterator[str]:
    FakeOpenAI.bodies, FakeOpenAI.status, FakeOpenAI.usage_in_stream = [], 200, False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_backend_request_and_reply(fake_server: str) -> None:
    backend = HttpBackend(fake_server, seed=3)
    done = backend.chat(EXTRACTION, max_tokens=20, json_schema=TASTE_SCHEMA, stop=["\n"])
    Taste.model_validate_json(done.text)
    assert (done.prompt_tokens, done.completion_tokens, done.finish_reason) == (12, 3, "stop")
    body = FakeOpenAI.bodies[-1]
    assert body["model"] == "fake-model" and body["seed"] == 3 and body["stop"] == ["\n"]
    assert body["response_format"] == {"type": "json_object", "schema": TASTE_SCHEMA}
    openai_style = HttpBackend(fake_server + "/v1", model="m", schema_mode="json_schema")
    openai_style.chat(EXTRACTION, max_tokens=20, json_schema=TASTE_SCHEMA)
    sent = FakeOpenAI.bodies[-1]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"] == TASTE_SCHEMA


def test_http_backend_streams_server_sent_events(fake_server: str) -> None:
    pieces: list[str] = []
    done = HttpBackend(fake_server).chat(GREETING, max_tokens=2, on_token=pieces.append)
    assert pieces == ["Hell", "o there"] and done.text == "Hello there"
    assert done.finish_reason == "length" and done.first_token_seconds is not None
    assert done.completion_tokens == 2 and done.extra["usage_estimated"]
    FakeOpenAI.usage_in_stream = True
    done = HttpBackend(fake_server).chat(GREETING, max_tokens=2, on_token=pieces.append)
    assert (done.prompt_tokens, done.completion_tokens) == (9, 2)
    assert "usage_estimated" not in done.extra


def test_http_backend_errors_name_the_url(fake_server: str) -> None:
    FakeOpenAI.status = 500
    with pytest.raises(BackendError, match="HTTP 500"):
        HttpBackend(fake_server, model="m").chat(GREETING, max_tokens=2)
    with pytest.raises(BackendError, match=r"cannot reach the LLM server at http://127\.0\.0\.1:9"):
        HttpBackend("http://127.0.0.1:9", timeout=2).chat(GREETING, max_tokens=2)


def test_http_backend_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    silent = socket.socket()  # accepts connections (backlog) but never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        with pytest.raises(BackendError, match="(did not answer within|sent nothing for) 0.3 s"):
            HttpBackend(url, model="m", timeout=0.3).chat(GREETING, max_tokens=2)
    finally:
        silent.close()


def test_convrec_chat_model_invoke_and_stream() -> None:
    scripted = ScriptedBackend(responder=taste_responder)
    model = ConvrecChatModel(backend=scripted, max_tokens=32)
    reply = model.invoke([("system", "Be brief."), ("human", "Hi")], max_tokens=7)
    assert reply.content == "Hello there." and reply.usage_metadata["output_tokens"] == 2
    assert scripted.requests[-1]["max_tokens"] == 7
    assert scripted.requests[-1]["messages"][0] == {"role": "system", "content": "Be brief."}
    chunks = list(model.stream("Hi"))
    assert "".join(str(c.content) for c in chunks).strip() == "Hello there."
    assert chunks[-1].usage_metadata and chunks[-1].response_metadata["finish_reason"] == "stop"
    assert scripted.requests[-1]["max_tokens"] == 32


def test_langchain_backend_extracts_json_from_a_chatty_model() -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    fenced = 'Sure!\n```json\n{"genres": ["drama"], "liked_titles": []}\n```'
    backend = LangChainBackend(GenericFakeChatModel(messages=iter([fenced, "no json here"])))
    done = backend.chat(EXTRACTION, max_tokens=32, json_schema=TASTE_SCHEMA)
    assert Taste.model_validate_json(done.text).genres == ["drama"]
    assert done.extra["raw_text"] == fenced
    failed = backend.chat(EXTRACTION, max_tokens=32, json_schema=TASTE_SCHEMA)
    assert failed.text == "no json here" and "json_error" in failed.extra


def test_backend_error_is_one_of_the_convrec_errors() -> None:
    from agent.backends.base import BackendError

    assert issubclass(BackendError, ConvrecError) and not issubclass(BackendError, UserFacingError)
    with pytest.raises(ConvrecError):
        raise BackendError("server down")
