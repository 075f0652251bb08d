"""Measuring and reporting helpers shared by every layer: percentiles, usable cores, tables."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Sequence

log = logging.getLogger(__name__)


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation (numpy's default); NaN for none."""
    xs = sorted(float(v) for v in values)
    if not xs:
        return math.nan
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def cpu_cores() -> int:
    """CPU cores this process may run on (its affinity mask on Linux, else the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """Lines of a Markdown table: the header, the '| --- |' rule, one line per row.

    Cells are written with `str()`; format numbers before passing them.
    """
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines
