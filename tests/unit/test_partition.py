"""eksmon.partition: a fleet (accounts x regions) cut into partitions one invocation can scan.

Given accounts, regions and a largest partition size, when the fleet is partitioned, then every
account+region pair is in exactly one partition, none is larger than allowed, the sizes are balanced,
and the answer does not depend on the input order.
"""

from __future__ import annotations

import itertools
import random

import pytest

from eksmon.partition import Partition, fleet_size, partition

REGIONS = [
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "us-west-2",
    "eu-central-1",
    "sa-east-1",
    "ca-central-1",
]


def accounts(n: int) -> list[str]:
    return [f"{100000000000 + i:012d}" for i in range(n)]


def pairs(parts: list[Partition]) -> list[tuple[str, str]]:
    return [(a, r) for p in parts for a in (p.accounts or ("self",)) for r in p.regions]


def test_three_accounts_four_regions_five_per_invocation_gives_one_account_per_partition() -> None:
    parts = partition(accounts(3), REGIONS[:4], 5)
    assert [p.accounts for p in parts] == [(a,) for a in accounts(3)]
    assert all(p.regions == tuple(sorted(REGIONS[:4])) for p in parts)


def test_a_fleet_that_fits_is_one_partition() -> None:
    assert partition(accounts(3), REGIONS[:4], 12) == [
        Partition(accounts=tuple(accounts(3)), regions=tuple(sorted(REGIONS[:4])))
    ]


def test_more_regions_than_fit_split_each_account_by_region() -> None:
    parts = partition(accounts(2), REGIONS[:4], 3)
    assert [(p.accounts, len(p.regions)) for p in parts] == [
        ((accounts(2)[0],), 2),
        ((accounts(2)[0],), 2),
        ((accounts(2)[1],), 2),
        ((accounts(2)[1],), 2),
    ]


def test_no_accounts_means_the_monitor_account() -> None:
    assert partition([], ["eu-west-1", "us-east-1"], 5) == [Partition(regions=("eu-west-1", "us-east-1"))]
    parts = partition([], REGIONS, 3)
    assert [len(p.regions) for p in parts] == [3, 2, 2]
    assert all(p.accounts == () for p in parts)


@pytest.mark.parametrize(
    ("n_accounts", "n_regions", "max_targets"),
    list(itertools.product([0, 1, 2, 3, 7, 50, 101], [1, 2, 4, 7], [1, 2, 3, 5, 8, 50])),
)
def test_every_pair_once_within_the_limit_and_balanced(
    n_accounts: int, n_regions: int, max_targets: int
) -> None:
    fleet_accounts, regions = accounts(n_accounts), REGIONS[:n_regions]
    parts = partition(fleet_accounts, regions, max_targets)
    expected = [(a, r) for a in (fleet_accounts or ["self"]) for r in regions]
    assert sorted(pairs(parts)) == sorted(expected)
    assert len(set(pairs(parts))) == len(expected)
    assert all(1 <= p.targets <= max_targets for p in parts)
    assert sum(p.targets for p in parts) == fleet_size(fleet_accounts, regions)
    # balanced: account slices (all regions each) or region slices (one account each) differ by at most one
    if n_regions <= max_targets:
        sizes = [len(p.accounts) for p in parts]
        assert all(len(p.regions) == n_regions for p in parts)
        # as few partitions as whole-region rectangles allow
        assert len(parts) == -(-max(1, n_accounts) // (max_targets // n_regions))
    else:
        sizes = [len(p.regions) for p in parts]
        assert all(len(p.accounts) <= 1 for p in parts)
    assert max(sizes) - min(sizes) <= 1


def test_stable_whatever_the_order_or_duplicates() -> None:
    fleet_accounts = accounts(13)
    first = partition(fleet_accounts, REGIONS[:3], 7)
    shuffled = fleet_accounts + fleet_accounts[:4]
    random.Random(7).shuffle(shuffled)
    assert partition(shuffled, list(reversed(REGIONS[:3])), 7) == first


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        partition(accounts(1), REGIONS[:1], 0)
    with pytest.raises(ValueError, match="at least one region"):
        partition(accounts(1), [], 5)


def test_a_partition_round_trips_as_the_state_machine_passes_it() -> None:
    part = partition(accounts(2), REGIONS[:2], 2)[0]
    assert Partition.model_validate(part.model_dump(mode="json")) == part
    with pytest.raises(ValueError):
        Partition.model_validate({"accounts": ["12345"], "regions": ["eu-west-1"]})
    with pytest.raises(ValueError):
        Partition.model_validate({"accounts": [], "regions": []})
