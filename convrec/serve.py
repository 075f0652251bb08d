"""`convrec serve llm`: start llama.cpp's `llama-server` (built once, cached) sized for the machine."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import UserFacingError
from catalog.measure import cpu_cores as cpu_cores  # re-exported: it used to live here

log = logging.getLogger(__name__)

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
"""The sdist whose vendored llama.cpp the server is built from (the embedded backend's)."""
BUILD_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_llama_server.sh"
BINARY_ENV = "CONVREC_LLAMA_SERVER"
DIR_ENV = "CONVREC_LLAMA_SERVER_DIR"
DEFAULT_PORT = 8080
CPU_SLOTS_PER_CORE = 2
MAX_CPU_SLOTS = 16
GPU_SLOTS = 16
CACHE_RAM_MIB = 1024


class LlamaServerMissing(UserFacingError):
    """No llama-server binary is built or installed."""


def gpu_present() -> bool:
    """True when `nvidia-smi -L` lists a GPU (and nvcc is there to build for it)."""
    if not (shutil.which("nvidia-smi") and shutil.which("nvcc")):
        return False
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.lstrip().startswith("GPU ")


@dataclass(frozen=True)
class ServePlan:
    """How llama-server is started: `slots` parallel sequences of `ctx_per_slot` tokens each.

    llama-server divides `-c` among its `-np` slots (with a fixed slot count its KV cache is not
    unified), so `-c` is `slots * ctx_per_slot`: every slot holds the longest prompt the agent
    sends (`Settings.n_ctx`). Continuous batching (on by default) decodes all busy slots in one
    forward pass; `cache_ram_mib` is the host-memory prompt cache that lets any slot restore a
    prefix (the agent's long system prompts) another slot computed.
    """

    slots: int
    ctx_per_slot: int
    threads: int
    gpu_layers: int
    cache_ram_mib: int = CACHE_RAM_MIB

    @property
    def ctx_total(self) -> int:
        """The `-c` value."""
        return self.slots * self.ctx_per_slot


def machine_plan(ctx_per_slot: int, *, slots: int | None = None, threads: int | None = None,
                 gpu_layers: int | None = None, gpu: bool | None = None) -> ServePlan:
    """Slots, context and threads for this machine, each overridable.

    On a GPU: all layers offloaded, GPU_SLOTS slots. On a CPU: one thread per core and
    CPU_SLOTS_PER_CORE slots per core (at most MAX_CPU_SLOTS): a CPU saturates its arithmetic
    with a few sequences, more slots only add queueing inside the server instead of outside.
    """
    gpu = gpu_present() if gpu is None else gpu
    cores = cpu_cores()
    if slots is None:
        slots = GPU_SLOTS if gpu else min(MAX_CPU_SLOTS, max(2, CPU_SLOTS_PER_CORE * cores))
    if slots < 1 or ctx_per_slot < 256:
        raise UserFacingError(f"need at least 1 slot of 256 tokens, got {slots} x {ctx_per_slot}",
                              "pass --slots N (>= 1) and --ctx-per-slot N (>= 256)")
    return ServePlan(slots=slots, ctx_per_slot=ctx_per_slot, threads=threads or cores,
                     gpu_layers=(-1 if gpu else 0) if gpu_layers is None else gpu_layers)


def binary_dir(cache: Path, cuda: bool) -> Path:
    """Where the build script puts the binary (`$CONVREC_LLAMA_SERVER_DIR` overrides <cache>/bin)."""
    root = Path(os.environ[DIR_ENV]) if os.environ.get(DIR_ENV) else cache / "bin"
    return root / f"llama-server-{LLAMA_CPP_PYTHON_VERSION}-{'cuda' if cuda else 'cpu'}"


def find_llama_server(cache: Path, cuda: bool | None = None) -> Path | None:
    """The llama-server to run: `$CONVREC_LLAMA_SERVER`, the cached build (CUDA first on a GPU
    machine), else one on PATH; None when there is none."""
    if os.environ.get(BINARY_ENV):
        return Path(os.environ[BINARY_ENV])
    cuda = gpu_present() if cuda is None else cuda
    for flavour in ((True, False) if cuda else (False,)):
        candidate = binary_dir(cache, flavour) / "llama-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("llama-server")
    return Path(found) if found else None


def build_llama_server(cache: Path, show: bool = True) -> Path:
    """Run scripts/build_llama_server.sh (cached: returns at once when built) and return the
    binary.

    Raises:
        LlamaServerMissing: when the script is not there (an installed package) or fails.
    """
    if not BUILD_SCRIPT.is_file():
        raise LlamaServerMissing(f"{BUILD_SCRIPT} not found (convrec installed without its "
                                 "scripts)", "build llama-server from llama.cpp and set "
                                 f"{BINARY_ENV}=PATH, or put it on PATH")
    if show:
        print("[serve] building llama-server (cached after the first time; minutes on a CPU)",
              file=sys.stderr, flush=True)
    env = {**os.environ, "CONVREC_HOME": str(cache)}
    done = subprocess.run(["bash", str(BUILD_SCRIPT)], env=env, stdout=subprocess.PIPE,
                          stderr=None if show else subprocess.PIPE, text=True)
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr or "")[-1500:]
        raise LlamaServerMissing(f"building llama-server failed (exit {done.returncode}) {tail}",
                                 f"run `bash {BUILD_SCRIPT}` to see why (needs cmake and a C++ "
                                 "compiler)")
    return Path(done.stdout.strip().splitlines()[-1])


def llama_server_argv(binary: Path, model: Path, plan: ServePlan, *, host: str = "127.0.0.1",
                      port: int = DEFAULT_PORT, seed: int = 0, metrics: bool = True) -> list[str]:
    """The llama-server command line for `plan`."""
    argv = [str(binary), "--model", str(model), "--host", host, "--port", str(port),
            "--parallel", str(plan.slots), "--ctx-size", str(plan.ctx_total),
            "--cont-batching", "--threads", str(plan.threads), "--threads-batch",
            str(plan.threads), "--n-gpu-layers", str(plan.gpu_layers), "--seed", str(seed),
            "--cache-ram", str(plan.cache_ram_mib), "--no-webui", "--alias", model.stem]
    if metrics:
        argv.append("--metrics")
    return argv


def resolve_binary(cache: Path, build: bool, show: bool = True) -> Path:
    """The binary to run, built first when missing and `build` is true.

    Raises:
        LlamaServerMissing: when none is there and building is off or fails.
    """
    binary = find_llama_server(cache)
    if binary is not None:
        return binary
    if not build:
        raise LlamaServerMissing("llama-server is not built",
                                 f"run `bash {BUILD_SCRIPT}` (or `convrec serve llm` without "
                                 "--no-build)")
    return build_llama_server(cache, show)


def add_serve_command(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                      common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `convrec serve llm`."""
    p = sub.add_parser("serve", help="run the shared servers of a scale-out deployment")
    what = p.add_subparsers(dest="what", required=True)
    llm = what.add_parser("llm", help="llama.cpp's llama-server with parallel slots (OpenAI "
                          "API) for many agent processes")
    common(llm)
    llm.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    llm.add_argument("--port", type=int, default=DEFAULT_PORT)
    llm.add_argument("--slots", type=int, help="parallel sequences (default: 16 on a GPU, "
                     "2 per core on a CPU, at most 16)")
    llm.add_argument("--ctx-per-slot", type=int, help="tokens per slot (default: --n-ctx)")
    llm.add_argument("--no-build", action="store_true",
                     help="fail instead of building llama-server when it is missing")
    llm.add_argument("--print-command", action="store_true",
                     help="print the command line and exit")
    llm.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    """Start llama-server in the foreground; Ctrl-C stops it."""
    from agent.model_files import resolve_model_path
    from convrec.cli import settings_from

    settings = settings_from(args)
    cache = settings.resolved_cache_dir()
    model = resolve_model_path(settings.model, cache)
    gpu = settings.n_gpu_layers != 0 or gpu_present()
    plan = machine_plan(args.ctx_per_slot or settings.n_ctx, slots=args.slots,
                        threads=settings.n_threads,
                        gpu_layers=settings.n_gpu_layers if "n_gpu_layers" in
                        settings.model_fields_set else None, gpu=gpu)
    binary = resolve_binary(cache, build=not args.no_build)
    argv = llama_server_argv(binary, model, plan, host=args.host, port=args.port,
                             seed=settings.seed)
    if args.print_command:
        print(" ".join(argv))
        return 0
    url = f"http://{args.host}:{args.port}"
    print(f"[serve] starting {' '.join(argv)}", file=sys.stderr, flush=True)
    process = subprocess.Popen(argv)
    try:
        if not wait_ready(url, process):
            return process.wait() or 1
        print(f"llama-server ready at {url}/v1: {plan.slots} slots x {plan.ctx_per_slot} tokens, "
              f"{plan.threads} threads, {plan.gpu_layers} GPU layers, model {model.name}\n"
              f"agents: convrec chat --backend http --llm-url {url}   (Ctrl-C stops the server)",
              flush=True)
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        return 0


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 600.0) -> bool:
    """Poll `<url>/health` until it answers 200 (model loaded); False when the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False
