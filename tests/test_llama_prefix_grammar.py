"""llama.cpp backend: the justification prefix warmed at start, grammars checked before a call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.backends import BackendError, ScriptedBackend
from agent.justify import VARIANTS, messages_for, prefix_messages, warm_up
from agent.model_files import DEFAULT_MODEL, resolve_model_path
from catalog.models import Item

BAD_ESCAPE = {"type": "string", "pattern": r"^Alien \(1979\)\.$"}
"""The converter copies `\\(` and `\\.` into the grammar; llama.cpp's parser refuses them."""


@pytest.fixture(scope="module")
def llama(real_home: Path) -> Iterator[Any]:
    """The real default model (two contexts, as the agent runs it)."""
    from agent.backends.llama_cpp import LlamaCppBackend

    backend = LlamaCppBackend(resolve_model_path(DEFAULT_MODEL, real_home), n_threads=2,
                              n_ctx=2048, contexts=2)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def vocab(real_home: Path) -> Iterator[Any]:
    """The default model's vocabulary alone (no weights)."""
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(resolve_model_path(DEFAULT_MODEL, real_home)),
                          vocab_only=True, verbose=False)
    yield llama_cpp.llama_model_get_vocab(llm.model)
    llm.close()


def test_warm_up_without_a_local_cache_does_nothing() -> None:
    backend = ScriptedBackend(["x"])
    assert warm_up(backend, background=True) is None and warm_up(None) is None
    assert backend.requests == []


@pytest.mark.real_model
def test_grammar_parser_refusals_are_reported_not_fatal(vocab: Any) -> None:
    from agent.backends.llama_cpp import grammar_error, schema_error

    assert grammar_error(vocab, 'root ::= "a" [.] "b"') is None
    assert "unknown escape" in (grammar_error(vocab, 'root ::= "a\\." "b"') or "")
    assert "Undefined rule" in (grammar_error(vocab, "root ::= other") or "")
    assert "unexpected end" in (grammar_error(vocab, "root ::= [a-z") or "")
    import json

    assert "refuses" in (schema_error(vocab, json.dumps(BAD_ESCAPE)) or "")
    assert schema_error(vocab, json.dumps({"type": "string", "pattern": "^Alien [(]1979[)]$"})) \
        is None
    assert schema_error(vocab, json.dumps({"type": "frob"})) is not None


@pytest.mark.real_model
def test_chat_refuses_a_grammar_llama_cpp_would_abort_on(llama: Any) -> None:
    with pytest.raises(BackendError, match="grammar parser refuses"):
        llama.chat([{"role": "user", "content": "Name a film."}], max_tokens=8,
                   json_schema=BAD_ESCAPE)
    done = llama.chat([{"role": "user", "content": "Name a film."}], max_tokens=24,
                      json_schema={"type": "string", "pattern": "^Alien [(]1979[)]$"})
    assert done.text == '"Alien (1979)"'


@pytest.mark.real_model
def test_warmed_prefix_is_reused_by_the_first_draft(llama: Any) -> None:
    variant = VARIANTS["copy"]
    cost = llama.warm_prefix(prefix_messages(variant))
    fixed = sum(llama.count_tokens(m["content"]) for m in prefix_messages(variant))
    assert cost["prompt_eval_tokens"] >= fixed
    llama.chat([{"role": "system", "content": "You label things."},
                {"role": "user", "content": "Hi"}], max_tokens=1)  # another prompt kind between
    item = Item(id="1", title="Aliens", year=1986)
    done = llama.chat(messages_for(variant, item, ["Aliens (1986) is a sci-fi film."]),
                      max_tokens=4, stop=["\n"])
    assert done.extra["reused_prompt_tokens"] >= fixed
    assert done.extra["prompt_eval_tokens"] < 40


@pytest.mark.real_model
def test_background_warm_up_then_close_is_safe(real_home: Path) -> None:
    from agent.backends.llama_cpp import LlamaCppBackend

    backend = LlamaCppBackend(resolve_model_path(DEFAULT_MODEL, real_home), n_threads=2,
                              n_ctx=1024, contexts=1)
    thread = warm_up(backend, background=True)
    assert thread is not None
    backend.close()  # waits for a running warm-up; one not yet started then does nothing
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert backend.warm_stats is None or backend.warm_stats["prompt_eval_tokens"] > 100
