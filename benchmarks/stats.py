"""Small statistics helpers for benchmark reports."""

from __future__ import annotations

import math

from catalog.measure import percentile as percentile  # re-exported: it used to live here


def summary(values: list[float]) -> dict[str, float]:
    """n, p50, p95, mean, max of a list of seconds."""
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "mean": sum(values) / len(values) if values else math.nan,
            "max": max(values) if values else math.nan}
