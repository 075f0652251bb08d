"""Stage lines and progress bars on stderr for the benchmark commands (stdout keeps the report)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def stage(message: str, show: bool) -> None:
    """Print a stage line to stderr (stdout stays free for the report or JSON)."""
    if show:
        print(f"[bench tools] {message}", file=sys.stderr, flush=True)


def progress(iterable: Iterable[T], total: int, desc: str, show: bool) -> Iterable[T]:
    """A tqdm bar on stderr around `iterable`; the bare iterable without tqdm or when hidden."""
    if not show:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        stage(desc, show)
        return iterable
    bar: Iterable[T] = tqdm(iterable, total=total, desc=desc, unit="it", leave=False,
                            file=sys.stderr)
    return bar
