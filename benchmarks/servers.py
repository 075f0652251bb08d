"""Start and stop a llama.cpp server and a Chroma server on loopback (load bench, scale-out test)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from catalog.errors import UserFacingError

HOST = "127.0.0.1"
CHROMA_READY_S = 60.0
LLAMA_READY_S = 300.0
STOP_WAIT_S = 15.0
LOG_TAIL_CHARS = 2000


class ServerStartError(UserFacingError):
    """A server did not come up: it exited, or did not answer its readiness probe in time."""


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when a GET of `url` answers HTTP 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class ManagedServer:
    """A server process we started, with its URL and log; `stop()` (or `with`) ends it."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        """The last characters of the server's log ('' when unreadable)."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the process, killing it when it does not exit in STOP_WAIT_S seconds."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_WAIT_S)

    def __enter__(self) -> ManagedServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def launch(name: str, command: list[str], url: str, probe: Callable[[], bool], log: Path,
           timeout: float, env: dict[str, str] | None = None) -> ManagedServer:
    """Start `command` with output to `log` and wait until `probe()` is true.

    Raises:
        ServerStartError: when the process cannot start, exits, or is not ready in `timeout` s
            (the process is stopped first; the message carries the end of its log).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        with log.open("wb") as sink:
            process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env)
    except OSError as exc:
        raise ServerStartError(f"cannot start the {name} ({command[0]}): {exc}",
                               "check the installation (pip install 'convrec[server]')") from exc
    server = ManagedServer(name, url, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"the {name} exited with code {process.returncode} while "
                                   f"starting; end of its log:\n{server.log_tail()}",
                                   f"run `{' '.join(command)}` by hand to see why")
        if probe():
            return server
        time.sleep(0.25)
    server.stop()
    raise ServerStartError(f"the {name} did not answer at {url} within {timeout:.0f} s; end of "
                           f"its log:\n{server.log_tail()}",
                           "check the machine's load or raise the start timeout")


def chroma_executable() -> str:
    """The `chroma` command of this environment (next to the interpreter, else on PATH).

    Raises:
        ServerStartError: when chromadb's command line is not installed.
    """
    sibling = Path(sys.executable).with_name("chroma")
    if sibling.is_file():
        return str(sibling)
    found = shutil.which("chroma")
    if found:
        return found
    raise ServerStartError("the `chroma` command was not found next to "
                           f"{sys.executable} nor on PATH", "pip install chromadb")


def start_chroma(path: Path, log: Path, port: int | None = None,
                 timeout: float = CHROMA_READY_S) -> ManagedServer:
    """`chroma run` on loopback, persisting to `path`; ready once its heartbeat answers.

    Raises:
        ServerStartError: when the server does not come up.
    """
    port = port or free_port()
    url = f"http://{HOST}:{port}"
    command = [chroma_executable(), "run", "--host", HOST, "--port", str(port),
               "--path", str(path)]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    return launch("Chroma server", command, url, lambda: http_ok(f"{url}/api/v2/heartbeat"),
                  log, timeout, env)


def llama_server_command(model: Path, port: int, *, n_ctx: int = 2048,
                         n_threads: int | None = None, n_gpu_layers: int = 0,
                         seed: int = 0) -> list[str]:
    """The `python -m llama_cpp.server` command line convrec uses.

    `--interrupt_requests False` matters with concurrent clients: llama-cpp-python's server
    otherwise ends a streamed reply early whenever another request arrives. The server holds
    one model instance behind a lock and answers one request at a time (0.3.36 has no
    parallel slots), so concurrent sessions queue there.
    """
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
               "--host", HOST, "--port", str(port), "--n_ctx", str(n_ctx),
               "--n_gpu_layers", str(n_gpu_layers), "--seed", str(seed),
               "--interrupt_requests", "False", "--verbose", "False"]
    if n_threads:
        command += ["--n_threads", str(n_threads), "--n_threads_batch", str(n_threads)]
    return command


def start_llama(model: Path, log: Path, port: int | None = None, *, n_ctx: int = 2048,
                n_threads: int | None = None, n_gpu_layers: int = 0, seed: int = 0,
                timeout: float = LLAMA_READY_S) -> ManagedServer:
    """llama-cpp-python's OpenAI-compatible server on loopback; ready once `/v1/models` answers.

    The returned URL is the server root (give it as `llm_url`).

    Raises:
        ServerStartError: when the server does not come up.
    """
    port = port or free_port()
    url = f"http://{HOST}:{port}"
    command = llama_server_command(model, port, n_ctx=n_ctx, n_threads=n_threads,
                                   n_gpu_layers=n_gpu_layers, seed=seed)
    return launch("llama.cpp server", command, url, lambda: http_ok(f"{url}/v1/models"),
                  log, timeout)
