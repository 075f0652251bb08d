"""Postgres fixtures: one throwaway cluster per test run, a fresh database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

URL_ENV = "CONVREC_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A Postgres server for the whole run: `$CONVREC_TEST_POSTGRES_URL` when set, else a
    throwaway cluster from the Debian package on a loopback port (stopped and deleted at the
    end). A missing Postgres FAILS the test: CI installs it (.ci/run)."""
    if os.environ.get(URL_ENV):
        yield os.environ[URL_ENV]
        return
    from benchmarks.servers import ServerStartError, start_postgres

    try:
        server = start_postgres()
    except ServerStartError as exc:
        pytest.fail(exc.one_line(), pytrace=False)
    with server:
        yield server.url


@pytest.fixture
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty database on that server, dropped after the test."""
    import psycopg

    name = f"convrec_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_url.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
