"""One pydantic-settings tree for the CLI, the TUI and the Python API (env, config file, flags)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog.errors import UserFacingError
from catalog.paths import convrec_home

CONFIG_ENV = "CONVREC_CONFIG"


class Settings(BaseSettings):
    """convrec configuration; env vars are `CONVREC_<FIELD>` (e.g. CONVREC_N_GPU_LAYERS=-1)."""

    model_config = SettingsConfigDict(env_prefix="CONVREC_", extra="forbid")

    model: str = Field("qwen2.5-coder-1.5b",
                       description="Named embedded model or a path to any GGUF file.")
    backend: Literal["llama_cpp", "http", "scripted"] = Field(
        "llama_cpp", description="LLM backend: local llama.cpp, an OpenAI-compatible server, "
        "or the scripted fake used by tests.")
    llm_url: str | None = Field(None, description="Base URL of an OpenAI-compatible server "
                                "(backend=http), e.g. http://127.0.0.1:8000/v1.")
    n_gpu_layers: int = Field(0, description="Layers offloaded to the GPU; -1 = all.")
    n_threads: int | None = Field(None, description="CPU threads for llama.cpp (default: cores).")
    n_ctx: int = Field(2048, ge=256, description="Context window in tokens.")
    seed: int = Field(0, description="Sampling seed.")
    prompt_contexts: int = Field(2, ge=1, le=4, description="llama.cpp contexts sharing the "
                                 "weights, one per prompt kind, so understanding and "
                                 "justification each keep their prompt prefix cached.")
    catalog: str = Field("movielens-redial", description="movielens-redial (embedded), ml-100k "
                         "(fetched by `convrec setup --catalog ml-100k`) or a catalog folder.")
    data_dir: Path | None = Field(None, description="Folder with ml-latest-small/ and redial/.")
    cache_dir: Path | None = Field(None, description="Cache for models, catalogs, artifacts "
                                   "(default: CONVREC_HOME or ~/.cache/convrec).")
    store_url: str | None = Field(None, description="Chroma server URL (default: local store).")
    sessions_db: Path | None = Field(None, description="SQLite file for sessions "
                                     "(default: <cache>/sessions.sqlite3).")
    sessions_url: str | None = Field(None, pattern=r"^postgres(ql)?://",
                                     description="Postgres URL for sessions and user memory "
                                     "(postgresql://user@host/db); when set it replaces the "
                                     "SQLite file, so agents on many machines share them.")
    n_recommendations: int = Field(5, ge=1, le=20, description="Items per recommendation turn.")
    ranker: Literal["learned", "rrf"] = Field(
        "learned", description="How the tools' candidates are ordered: the learned ranker "
        "trained by `convrec train ranker` (reciprocal-rank fusion while none is installed), "
        "or reciprocal-rank fusion alone.")
    justify_with_llm: bool = Field(True, description="Let the LLM write text at all (False: "
                                   "templates for every question and justification).")
    llm_justified: int = Field(1, ge=0, le=20, description="How many of the top cards the LLM "
                               "rewrites (the first is streamed); the rest keep the grounded "
                               "template. Each costs ~2 s on 2 CPU threads; use 5 on a GPU.")
    understanding_llm: Literal["auto", "always", "never"] = Field(
        "auto", description="When the LLM labels what the catalog reader found: auto (only "
        "when a label is a guess or a name may be missed), always, or never.")
    llm_questions: bool = Field(False, description="Let the LLM phrase interview questions "
                                "(else the slot's template; saves ~1 s a question on CPU).")
    memory: bool = Field(True, description="Remember each user's likes, dislikes and seen "
                         "films across sessions (False: every session starts empty).")
    memory_half_life_days: float = Field(90.0, ge=0.0, description="Remembered evidence "
                                         "loses half its weight every this many days "
                                         "(0: no decay).")

    _config_file: Path | None = PrivateAttr(default=None)

    def config_file(self) -> Path:
        """The config file these settings were read from, and the one the settings screen writes."""
        return self._config_file or config_target(None, self.cache_dir)

    def resolved_cache_dir(self) -> Path:
        """The cache directory (created)."""
        if self.cache_dir:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            return self.cache_dir
        return convrec_home()

    def resolved_sessions_db(self) -> Path:
        """The sessions database path."""
        return self.sessions_db or self.resolved_cache_dir() / "sessions.sqlite3"


def config_target(explicit: Path | None = None, cache_dir: Path | None = None) -> Path:
    """The one config path, read at start and written by the settings screen: --config,
    CONVREC_CONFIG, else <cache dir>/config.toml (--cache-dir / CONVREC_CACHE_DIR, else the home)."""
    if explicit:
        return explicit
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return (cache_dir or convrec_home()) / "config.toml"


def config_file_path(explicit: Path | None = None, cache_dir: Path | None = None) -> Path | None:
    """The config file to read: --config or CONVREC_CONFIG, else <cache dir>/config.toml if present."""
    path = config_target(explicit, cache_dir)
    return path if explicit or os.environ.get(CONFIG_ENV) or path.is_file() else None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Validate config file < environment < explicit overrides (CLI flags) into Settings.

    Raises:
        UserFacingError: when the config file is unreadable or a value is invalid.
    """
    values: dict[str, Any] = {}
    cache = overrides.get("cache_dir") or os.environ.get("CONVREC_CACHE_DIR")
    cache_dir = Path(cache) if cache else None
    path = config_file_path(config, cache_dir)
    if path is not None:
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UserFacingError(f"cannot read config file {path}: {exc}",
                                  "fix or remove the file") from exc
    try:
        env_set = Settings().model_fields_set  # fields given by CONVREC_* variables win over file
        from_file = {k: v for k, v in values.items() if k not in env_set}
        flags = {k: v for k, v in overrides.items() if v is not None}
        settings = Settings(**{**from_file, **flags})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(map(str, err["loc"]))
        raise UserFacingError(f"invalid setting {loc}: {err['msg']}",
                              "see `convrec --help` for the allowed values") from exc
    settings._config_file = config_target(config, cache_dir)
    return settings
