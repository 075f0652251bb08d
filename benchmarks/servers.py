"""Start and stop LLM servers, a Chroma server and a throwaway Postgres on loopback (bench, tests)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from catalog.errors import UserFacingError

HOST = "127.0.0.1"
CHROMA_READY_S = 60.0
LLAMA_READY_S = 300.0
POSTGRES_READY_S = 60.0
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
    stop_signal: int = signal.SIGTERM
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        """The last characters of the server's log ('' when unreadable)."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Signal the process to stop (`stop_signal`), killing it when it does not exit in
        STOP_WAIT_S seconds; then run the cleanup callbacks (e.g. remove a temporary folder)."""
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_WAIT_S)
        while self.cleanup:
            self.cleanup.pop()()

    def __enter__(self) -> ManagedServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def launch(name: str, command: list[str], url: str, probe: Callable[[], bool], log: Path,
           timeout: float, env: dict[str, str] | None = None, user: str | None = None,
           stop_signal: int = signal.SIGTERM) -> ManagedServer:
    """Start `command` with output to `log` and wait until `probe()` is true.

    Raises:
        ServerStartError: when the process cannot start, exits, or is not ready in `timeout` s
            (the process is stopped first; the message carries the end of its log).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        with log.open("wb") as sink:
            process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env, user=user,
                                       group=pwd.getpwnam(user).pw_gid if user else None,
                                       extra_groups=[] if user else None)
    except OSError as exc:
        raise ServerStartError(f"cannot start the {name} ({command[0]}): {exc}",
                               "check the installation (pip install 'convrec[server]')") from exc
    server = ManagedServer(name, url, process, log, stop_signal)
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


def start_llama_server(model: Path, log: Path, port: int | None = None, *, slots: int = 4,
                       ctx_per_slot: int = 2048, n_threads: int | None = None,
                       n_gpu_layers: int = 0, seed: int = 0, binary: Path | None = None,
                       cache: Path | None = None,
                       timeout: float = LLAMA_READY_S) -> ManagedServer:
    """llama.cpp's own `llama-server` on loopback with `slots` parallel slots (continuous
    batching), ready once `/health` answers 200 (the model is loaded).

    `binary` defaults to the build cached under `cache` (default CONVREC_HOME) by
    `scripts/build_llama_server.sh`, or one on PATH.

    Raises:
        ServerStartError: when no binary is built or the server does not come up.
    """
    from catalog.measure import cpu_cores
    from catalog.paths import convrec_home
    from convrec.serve import BUILD_SCRIPT, ServePlan, find_llama_server, llama_server_argv

    binary = binary or find_llama_server(cache or convrec_home(), cuda=n_gpu_layers != 0)
    if binary is None:
        raise ServerStartError("llama-server is not built", f"run `bash {BUILD_SCRIPT}`")
    port = port or free_port()
    url = f"http://{HOST}:{port}"
    plan = ServePlan(slots=slots, ctx_per_slot=ctx_per_slot, threads=n_threads or cpu_cores(),
                     gpu_layers=n_gpu_layers)
    command = llama_server_argv(binary, model, plan, host=HOST, port=port, seed=seed)
    return launch("llama-server", command, url, lambda: http_ok(f"{url}/health"), log, timeout,
                  stop_signal=signal.SIGINT)


def llama_metrics(url: str, timeout: float = 10.0) -> dict[str, float]:
    """llama-server's Prometheus counters (`/metrics`, needs `--metrics`) by name without the
    `llamacpp:` prefix; {} when the endpoint does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=timeout) as response:
            text = response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return {}
    values: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith("llamacpp:") and "{" not in name:
            try:
                values[name.removeprefix("llamacpp:")] = float(value)
            except ValueError:
                continue
    return values


def postgres_bindir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin (Debian's layout), else where `initdb` is
    on PATH.

    Raises:
        ServerStartError: when Postgres is not installed.
    """
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServerStartError("Postgres is not installed (no initdb)",
                           "apt-get install -y postgresql (Debian/Ubuntu)")


def start_postgres(log: Path | None = None, port: int | None = None,
                   timeout: float = POSTGRES_READY_S) -> ManagedServer:
    """A throwaway Postgres cluster in a temporary folder, on a loopback port and a Unix socket
    in that folder; trust authentication, user `postgres`, database `postgres`.

    Run as root, the cluster belongs to the `postgres` user (Postgres refuses to run as root).
    Stopping it (fast shutdown) deletes the folder. The URL is `postgresql://postgres@HOST:PORT/
    postgres`.

    Raises:
        ServerStartError: when Postgres is not installed or does not come up.
    """
    import tempfile

    bindir = postgres_bindir()
    user = None
    base = Path(tempfile.mkdtemp(prefix="convrec-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as exc:
            shutil.rmtree(base, ignore_errors=True)
            raise ServerStartError("running as root and there is no `postgres` user to own "
                                   "the cluster", "apt-get install -y postgresql (it adds the "
                                   "user) or run as a normal user") from exc
        os.chown(base, owner.pw_uid, owner.pw_gid)
        user = "postgres"
    data = base / "data"
    log = log or base / "postgres.log"
    init = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                           "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
                          capture_output=True, text=True, user=user,
                          group=pwd.getpwnam(user).pw_gid if user else None,
                          extra_groups=[] if user else None, timeout=timeout, cwd=base)
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise ServerStartError(f"initdb failed: {(init.stderr or init.stdout)[-800:]}",
                               f"run {bindir / 'initdb'} by hand to see why")
    port = port or free_port()
    url = f"postgresql://postgres@{HOST}:{port}/postgres"
    command = [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(base),
               "-c", f"listen_addresses={HOST}", "-c", "max_connections=100"]

    def ready() -> bool:
        import psycopg

        try:
            with psycopg.connect(url, connect_timeout=2):
                return True
        except psycopg.Error:
            return False

    try:
        server = launch("Postgres server", command, url, ready, log, timeout, user=user,
                        stop_signal=signal.SIGINT)
    except ServerStartError:
        shutil.rmtree(base, ignore_errors=True)
        raise
    server.cleanup.append(lambda: shutil.rmtree(base, ignore_errors=True))
    return server
