"""The HTTP backend against a real `python -m llama_cpp.server` serving the default model."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_backends import EXTRACTION, TASTE_SCHEMA, BackendContract, Taste, real_default_model

from agent.backends import BackendError, HttpBackend, LLMBackend

pytestmark = pytest.mark.real_model

READY_TIMEOUT_S = 120.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_ready(server: subprocess.Popen[bytes], backend: HttpBackend, log: Path) -> None:
    """Poll `/v1/models` until the server answers; fail with its log if it dies or stalls."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {server.returncode}:\n"
                        f"{log.read_text(errors='replace')[-2000:]}")
        try:
            if backend.models():
                return
        except BackendError:
            time.sleep(0.5)
    pytest.fail(f"llama_cpp.server not ready after {READY_TIMEOUT_S:.0f} s:\n"
                f"{log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def server_backend(real_home: Path, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[HttpBackend]:
    """A llama.cpp server on a free port, always terminated at the end of the module."""
    model = real_default_model(real_home)
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
               "--n_threads", "2", "--n_threads_batch", "2", "--seed", "0",
               "--verbose", "False"]
    with log.open("wb") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        backend = HttpBackend(f"http://127.0.0.1:{port}", timeout=300, seed=0)
        wait_until_ready(server, backend, log)
        yield backend
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


class TestLlamaServerContract(BackendContract):
    """The backend contract, through HTTP: same assertions as the in-process model."""

    real = True

    @pytest.fixture
    def backend(self, server_backend: HttpBackend) -> LLMBackend:
        return server_backend


def test_server_json_schema_stream(server_backend: HttpBackend) -> None:
    pieces: list[str] = []
    done = server_backend.chat(EXTRACTION, max_tokens=64, json_schema=TASTE_SCHEMA,
                               on_token=pieces.append)
    assert done.finish_reason == "stop" and "".join(pieces) == done.text
    Taste.model_validate_json(done.text)
    assert server_backend.model  # discovered through /v1/models
