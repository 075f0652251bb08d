"""Every Python module of the project opens with a one-line summary docstring."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tracked_modules() -> list[Path]:
    """The Python files git tracks (or every .py under the project folders without git)."""
    try:
        out = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py") if ".venv" not in p.parts]
    return [ROOT / name for name in out]


def summary_problem(path: Path) -> str | None:
    """Why the module's docstring is not a one-line summary, or None when it is."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False)
    if not doc or not doc.strip():
        return "no module docstring"
    first = doc.strip().split("\n\n")[0]
    if "\n" in first:
        return "the summary runs over more than one line"
    return None


def test_every_module_opens_with_a_one_line_summary() -> None:
    modules = tracked_modules()
    assert len(modules) > 100
    problems = {str(p.relative_to(ROOT)): why for p in modules
                if (why := summary_problem(p)) is not None and p.stat().st_size > 0}
    assert problems == {}


def test_a_wrapped_summary_is_found(tmp_path: Path) -> None:
    wrapped = tmp_path / "wrapped.py"
    wrapped.write_text('"""A summary that\nruns on.\n\nDetail."""\n', encoding="utf-8")
    fine = tmp_path / "fine.py"
    fine.write_text('"""One line.\n\nDetail\nover lines."""\nx = 1\n', encoding="utf-8")
    none = tmp_path / "none.py"
    none.write_text("x = 1\n", encoding="utf-8")
    assert summary_problem(wrapped) == "the summary runs over more than one line"
    assert summary_problem(fine) is None
    assert summary_problem(none) == "no module docstring"
