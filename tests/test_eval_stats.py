"""Known answers of the bootstrap intervals and paired differences."""

from __future__ import annotations

import math
import random

import pytest

from evaluation.stats import bootstrap, paired_difference


def test_constant_data_has_a_zero_width_interval() -> None:
    est = bootstrap([1.0] * 50)
    assert (est.value, est.lo, est.hi, est.n, est.groups) == (1.0, 1.0, 1.0, 50, 50)
    assert bootstrap([]).n == 0 and bootstrap([]).text() == "n/a"


def test_ratio_is_pooled_over_units_not_averaged_per_unit() -> None:
    # sample A: 1 of 1 target hit; sample B: 0 of 3 -> pooled 1/4, not (1 + 0) / 2
    assert bootstrap([1, 0], [1, 3]).value == pytest.approx(0.25)


def test_interval_of_a_proportion_has_the_textbook_width() -> None:
    rng = random.Random(1)
    xs = [float(rng.random() < 0.3) for _ in range(400)]
    est = bootstrap(xs, seed=3)
    p = sum(xs) / len(xs)
    half = 1.96 * math.sqrt(p * (1 - p) / len(xs))
    assert est.lo < p < est.hi
    assert (est.hi - est.lo) == pytest.approx(2 * half, rel=0.15)


def test_clusters_are_resampled_whole() -> None:
    # every value duplicated inside its cluster: same point estimate, same interval as
    # the undup data resampled by unit (identical draws, the seed fixes them)
    xs = [float(i % 3 == 0) for i in range(60)]
    dup = [x for x in xs for _ in range(2)]
    groups = [str(i) for i in range(60) for _ in range(2)]
    a, b = bootstrap(xs, seed=5), bootstrap(dup, groups=groups, seed=5)
    assert (a.value, a.lo, a.hi) == pytest.approx((b.value, b.lo, b.hi))
    assert b.groups == 60 and b.n == 120


def test_paired_difference_known_answers() -> None:
    same = paired_difference([1, 0, 1, 0], [1, 0, 1, 0])
    assert (same.estimate.value, same.estimate.lo, same.estimate.hi) == (0.0, 0.0, 0.0)
    assert same.p_le_zero == 1.0
    better = paired_difference([1.0] * 30, [0.0] * 30)
    assert (better.estimate.value, better.estimate.lo, better.estimate.hi) == (1.0, 1.0, 1.0)
    assert better.p_le_zero == 0.0
    # pairing removes the shared per-unit variation: a = b + one extra hit in 10 of 200 units
    rng = random.Random(2)
    b = [float(rng.random() < 0.5) for _ in range(200)]
    a = [1.0 if i < 10 else v for i, v in enumerate(b)]
    diff = paired_difference(a, b, seed=1).estimate
    assert diff.value == pytest.approx(sum(a) / 200 - sum(b) / 200)
    assert diff.lo >= 0.0 and diff.hi - diff.lo < 0.1


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="different units"):
        paired_difference([1, 0], [1])
    with pytest.raises(ValueError, match="differ in length"):
        bootstrap([1, 0], [1])
