"""Pick and build the LLM backend that the settings ask for."""

from __future__ import annotations

import logging
from pathlib import Path

from agent.backends.base import LLMBackend
from agent.backends.scripted import ScriptedBackend
from agent.model_files import resolve_model_path
from agent.settings import Settings
from catalog.errors import UserFacingError

log = logging.getLogger(__name__)


def preflight(settings: Settings, cache_dir: Path | None = None) -> None:
    """Cheap checks of what `make_backend` needs, to run before slow start-up work.

    Checks the model file (exists, size, GGUF magic, verified hash marker) for `llama_cpp`
    and the server URL for `http`, without loading anything.

    Raises:
        ModelFileError: when the model file is missing, truncated, not GGUF or unverified.
        UserFacingError: when `backend=http` is chosen without `llm_url`.
    """
    if settings.backend == "llama_cpp":
        resolve_model_path(settings.model, cache_dir or settings.resolved_cache_dir())
    elif settings.backend == "http" and not settings.llm_url:
        raise UserFacingError("backend=http needs the URL of an OpenAI-compatible server",
                              "set llm_url (CONVREC_LLM_URL), e.g. http://127.0.0.1:8000/v1")


def make_backend(settings: Settings, cache_dir: Path | None = None) -> LLMBackend:
    """Build the backend named by `settings.backend`.

    - `llama_cpp`: resolves `settings.model` (a named embedded model or a GGUF path) and
      loads it with the GPU, thread, context and seed settings.
    - `http`: an OpenAI-compatible server at `settings.llm_url`; the model name is sent only
      when `model` was set explicitly (otherwise the server's first model is used).
    - `scripted`: the fake used by tests, with no replies queued.

    Args:
        settings: The validated configuration.
        cache_dir: Where named models live (default: the settings' cache directory).

    Returns:
        A ready backend.

    Raises:
        ModelFileError: when the model is missing, truncated, unverified or unloadable.
        UserFacingError: when `backend=http` is chosen without `llm_url`.
    """
    if settings.backend == "scripted":
        return ScriptedBackend()
    if settings.backend == "http":
        from agent.backends.http import HttpBackend

        preflight(settings, cache_dir)
        assert settings.llm_url  # checked by preflight
        model = settings.model if "model" in settings.model_fields_set else None
        return HttpBackend(settings.llm_url, model=model, seed=settings.seed)
    from agent.backends.llama_cpp import LlamaCppBackend

    path = resolve_model_path(settings.model, cache_dir or settings.resolved_cache_dir())
    return LlamaCppBackend(path, n_gpu_layers=settings.n_gpu_layers,
                           n_threads=settings.n_threads, n_ctx=settings.n_ctx,
                           seed=settings.seed,
                           contexts=settings.prompt_contexts)
