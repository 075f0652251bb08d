"""Bootstrap 95 % intervals for ratio metrics, and paired bootstrap differences between methods."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from catalog.measure import percentile

log = logging.getLogger(__name__)

N_BOOT = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap interval.

    Attributes:
        value: The statistic on the observed data (sum of numerators / sum of denominators).
        lo: Lower bound of the interval.
        hi: Upper bound.
        n: Number of units (numerator entries) the statistic is taken over.
        groups: Number of resampled clusters (dialogues, users).
    """

    value: float
    lo: float
    hi: float
    n: int
    groups: int

    def as_dict(self) -> dict[str, float]:
        """JSON-ready."""
        return asdict(self)

    def text(self, digits: int = 3) -> str:
        """'0.123 [0.100, 0.150]'."""
        if self.n == 0:
            return "n/a"
        return f"{self.value:.{digits}f} [{self.lo:.{digits}f}, {self.hi:.{digits}f}]"


def _grouped(num: Sequence[float], den: Sequence[float] | None,
             groups: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator sums per cluster (each unit its own cluster without groups)."""
    x = np.asarray(num, dtype=float)
    d = np.ones_like(x) if den is None else np.asarray(den, dtype=float)
    if len(d) != len(x):
        raise ValueError(f"numerators ({len(x)}) and denominators ({len(d)}) differ in length")
    if groups is None:
        return x, d
    if len(groups) != len(x):
        raise ValueError(f"groups ({len(groups)}) and values ({len(x)}) differ in length")
    keys = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    idx = np.fromiter((keys[g] for g in groups), dtype=int, count=len(groups))
    return (np.bincount(idx, weights=x, minlength=len(keys)),
            np.bincount(idx, weights=d, minlength=len(keys)))


def _draws(n_groups: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_groups, size=(n_boot, n_groups))


def _ratio(x: np.ndarray, d: np.ndarray) -> float:
    total = float(d.sum())
    return float(x.sum()) / total if total > 0 else 0.0


def _interval(stats: np.ndarray, level: float) -> tuple[float, float]:
    values = [float(v) for v in stats if np.isfinite(v)]
    tail = 100.0 * (1.0 - level) / 2.0
    return percentile(values, tail), percentile(values, 100.0 - tail)


def bootstrap(num: Sequence[float], den: Sequence[float] | None = None,
              groups: Sequence[str] | None = None, *, n_boot: int = N_BOOT, seed: int = 0,
              level: float = LEVEL) -> Estimate:
    """Percentile-bootstrap interval of sum(num) / sum(den) (the mean when `den` is omitted).

    Args:
        num: One numerator per unit (hits of a sample, 1/0 success of a user).
        den: One denominator per unit (targets of a sample); 1 each when omitted.
        groups: A cluster label per unit; whole clusters are resampled (e.g. every sample of
            a dialogue together, since they share context).
        n_boot: Bootstrap replicates.
        seed: Fixes the resampling.
        level: Coverage of the interval.
    """
    x, d = _grouped(num, den, groups)
    if len(x) == 0:
        return Estimate(0.0, 0.0, 0.0, 0, 0)
    idx = _draws(len(x), n_boot, seed)
    xs, ds = x[idx].sum(axis=1), d[idx].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        stats = np.where(ds > 0, xs / np.where(ds > 0, ds, 1.0), np.nan)
    lo, hi = _interval(stats, level)
    return Estimate(_ratio(x, d), lo, hi, len(num), len(x))


@dataclass(frozen=True)
class Difference:
    """A paired difference a - b with its bootstrap interval.

    Attributes:
        estimate: The difference and its interval.
        p_le_zero: Share of bootstrap replicates with a difference <= 0 (small: a is better).
    """

    estimate: Estimate
    p_le_zero: float

    def as_dict(self) -> dict[str, float]:
        """JSON-ready."""
        return {**self.estimate.as_dict(), "p_le_zero": self.p_le_zero}


def paired_difference(num_a: Sequence[float], num_b: Sequence[float],
                      den: Sequence[float] | None = None, groups: Sequence[str] | None = None,
                      *, n_boot: int = N_BOOT, seed: int = 0,
                      level: float = LEVEL) -> Difference:
    """Paired bootstrap of ratio(a) - ratio(b) on the same units (same resampled clusters).

    Args:
        num_a: Method a's numerator per unit.
        num_b: Method b's numerator per unit, aligned with `num_a`.
        den: The shared denominator per unit (1 each when omitted).
        groups: Cluster labels, as in `bootstrap`.
        n_boot: Bootstrap replicates.
        seed: Fixes the resampling.
        level: Coverage of the interval.
    """
    if len(num_a) != len(num_b):
        raise ValueError(f"paired methods cover different units ({len(num_a)} vs {len(num_b)})")
    xa, d = _grouped(num_a, den, groups)
    xb, _ = _grouped(num_b, den, groups)
    if len(xa) == 0:
        return Difference(Estimate(0.0, 0.0, 0.0, 0, 0), 1.0)
    idx = _draws(len(xa), n_boot, seed)
    ds = d[idx].sum(axis=1)
    safe = np.where(ds > 0, ds, 1.0)
    diffs = np.where(ds > 0, (xa[idx].sum(axis=1) - xb[idx].sum(axis=1)) / safe, np.nan)
    lo, hi = _interval(diffs, level)
    finite = diffs[np.isfinite(diffs)]
    p = float(np.mean(finite <= 0)) if len(finite) else 1.0
    return Difference(Estimate(_ratio(xa, d) - _ratio(xb, d), lo, hi, len(num_a), len(xa)), p)
