"""Speed benchmarks: per-turn latency breakdown (`bench turn`) and tool latency (`bench tools`)."""

__all__ = ["percentile"]

from benchmarks.stats import percentile
