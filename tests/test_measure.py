"""Shared measuring helpers (catalog.measure) and the one `without_users`."""

from __future__ import annotations

import math

import numpy as np

from catalog.measure import cpu_cores, markdown_table, percentile
from catalog.models import Catalog, Interactions, without_users


def test_percentile_matches_numpy_linear() -> None:
    values = [3.0, 1.0, 10.0, 7.5, 2.0]
    for q in (0, 5, 50, 95, 100):
        assert math.isclose(percentile(values, q), float(np.percentile(values, q)))
    assert math.isnan(percentile([], 50))


def test_markdown_table_and_cores() -> None:
    assert markdown_table(["a", "b"], [[1, "x"]]) == ["| a | b |", "| --- | --- |", "| 1 | x |"]
    assert cpu_cores() >= 1


def test_without_users_drops_only_their_ratings() -> None:
    inter = Interactions(np.array(["1", "2", "3"]), np.array(["i1", "i1", "i2"]),
                         np.array([5.0, 4.0, 3.0]))
    catalog = Catalog(name="t", items={}, interactions=inter, source="/data/t")
    kept = without_users(catalog, {"2"})
    assert kept.interactions.user_ids.tolist() == ["1", "3"]
    assert kept.source == "/data/t" and kept.items is catalog.items
    assert kept.content_hash() != catalog.content_hash()
    assert len(without_users(catalog, set()).interactions.user_ids) == 3
