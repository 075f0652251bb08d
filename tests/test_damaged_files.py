"""Damaged or missing files: one line naming the fix, a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.model_files import NAMED_MODELS
from convrec.cli import main

ROOT = Path(__file__).resolve().parents[1]
GENRES = ["action", "comedy", "drama", "horror", "sci-fi"]
DIRECTORS = ["Ann Lee", "Bob Ray", "Cid Moe", "Dee Fox"]


def write_tiny_catalog(folder: Path, n_items: int = 30) -> Path:
    """A generic-format catalog of `n_items` films, 20 users' ratings and sequel triples."""
    rng = random.Random(0)
    folder.mkdir(parents=True)
    with (folder / "items.jsonl").open("w", encoding="utf-8") as f:
        for i in range(n_items):
            f.write(json.dumps({
                "id": str(i), "title": f"Film {i}", "year": 1980 + i,
                "genres": sorted({GENRES[i % 5], GENRES[(i * 2) % 5]}),
                "text": f"Story number {i}, a {GENRES[i % 5]} tale.",
                "people": {"director": [DIRECTORS[i % 4]]},
            }) + "\n")
    rows = [f"u{u},{i},{rng.randint(1, 5)}" for u in range(20)
            for i in rng.sample(range(n_items), 8)]
    (folder / "interactions.csv").write_text("user_id,item_id,rating\n" + "\n".join(rows) + "\n")
    triples = [f"item:{i},sequel,item:{i + 1}" for i in range(n_items - 1)]
    (folder / "triples.csv").write_text("head,relation,tail\n" + "\n".join(triples) + "\n")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(catalog folder, home) with every artifact built once; tests work on copies of home."""
    base = tmp_path_factory.mktemp("damaged")
    catalog = write_tiny_catalog(base / "tiny")
    home = base / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONVREC_HOME", str(home))
        assert main(["build", "--catalog", str(catalog)]) == 0
    return catalog, home


@pytest.fixture
def fresh(built: tuple[Path, Path], isolated_home: Path) -> tuple[Path, Path]:
    """(catalog folder, home): a private copy of the built home, set as CONVREC_HOME."""
    catalog, home = built
    shutil.copytree(home, isolated_home)
    return catalog, isolated_home


def artifact(home: Path, kind: str) -> Path:
    """The one artifact folder of a kind under `home` (the tiny catalog has one of each)."""
    (folder,) = home.glob(f"artifacts/*/{kind}")
    return folder


def run_cli(*args: str) -> tuple[int, str]:
    """Run the real CLI in a subprocess with this test's environment: (exit code, output)."""
    result = subprocess.run([sys.executable, "-m", "convrec", *args], cwd=ROOT, env=os.environ,
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout + result.stderr


def call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the CLI in-process: (exit code, stdout + stderr)."""
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def assert_one_line_fix(code: int, output: str, *fix: str) -> str:
    """Non-zero exit, no traceback, at most two lines, one `convrec: error:` line naming `fix`."""
    assert code != 0, output
    assert "Traceback" not in output
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, output
    (error,) = [line for line in lines if line.startswith("convrec: error:")]
    assert "-- fix:" in error and all(part in error for part in fix), error
    return error


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    """`convrec check --json ARGS`: (exit code, the report)."""
    code, out = call(capsys, "check", "--json", *args)
    return code, json.loads(out)


# --- the model ---------------------------------------------------------------------------------

def test_ask_with_a_truncated_gguf_in_a_subprocess(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00garbage")
    code, out = run_cli("ask", "hello", "--model", str(broken))
    assert_one_line_fix(code, out, str(broken), "convrec setup")


@pytest.mark.parametrize("content, fix", [
    (None, "convrec setup"),                                   # missing
    (b"GGUF" + bytes(100), "convrec setup"),                  # magic, then truncated
    (b"XXXX" + bytes(4096), "--model"),                        # wrong magic
], ids=["missing", "truncated", "wrong-magic"])
def test_model_path_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             content: bytes | None, fix: str) -> None:
    model = tmp_path / "model.gguf"
    if content is not None:
        model.write_bytes(content)
    assert_one_line_fix(*call(capsys, "ask", "hello", "--model", str(model)), str(model), fix)


def test_named_model_of_the_wrong_size_or_hash(isolated_home: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    named = NAMED_MODELS["qwen2.5-coder-0.5b"]
    path = isolated_home / "models" / named.filename
    path.parent.mkdir(parents=True)
    path.write_bytes(b"GGUF" + bytes(1024))  # a truncated assembly
    error = assert_one_line_fix(*call(capsys, "ask", "hi", "--model", named.name),
                                "convrec setup")
    assert "expected 491,400,064" in error
    with path.open("r+b") as f:  # the pinned size (sparse), but a marker of another hash
        f.truncate(named.size)
    stat = path.stat()
    path.with_name(path.name + ".sha256").write_text(f"{'0' * 64} {stat.st_size} "
                                                     f"{stat.st_mtime_ns}\n")
    error = assert_one_line_fix(*call(capsys, "ask", "hi", "--model", named.name),
                                "convrec setup")
    assert "not been verified" in error
    code, report = check_json(capsys, "--model", named.name, "--catalog", "/nonexistent/x")
    assert code == 1 and not report["checks"]["model"]["ok"]
    assert "convrec setup" in report["checks"]["model"]["fix"]


# --- artifacts ---------------------------------------------------------------------------------

def test_corrupt_chroma_store_fails_then_rebuild_fixes_it(
        fresh: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    catalog, home = fresh
    (artifact(home, "chroma") / "chroma.sqlite3").write_bytes(b"not a database " * 500)
    code, out = run_cli("ask", "I like Film 1", "--catalog", str(catalog),
                        "--backend", "scripted", "--json")
    assert_one_line_fix(code, out, f"convrec build --catalog {catalog} --rebuild")
    assert call(capsys, "build", "--catalog", str(catalog), "--rebuild")[0] == 0
    code, report = check_json(capsys, "--catalog", str(catalog), "--backend", "scripted")
    assert code == 0 and report["ok"], report
    for kind in ("chroma", "kg", "cf"):  # --rebuild keeps every kind it rebuilt
        assert any(artifact(home, kind).iterdir())


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("kind, tool, damage", [
    ("kg", "kg_expansion", lambda folder: _truncate(next(folder.glob("*.pkl")))),
    ("cf", "cf_scoring", lambda folder: _truncate(folder / "cf_arrays.npz")),
    ("cf", "cf_scoring", lambda folder: (folder / "cf_meta.json").write_bytes(b"\x00{garbage")),
], ids=["kg-truncated", "cf-truncated", "cf-garbage-meta"])
def test_corrupt_kg_or_cf_is_reported_and_rebuilt(
        fresh: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
        kind: str, tool: str, damage) -> None:  # type: ignore[no-untyped-def]
    catalog, home = fresh
    damage(artifact(home, kind))
    code, report = check_json(capsys, "--catalog", str(catalog), "--backend", "scripted")
    assert code == 1 and not report["ok"]
    failed = report["checks"][f"artifacts:{tool}"]
    assert not failed["ok"] and "corrupt" in failed["detail"]
    assert failed["fix"] == f"convrec build --catalog {catalog} --rebuild"
    assert not report["checks"][f"tool:{tool}"]["ok"]  # not opened, so not silently repaired
    assert all(c["ok"] for name, c in report["checks"].items() if not name.endswith(tool))
    # A turn repairs it (cheap to rebuild), and so does `build --rebuild`.
    code, out = call(capsys, "ask", "I like Film 1", "--catalog", str(catalog),
                     "--backend", "scripted", "--json")
    assert code == 0 and json.loads(out)["turn"] == 1
    assert check_json(capsys, "--catalog", str(catalog), "--backend", "scripted")[0] == 0


def test_check_reports_every_component(fresh: tuple[Path, Path],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    catalog, home = fresh
    code, report = check_json(capsys, "--catalog", str(catalog))
    checks = report["checks"]
    tools = ("cf_scoring", "comention", "kg_expansion", "vector_retrieval")
    assert set(checks) == {"model", "catalog", "session_store", *(f"artifacts:{t}" for t in tools),
                           *(f"tool:{t}" for t in tools)}
    assert all({"ok", "detail", "seconds"} <= set(c) for c in checks.values())
    # No model in this home: reported with its fix, and the check fails.
    assert code == 1 and not report["ok"]
    assert not checks["model"]["ok"] and "convrec setup" in checks["model"]["fix"]
    assert all(checks[name]["ok"] for name in checks if name != "model"), checks
    assert "30 items" in checks["artifacts:vector_retrieval"]["detail"]
    # Artifacts never built: named with the build command, and check builds nothing.
    shutil.rmtree(home / "artifacts")
    code, report = check_json(capsys, "--catalog", str(catalog), "--backend", "scripted")
    assert code == 1
    for t in tools:
        assert "not built" in report["checks"][f"artifacts:{t}"]["detail"]
        assert report["checks"][f"artifacts:{t}"]["fix"] == f"convrec build --catalog {catalog}"
    assert not list((home / "artifacts").glob("*/*/*"))


# --- data and sessions -------------------------------------------------------------------------

def test_missing_data_dir(capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("build", "--catalog", "movielens-redial")
    error = assert_one_line_fix(*call(capsys, *args, "--data-dir", "/nonexistent"),
                                "--data-dir", "CONVREC_DATA_DIR")
    assert "/nonexistent does not exist" in error
    monkeypatch.setenv("CONVREC_DATA_DIR", "/nonexistent")
    assert_one_line_fix(*call(capsys, *args), "--data-dir", "CONVREC_DATA_DIR")
    assert_one_line_fix(*call(capsys, "build", "--catalog", "/nonexistent/catalog"), "--catalog")


def test_corrupt_sessions_db(fresh: tuple[Path, Path],
                             capsys: pytest.CaptureFixture[str]) -> None:
    catalog, home = fresh
    (home / "sessions.sqlite3").write_bytes(b"garbage, not SQLite " * 300)
    assert_one_line_fix(*call(capsys, "sessions", "list"), "--sessions-db")
    assert_one_line_fix(*call(capsys, "ask", "hi", "--catalog", str(catalog), "--backend",
                              "scripted"), "--sessions-db")
    code, report = check_json(capsys, "--catalog", str(catalog), "--backend", "scripted")
    store = report["checks"]["session_store"]
    assert code == 1 and not store["ok"] and "--sessions-db" in store["fix"]
