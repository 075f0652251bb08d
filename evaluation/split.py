"""Seeded train/test user split and per-test-user targets for simulated cold-start interviews."""

from __future__ import annotations

import csv
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from catalog.models import Catalog, Item
from catalog.models import without_users as without_users  # re-exported: it used to live here
from evaluation.leak_guard import LeakGuard

log = logging.getLogger(__name__)

LIKED_RATING = 4.0
"""A rating at or above this makes an item 'liked' (targets and nameable titles)."""
DEV_FRACTION = 0.25
"""Share of held-out users kept for development (tuning); the rest are test users."""


@dataclass(frozen=True)
class TestCase:
    """One simulated cold-start user: the hidden target and the other titles they may name.

    Attributes:
        user_id: The MovieLens user the case is drawn from (a test user).
        target_id: The item the user is looking for; never named by the simulator.
        liked_ids: 0-3 other items the user rated highly and may name.
        seen_ids: Every other item the user rated (a shown card among them is "seen it").
    """

    __test__ = False  # not a pytest test class, despite its name

    user_id: str
    target_id: str
    liked_ids: tuple[str, ...] = ()
    seen_ids: frozenset[str] = frozenset()


@dataclass
class Split:
    """A user split: which users are hidden from CF, and the catalog CF may be built from.

    Attributes:
        test_users: Users whose interactions CF must not see.
        train_catalog: The catalog with the test users' interactions removed.
        cases: One TestCase per test user that has a usable target.
        skipped_users: Test users with no usable target (counted, not silently lost).
    """

    test_users: list[str]
    train_catalog: Catalog
    cases: list[TestCase] = field(default_factory=list)
    skipped_users: list[str] = field(default_factory=list)


def attribute_count(item: Item) -> int:
    """How many simulator-usable attributes an item has (genres, year, people, tags, plot)."""
    people = sum(len(v) for v in item.people.values())
    return (len(item.genres) + (1 if item.year else 0) + people + len(item.tags)
            + (1 if item.text.strip() else 0))


def has_enough_attributes(item: Item, min_attributes: int = 3) -> bool:
    """True when the simulator can describe the item: a genre, a year and enough in total."""
    return bool(item.genres) and item.year is not None and attribute_count(item) >= min_attributes


def load_self_tags(data_dir: Path | str | None) -> set[tuple[str, str]]:
    """(user id, item id) pairs where the user tagged the item (MovieLens tags.csv), if present.

    Item tags are aggregated over all users, so a target the test user tagged would carry
    that user's own words; such targets are not drawn.
    """
    if data_dir is None:
        return set()
    path = Path(data_dir) / "ml-latest-small" / "tags.csv"
    if not path.is_file():
        return set()
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["userId"], r["movieId"]) for r in csv.DictReader(f)}


def split_users(catalog: Catalog, seed: int = 0, test_fraction: float = 0.2,
                min_attributes: int = 3, max_liked: int = 3,
                self_tagged: set[tuple[str, str]] | None = None) -> Split:
    """Split users, hide the test users from CF, and draw one target per test user.

    Args:
        catalog: The full catalog.
        seed: Fixes the user split, the targets and the nameable titles.
        test_fraction: Share of users held out as simulated cold-start users.
        min_attributes: Targets need at least this many attributes (see `attribute_count`).
        max_liked: Up to this many other liked titles the user may name (drawn 1..max_liked).
        self_tagged: (user, item) pairs the user tagged; never drawn as that user's target.

    Returns:
        The split; cases are in a seeded random order.
    """
    rng = random.Random(seed)
    users = sorted(set(catalog.interactions.user_ids.astype(str).tolist()), key=_user_key)
    n_test = max(1, round(len(users) * test_fraction)) if users else 0
    test_users = sorted(rng.sample(users, n_test), key=_user_key)
    liked: dict[str, list[str]] = defaultdict(list)
    rated: dict[str, set[str]] = defaultdict(set)
    test_set = set(test_users)
    for u, i, r in zip(catalog.interactions.user_ids, catalog.interactions.item_ids,
                       catalog.interactions.ratings, strict=True):
        if str(u) in test_set and str(i) in catalog.items:
            rated[str(u)].add(str(i))
            if float(r) >= LIKED_RATING:
                liked[str(u)].append(str(i))
    split = Split(test_users=test_users, train_catalog=without_users(catalog, test_set))
    for user in test_users:
        own = {i for u, i in (self_tagged or set()) if u == user}
        case = _draw_case(catalog, user, sorted(set(liked[user]), key=_user_key),
                          random.Random(f"{seed}:{user}"), min_attributes, max_liked, own)
        if case is not None:
            case = replace(case, seen_ids=frozenset(rated[user] - {case.target_id}))
        if case is None:
            split.skipped_users.append(user)
        else:
            split.cases.append(case)
    random.Random(seed + 1).shuffle(split.cases)
    log.info("split: %d test users, %d cases, %d without a usable target",
             len(test_users), len(split.cases), len(split.skipped_users))
    return split


def partition_cases(cases: list[TestCase], seed: int = 0,
                    dev_fraction: float = DEV_FRACTION) -> dict[str, list[TestCase]]:
    """Split held-out cases into development users (for tuning) and test users (for reports).

    Membership is a seeded function of the user id alone, so a user stays on its side however
    many cases are taken; the order of `cases` is kept on each side.
    """
    sides: dict[str, list[TestCase]] = {"dev": [], "test": []}
    for case in cases:
        side = "dev" if random.Random(f"dev-test:{seed}:{case.user_id}").random() < dev_fraction \
            else "test"
        sides[side].append(case)
    return sides


def _draw_case(catalog: Catalog, user: str, liked: list[str], rng: random.Random,
               min_attributes: int, max_liked: int, own_tags: set[str]) -> TestCase | None:
    usable = [i for i in liked if i not in own_tags
              and has_enough_attributes(catalog.items[i], min_attributes)]
    if not usable:
        return None
    target = rng.choice(usable)
    guard = LeakGuard(catalog.items[target])
    others = [i for i in liked if i != target
              and not guard.leaks(catalog.items[i].display_title)]
    n = rng.randint(1, max_liked) if others and max_liked > 0 else 0
    return TestCase(user_id=user, target_id=target,
                    liked_ids=tuple(rng.sample(others, min(n, len(others)))))


def _user_key(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (1 << 62, value)
