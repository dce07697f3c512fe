"""eksmon.partition: a fleet (accounts x regions) cut into partitions one invocation can scan.

Given accounts, regions and a largest partition size, when the fleet is partitioned, then every
account+region pair is in exactly one partition, none is larger than allowed, the sizes are balanced,
and the answer does not depend on the input order.
"""

from __future__ import annotations

import itertools
import random

import pytest

from eksmon.partition import (
    ASSUMED_CLUSTERS,
    Partition,
    clusters_per_invocation,
    fleet_size,
    oversized,
    partition,
    peak_mib,
)

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


# -- partitions sized by their clusters --------------------------------------------------------------
def weights(fleet_accounts: list[str], regions: list[str], clusters: int) -> dict[tuple[str, str], int]:
    return {(a, r): clusters for a in (fleet_accounts or [""]) for r in regions}


def clusters_of(parts: list[Partition], counts: dict[tuple[str, str], int]) -> list[int]:
    return [sum(counts[(a, r)] for a in (p.accounts or ("",)) for r in p.regions) for p in parts]


def test_busy_regions_are_cut_by_their_clusters_not_only_their_pairs() -> None:
    """Given 4 accounts x 3 regions of 400 clusters each, 50 pairs and 1,000 clusters per invocation,
    when partitioned, then no partition holds more than 1,000 clusters (pairs alone would make one
    partition of 4,800), and each says how many it holds."""
    fleet_accounts, regions = accounts(4), REGIONS[:3]
    counts = weights(fleet_accounts, regions, 400)
    assert len(partition(fleet_accounts, regions, 50)) == 1  # by pairs alone: everything in one
    parts = partition(fleet_accounts, regions, 50, clusters=counts, max_clusters=1_000)
    assert [p.clusters for p in parts] == clusters_of(parts, counts)
    assert all(c <= 1_000 for c in clusters_of(parts, counts))
    assert sorted(pairs(parts)) == sorted((a, r) for a in fleet_accounts for r in regions)
    # an account (1,200) is more than a partition holds: each is cut by region, two runs of 2 and 1
    assert [(p.accounts, len(p.regions), p.clusters) for p in parts[:2]] == [
        ((fleet_accounts[0],), 2, 800),
        ((fleet_accounts[0],), 1, 400),
    ]
    assert oversized(parts, 1_000) == []


def test_one_huge_region_is_a_partition_of_its_own_and_said_to_be_oversized() -> None:
    """Given one account whose us-east-1 holds 5,000 clusters and whose other regions hold 10 each,
    when partitioned at 1,000 clusters, then us-east-1 is alone (a pair is never split: findings are
    resolved per account+region) and reported oversized, and the other regions share partitions."""
    (account,) = accounts(1)
    counts = weights([account], REGIONS, 10) | {(account, "us-east-1"): 5_000}
    parts = partition([account], REGIONS, 50, clusters=counts, max_clusters=1_000)
    huge = [p for p in parts if "us-east-1" in p.regions]
    assert huge == [Partition(accounts=(account,), regions=("us-east-1",), clusters=5_000)]
    assert oversized(parts, 1_000) == huge
    assert sum(len(p.regions) for p in parts if p not in huge) == len(REGIONS) - 1
    assert all(p.clusters is not None and p.clusters <= 1_000 for p in parts if p not in huge)
    # the healthy near-miss: exactly the limit is not oversized
    at_limit = partition(
        [account], ["us-east-1"], 50, clusters={(account, "us-east-1"): 1_000}, max_clusters=1_000
    )
    assert oversized(at_limit, 1_000) == []


def test_the_monitor_account_alone_is_cut_by_region_clusters() -> None:
    counts = {("", "us-east-1"): 900, ("", "eu-west-1"): 300, ("", "ap-southeast-2"): 300}
    parts = partition([], list({r for _a, r in counts}), 50, clusters=counts, max_clusters=1_000)
    assert [(p.accounts, p.regions, p.clusters) for p in parts] == [
        ((), ("ap-southeast-2", "eu-west-1"), 600),
        ((), ("us-east-1",), 900),
    ]


def test_many_tiny_accounts_fill_partitions_up_to_the_tighter_limit() -> None:
    """Given 200 accounts x 2 regions of 1 cluster, when 50 pairs (25 accounts) but 30 clusters (15
    accounts) fit, then the cluster limit decides: 14 partitions of 14-15 accounts, every region each."""
    fleet_accounts, regions = accounts(200), REGIONS[:2]
    counts = weights(fleet_accounts, regions, 1)
    parts = partition(fleet_accounts, regions, 50, clusters=counts, max_clusters=30)
    assert len(parts) == 14
    assert {len(p.accounts) for p in parts} == {14, 15}  # even cuts, since they fit
    assert all(p.regions == tuple(sorted(regions)) for p in parts)
    # and when the pairs are the tighter limit, nothing changes from partitioning by pairs alone
    loose = partition(fleet_accounts, regions, 50, clusters=counts, max_clusters=10_000)
    assert [(p.accounts, p.regions) for p in loose] == [
        (p.accounts, p.regions) for p in partition(fleet_accounts, regions, 50)
    ]


def test_uneven_accounts_that_even_cuts_would_overfill_are_packed_in_order() -> None:
    """Two partitions are needed; cut evenly (2 + 2 accounts) the first would hold 1,100 clusters, so
    the accounts are packed in order instead: 900, then 200 + 50 + 50."""
    fleet_accounts = accounts(4)
    counts = {(a, "eu-west-1"): n for a, n in zip(fleet_accounts, [900, 200, 50, 50], strict=True)}
    parts = partition(fleet_accounts, ["eu-west-1"], 50, clusters=counts, max_clusters=1_000)
    assert [(p.accounts, p.clusters) for p in parts] == [
        ((fleet_accounts[0],), 900),
        (tuple(fleet_accounts[1:]), 300),
    ]


@pytest.mark.parametrize("seed", range(12))
def test_random_fleets_keep_every_pair_once_within_both_limits(seed: int) -> None:
    rng = random.Random(seed)
    fleet_accounts = accounts(rng.choice([0, 1, 3, 20, 60]))
    regions = REGIONS[: rng.randint(1, len(REGIONS))]
    counts = {
        (a, r): rng.choice([0, 1, 5, 40, 100, 400, 3_000]) for a in (fleet_accounts or [""]) for r in regions
    }
    max_targets, max_clusters = rng.choice([1, 3, 7, 50]), rng.choice([50, 500, 1_600])
    parts = partition(fleet_accounts, regions, max_targets, clusters=counts, max_clusters=max_clusters)
    expected = [(a, r) for a in (fleet_accounts or ["self"]) for r in regions]
    assert sorted(pairs(parts)) == sorted(expected)
    assert len(pairs(parts)) == len(expected)
    assert all(1 <= p.targets <= max_targets for p in parts)
    assert [p.clusters for p in parts] == clusters_of(parts, counts)
    assert sum(p.clusters or 0 for p in parts) == sum(counts.values())
    for p in parts:  # only a single pair may hold more than the limit
        assert (p.clusters or 0) <= max_clusters or p.targets == 1
    assert oversized(parts, max_clusters) == [p for p in parts if (p.clusters or 0) > max_clusters]


def test_same_fleet_and_counts_give_the_same_partitions_whatever_the_order() -> None:
    fleet_accounts = accounts(30)
    rng = random.Random(3)
    counts = {(a, r): rng.randint(0, 300) for a in fleet_accounts for r in REGIONS}
    first = partition(fleet_accounts, REGIONS, 20, clusters=counts, max_clusters=700)
    shuffled = fleet_accounts + fleet_accounts[:5]
    rng.shuffle(shuffled)
    reordered = dict(sorted(counts.items(), key=lambda kv: rng.random()))
    again = partition(shuffled, list(reversed(REGIONS)), 20, clusters=reordered, max_clusters=700)
    assert again == first


def test_a_cluster_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_clusters must be at least 1"):
        partition(accounts(1), REGIONS[:1], 5, clusters={}, max_clusters=0)


def test_a_partition_with_its_clusters_round_trips_and_refuses_a_negative_count() -> None:
    part = Partition(accounts=tuple(accounts(1)), regions=("eu-west-1",), clusters=12)
    assert Partition.model_validate(part.model_dump(mode="json")) == part
    with pytest.raises(ValueError):
        Partition.model_validate({"regions": ["eu-west-1"], "clusters": -1})


# -- the size a partition may have -------------------------------------------------------------------
def test_the_cluster_limit_follows_the_function_memory_with_a_margin() -> None:
    """512 MB: (512 x 0.6 - 100) / 0.13 = 1,593 clusters, whose estimated peak (307 MiB) leaves 40 % of
    the memory free; 1,024 MB: 3,956 by memory, but time binds first at 5 minutes (3,617, below); at 10
    minutes memory binds again."""
    assert clusters_per_invocation(512, 300) == 1_593
    assert clusters_per_invocation(1_024, 600) == 3_956
    assert peak_mib(clusters_per_invocation(512, 300)) <= 512 * 0.6
    assert peak_mib(clusters_per_invocation(512, 300) + 1) > 512 * 0.6


def test_a_short_timeout_bounds_the_clusters_by_cpu_time() -> None:
    """60 s at 512 MB: half of it, 30 s, at 0.29 vCPU is 8.7 CPU seconds: 361 clusters of 15 calls
    x 1.6 ms each; 1,024 MB and 5 minutes: 150 s at 0.58 vCPU, 3,617 clusters."""
    assert clusters_per_invocation(512, 60) == 361
    assert clusters_per_invocation(1_024, 300) == 3_617
    assert clusters_per_invocation(512, 60) < clusters_per_invocation(512, 300)
    assert clusters_per_invocation(128, 1) == 1  # never less than one


def test_an_uncounted_pair_weighs_as_a_full_default_quota_region_not_as_empty() -> None:
    """The plan counts a pair it could not read as ASSUMED_CLUSTERS (100): packed with that weight, it
    does not share a partition that would then pass the limit, where counted as 0 it would."""
    (account,) = accounts(1)
    counted = {(account, "eu-west-1"): 60, (account, "us-east-1"): 0}
    assumed = counted | {(account, "us-east-1"): ASSUMED_CLUSTERS}
    assert len(partition([account], ["eu-west-1", "us-east-1"], 50, clusters=counted, max_clusters=150)) == 1
    parts = partition([account], ["eu-west-1", "us-east-1"], 50, clusters=assumed, max_clusters=150)
    assert [(p.regions, p.clusters) for p in parts] == [(("eu-west-1",), 60), (("us-east-1",), 100)]
