"""Shared fixtures: an isolated CONVREC_HOME per test, and the real catalogs loaded once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from postgres_fixtures import postgres_db_url, postgres_url  # noqa: F401 - shared fixtures

from catalog import Catalog, load_catalog
from catalog.ml100k import is_installed

# The cache that `convrec setup` and `convrec setup --catalog ml-100k` filled (model, ml-100k,
# artifacts); captured before any test changes env.
REAL_HOME = Path(os.environ.get("CONVREC_HOME") or Path.home() / ".cache" / "convrec")
SHARED_DATA = Path(os.environ.get("CONVREC_DATA_DIR") or
                   Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point CONVREC_HOME at a fresh temp dir so tests never touch the user's cache."""
    home = tmp_path / "convrec-home"
    monkeypatch.setenv("CONVREC_HOME", str(home))
    monkeypatch.delenv("CONVREC_CONFIG", raising=False)
    return home


@pytest.fixture(scope="session")
def real_home() -> Path:
    """The real cache filled by `convrec setup [--catalog ml-100k]` (model, ml-100k)."""
    return REAL_HOME


@pytest.fixture(scope="session")
def ml100k(real_home: Path) -> Catalog:
    """The real ml-100k catalog (installed by `convrec setup --catalog ml-100k`)."""
    if not is_installed(real_home):
        pytest.fail("ml-100k is not installed: run `convrec setup --catalog ml-100k` first (the "
                    "README test command does this)")
    return load_catalog("ml-100k", real_home)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder (MovieLens latest-small + ReDial)."""
    if not (SHARED_DATA / "ml-latest-small").is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}; set CONVREC_DATA_DIR")
    return SHARED_DATA


@pytest.fixture(scope="session")
def redial_catalog() -> Catalog:
    """The real movielens-redial catalog, from the copy embedded in the package."""
    return load_catalog("movielens-redial", Path("/nonexistent"))


@pytest.fixture(scope="session")
def ml100k_agent_factory(ml100k: Catalog, real_home: Path, tmp_path_factory: pytest.TempPathFactory):
    """Agents on ml-100k that reuse the artifacts `convrec setup --catalog ml-100k` built."""
    from agent import Agent, Settings

    def make(backend, **settings):  # type: ignore[no-untyped-def]
        db = tmp_path_factory.mktemp("sessions") / "sessions.sqlite3"
        s = Settings(backend="scripted", cache_dir=real_home, sessions_db=db, **settings)
        return Agent.from_settings(s, backend=backend, catalog=ml100k)

    return make


@pytest.fixture(scope="session")
def real_agent(ml100k, real_home, ml100k_agent_factory):  # type: ignore[no-untyped-def]
    """The agent on ml-100k with the real default model, loaded once per test run."""
    from agent.backends.factory import make_backend
    from agent.model_files import DEFAULT_MODEL, resolve_model_path
    from agent.settings import Settings
    from catalog.errors import ModelFileError

    try:
        resolve_model_path(DEFAULT_MODEL, real_home)
    except ModelFileError as exc:
        pytest.fail(f"{exc.one_line()} (the README test command runs `convrec setup` first)")
    backend = make_backend(Settings(cache_dir=real_home, n_ctx=2048), real_home)
    return ml100k_agent_factory(backend)
