"""The local llama.cpp backend: any GGUF file, loaded once, driven through llama-cpp-python."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp.llama_grammar import json_schema_to_gbnf

from agent.backends.base import BackendError, Completion, Message
from agent.model_files import check_gguf
from catalog.errors import ModelFileError
from catalog.measure import cpu_cores

log = logging.getLogger(__name__)

DEFAULT_N_BATCH = 512


def default_threads() -> int:
    """CPU threads available to this process (`catalog.measure.cpu_cores`)."""
    return cpu_cores()


@contextlib.contextmanager
def _stderr_captured() -> Iterator[io.StringIO]:
    """Collect what C code writes to file descriptor 2 meanwhile (kept off a TUI's screen)."""
    out = io.StringIO()
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable stderr: run uncaptured
        yield out
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.write(tmp.read().decode("utf-8", errors="replace"))


def grammar_error(vocab: Any, grammar: str) -> str | None:
    """Why llama.cpp's own grammar parser refuses a GBNF grammar, or None when it accepts it.

    llama-cpp-python hands the grammar to `llama_sampler_init_grammar` and adds the result to
    its sampler chain unchecked; on a parse error that result is NULL and the process dies on
    the first sampled token. Here the same parser runs on its own (it reports errors by
    returning NULL, which is safe to test) and the sampler it builds is freed again.
    """
    with _stderr_captured() as captured:  # the parser prints its reason to C's stderr
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
    if sampler:
        llama_cpp.llama_sampler_free(sampler)
        return None
    reason = next((line.split("error parsing grammar:", 1)[-1].strip()
                   for line in captured.getvalue().splitlines() if "error" in line), "")
    return f"llama.cpp's grammar parser refuses it: {reason or 'no reason given'}"


def schema_error(vocab: Any, schema_json: str) -> str | None:
    """Why llama.cpp cannot constrain decoding to a JSON schema, or None when it can.

    Both steps llama-cpp-python takes are checked: the schema -> GBNF conversion (on failure
    llama-cpp-python silently falls back to unconstrained JSON, dropping guarantees such as
    `maxItems`) and llama.cpp's parse of the resulting grammar (on failure the process aborts,
    see `grammar_error`). `schema_json` must be the schema as `json.dumps` writes it for the
    call (key order decides the grammar's property order).
    """
    try:
        grammar = json_schema_to_gbnf(schema_json)
    except Exception as exc:  # the converter raises bare Exception/ValueError/RuntimeError
        return f"{type(exc).__name__}: {exc}"
    return grammar_error(vocab, grammar)


def _common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the longest common prefix of two token arrays."""
    n = min(len(a), len(b))
    diff = np.flatnonzero(a[:n] != b[:n])
    return int(diff[0]) if diff.size else n


class LlamaCppBackend:
    """An `LLMBackend` over one llama.cpp model held in memory for the life of the object.

    The model and its context are not thread-safe, so every call holds a lock. Successive
    calls reuse the KV cache for the longest token prefix they share with the previous call
    (llama-cpp-python does this itself): keep the stable part of a prompt (system message,
    examples) first and the changing part last, and the second call only evaluates the tail.
    `Completion.extra["reused_prompt_tokens"]` reports how many prompt tokens were reused.

    Args:
        model_path: A GGUF file (use `agent.model_files.resolve_model_path` to get a checked one).
        n_gpu_layers: Layers offloaded to the GPU; -1 = all (needs a CUDA build).
        n_threads: CPU threads for generation and prompt evaluation (default: available CPUs).
        n_ctx: Context window in tokens.
        seed: Sampling seed, applied to every call so that runs repeat.
        n_batch: Prompt tokens evaluated per batch (capped at `n_ctx`).
        contexts: llama.cpp contexts over the one set of weights (mmap-shared, so each extra
            context costs its KV cache and buffers, not the model). Calls are routed by their
            system message, so alternating prompt kinds (understanding, justification) each
            keep their prefix in the KV cache instead of re-evaluating it. Preferred over
            llama-cpp-python's `LlamaRAMCache`, whose saved states carry the logits of every
            prompt token (about 0.6 MB per token here) outside its size accounting: in a long
            run it grew the process to 8 GB.
        verbose: Let llama.cpp print its load and timing logs to stderr.

    Raises:
        ModelFileError: when the file is missing, not GGUF, or llama.cpp cannot load it.
    """

    name = "llama_cpp"

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_gpu_layers: int = 0,
        n_threads: int | None = None,
        n_ctx: int = 2048,
        seed: int = 0,
        n_batch: int = DEFAULT_N_BATCH,
        contexts: int = 2,
        verbose: bool = False,
    ) -> None:
        path = Path(model_path)
        check_gguf(path)
        threads = n_threads or default_threads()
        self.model_path = path
        self.seed = seed
        self._lock = threading.Lock()
        start = time.perf_counter()
        try:
            self._contexts = [llama_cpp.Llama(
                model_path=str(path), n_gpu_layers=n_gpu_layers, n_threads=threads,
                n_threads_batch=threads, n_ctx=n_ctx, n_batch=min(n_batch, n_ctx), seed=seed,
                verbose=verbose) for _ in range(max(1, contexts))]
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(
                f"llama.cpp could not load {path} (corrupt, truncated or unsupported GGUF)",
                "delete it and run `convrec setup`, or point --model at a valid GGUF file",
            ) from exc
        self.load_seconds = time.perf_counter() - start
        self._llm = self._contexts[0]
        self._routes: OrderedDict[str, int] = OrderedDict()
        self._closed = False
        self.warm_stats: dict[str, Any] | None = None
        """What the last `warm_prefix` cost (None before one has run)."""
        vocab = llama_cpp.llama_model_get_vocab(self._llm.model)
        self._schema_error = lru_cache(maxsize=64)(lambda text: schema_error(vocab, text))
        log.info("loaded %s in %.2f s (n_ctx=%d, n_threads=%d, n_gpu_layers=%d)",
                 path.name, self.load_seconds, n_ctx, threads, n_gpu_layers)

    @property
    def n_ctx(self) -> int:
        """The context window in tokens."""
        return int(self._llm.n_ctx())

    def count_tokens(self, text: str) -> int:
        """Number of tokens `text` takes (no BOS, special tokens not parsed)."""
        if not text:
            return 0
        with self._lock:
            return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def close(self) -> None:
        """Free the model and its contexts now rather than at garbage collection."""
        with self._lock:
            self._closed = True
            for llm in self._contexts:
                llm.close()

    def _route(self, messages: list[Message]) -> None:
        """Point `_llm` at the context that last served this system message (LRU otherwise).

        The lock is held by the caller.
        """
        key = str(messages[0].get("content", "")) if messages and \
            messages[0].get("role") == "system" else ""
        if key in self._routes:
            self._routes.move_to_end(key)
        elif len(self._routes) < len(self._contexts):
            self._routes[key] = len(self._routes)
        else:
            _, index = self._routes.popitem(last=False)
            self._routes[key] = index
        self._llm = self._contexts[self._routes[key]]

    def warm_prefix(self, messages: list[Message]) -> dict[str, Any]:
        """Evaluate a prompt's fixed part (system message, worked examples) into the KV cache
        of the context its system message routes to, so that the first real call with that
        prefix evaluates only its own tail.

        `messages` is the fixed part; an empty user turn is appended (its header is shared
        with every real call) and one token generated, which is all llama-cpp-python's chat
        path allows. Safe to run in a thread of its own (calls wait on the lock; after
        `close` it does nothing). Returns what it cost: prompt_eval_tokens, seconds (also kept
        in `warm_stats`).

        Raises:
            BackendError: when llama.cpp fails (e.g. the prefix does not fit `n_ctx`).
        """
        probe = [*messages, {"role": "user", "content": ""}]
        with self._lock:
            if self._closed:
                return {"prompt_eval_tokens": 0, "seconds": 0.0}
            self._route(probe)
            self._reset_perf()
            start = time.perf_counter()
            try:
                self._llm.create_chat_completion(messages=probe, max_tokens=1, temperature=0.0,
                                                 seed=self.seed)
            except (ValueError, RuntimeError) as exc:
                raise self._error(exc) from exc
            perf = self._read_perf()
        seconds = time.perf_counter() - start
        log.info("warmed a %d-token prompt prefix in %.2f s", perf["prompt_eval_tokens"], seconds)
        self.warm_stats = {"prompt_eval_tokens": perf["prompt_eval_tokens"], "seconds": seconds}
        return dict(self.warm_stats)

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

        A JSON schema is passed as `response_format={"type": "json_object", "schema": ...}`;
        llama.cpp compiles it into a grammar, so the text is JSON matching the schema unless
        `finish_reason` is "length" (then it is cut short: raise `max_tokens` or cap arrays).

        Raises:
            BackendError: when llama.cpp fails (e.g. the prompt does not fit `n_ctx`).
        """
        kwargs: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens,
                                  "temperature": temperature, "stop": stop or [],
                                  "seed": self.seed}
        if json_schema is not None:
            problem = self._schema_error(json.dumps(json_schema))
            if problem:
                raise BackendError(f"llama.cpp cannot turn the JSON schema into a grammar "
                                   f"({problem.splitlines()[0]}) -- fix: simplify the schema")
            kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
        with self._lock:
            self._route(messages)
            cached = self._llm.input_ids[: self._llm.n_tokens].copy()  # what the KV cache holds
            self._reset_perf()
            start = time.perf_counter()
            if on_token is None:
                completion = self._complete(kwargs, start)
            else:
                completion = self._stream(kwargs, start, on_token)
            completion.extra.update(self._read_perf())
            prompt = self._llm.input_ids[: completion.prompt_tokens]
            reused = min(_common_prefix(cached, prompt), max(completion.prompt_tokens - 1, 0))
        completion.extra["reused_prompt_tokens"] = reused
        completion.extra["json_schema"] = json_schema is not None
        log.debug("llama_cpp chat: %d prompt (%d reused) + %d generated tokens in %.2f s, %s",
                  completion.prompt_tokens, reused, completion.completion_tokens,
                  completion.seconds, completion.finish_reason)
        return completion

    def _complete(self, kwargs: dict[str, Any], start: float) -> Completion:
        """One blocking chat completion (the lock is held by the caller)."""
        try:
            response: Any = self._llm.create_chat_completion(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise self._error(exc) from exc
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return Completion(text=choice["message"].get("content") or "",
                          finish_reason=choice.get("finish_reason") or "stop",
                          prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)),
                          seconds=time.perf_counter() - start)

    def _stream(self, kwargs: dict[str, Any], start: float,
                on_token: Callable[[str], None]) -> Completion:
        """A streamed chat completion calling `on_token` per piece (the lock is held).

        Streamed chunks carry no usage: the prompt size is read from the evaluated-token
        count when the first piece arrives (exact unless llama-cpp-python held back the first
        token, e.g. a partial stop string), and the completion is counted by re-tokenizing.
        """
        pieces: list[str] = []
        finish = "stop"
        first: float | None = None
        prompt_tokens = 0
        for chunk in self._guarded(lambda: self._llm.create_chat_completion(stream=True,
                                                                            **kwargs)):
            choice = chunk["choices"][0]
            piece = choice["delta"].get("content")
            if piece:
                if first is None:
                    first = time.perf_counter() - start
                    prompt_tokens = self._llm.n_tokens
                pieces.append(piece)
                on_token(piece)
            finish = choice.get("finish_reason") or finish
        text = "".join(pieces)
        if first is None:  # nothing generated: everything evaluated was prompt
            prompt_tokens = self._llm.n_tokens
        generated = (len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
                     if text else 0)
        return Completion(text=text, finish_reason=finish, prompt_tokens=prompt_tokens,
                          completion_tokens=generated, seconds=time.perf_counter() - start,
                          first_token_seconds=first)

    def _guarded(self, make: Callable[[], Iterable[Any]]) -> Iterator[Any]:
        """Iterate llama-cpp-python's stream; its failures (not `on_token`'s) become BackendError."""
        try:
            iterator = iter(make())
        except (ValueError, RuntimeError) as exc:
            raise self._error(exc) from exc
        while True:
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            except (ValueError, RuntimeError) as exc:
                raise self._error(exc) from exc
            yield chunk

    def _error(self, exc: Exception) -> BackendError:
        """A one-line BackendError for a llama.cpp failure, naming the likely fix."""
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        fix = ("shorten the conversation or raise n_ctx" if "context window" in message
               else "check the model file and settings")
        return BackendError(f"llama.cpp failed on {self.model_path.name}: {message} "
                            f"-- fix: {fix}")

    def _reset_perf(self) -> None:
        """Zero llama.cpp's per-context timings so that `_read_perf` covers one call."""
        llama_cpp.llama_perf_context_reset(self._llm.ctx)

    def _read_perf(self) -> dict[str, Any]:
        """Prompt-evaluation and generation timings measured by llama.cpp for the last call."""
        perf = llama_cpp.llama_perf_context(self._llm.ctx)
        return {"prompt_eval_tokens": int(perf.n_p_eval),
                "prompt_eval_seconds": perf.t_p_eval_ms / 1000.0,
                "eval_tokens": int(perf.n_eval),
                "eval_seconds": perf.t_eval_ms / 1000.0}
