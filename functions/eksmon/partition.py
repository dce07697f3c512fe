"""Splitting a fleet (accounts x regions) into partitions one Lambda invocation scans in its memory and time.

Pure: no AWS, no clock. A partition is a rectangle, some accounts x some regions, because a monitor
invocation narrows ``accounts.ids`` and ``regions`` to it (``runner.ScheduledEvent.partition``).
The result is the same for the same fleet (and the same cluster counts) whatever the input order
(accounts and regions are sorted and de-duplicated), every account+region pair is in exactly one
partition, and no partition holds more than ``max_targets`` pairs.

Two limits bound a partition: its account+region pairs (``fanout.max_targets_per_invocation``) and,
when the plan counted them, its clusters (``fanout.max_clusters_per_invocation``, by default
:func:`clusters_per_invocation` of the function's memory and timeout): a scan's memory and CPU grow
with the clusters it reads, not with the pairs. Shape: while all regions fit in one partition, each
partition takes every region and a run of consecutive accounts; an account too busy for that (more
clusters than the limit) and, when the regions do not fit in one partition, every account, is split
into runs of its regions instead. Runs are as few as the limits allow and, when even cuts fit the
limits, differ in length by at most one. One account+region pair with more clusters than the limit
is a partition of its own, still larger than the limit (:func:`oversized`): a pair is never split,
because a run resolves findings per account+region it scanned (eksmon.state), so two runs sharing a
pair would resolve each other's findings. An empty account list stands for "the monitor's own
account" and gives partitions with no accounts, which a run reads as that account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from eksmon.settings import AccountId

Region = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")]
# (account id, region) of one target; the account is "" for the monitor's own account
Target = tuple[str, str]

# -- sizing: what one cluster costs a scan -----------------------------------------------------------
# Measured by bench/bench_fleet_scale.py (a `scan --no-kubernetes` of the lifecycle, quota and metrics
# collectors, each scan in a fresh process; bench/README.md "Partition sizing"): peak RSS 109 MiB at
# 100 clusters and 360 MiB at 2,000, so about 100 MiB before the first cluster (the interpreter, boto3's
# models, pydantic; bench_handlers.py measures 93-106 MiB per handler) plus 0.13 MiB per cluster; and
# 14.6 AWS calls per cluster (the three monitors together) at 1.0-1.6 ms of CPU each on one full core
# (botocore's work, most of it).
BASE_MIB: Final = 100.0
MIB_PER_CLUSTER: Final = 0.13
CALLS_PER_CLUSTER: Final = 15
CPU_SECONDS_PER_CALL: Final = 0.0016  # the slow end of the measured range: a Lambda core is no faster
# A partition may use this share of the function's memory: the rest is the margin for clusters that
# cost more than the fleet bench's (more node groups, add-ons and access entries; the Kubernetes and
# metrics monitors' clients) and for the allocator's fragmentation. Lambda ends an invocation that
# passes its memory, and a killed partition reports nothing, where a late one still reports what it read.
MEMORY_SHARE: Final = 0.6
# ... and this share of its timeout, in CPU seconds: the rest is cold start, publishing
# (aws.publish_margin_seconds) and throttling waits (a throttled call waits without CPU).
TIME_SHARE: Final = 0.5
# Lambda allots one full vCPU at 1,769 MB and CPU in proportion below it; a scan's threads use one CPU
# (aws.single_cpu), so more memory than this buys no more speed for it.
FULL_VCPU_MB: Final = 1769
# Clusters assumed in an account+region whose clusters could not be counted (denied, throttled past its
# budget, unreachable): EKS's default quota of clusters per account and region. Counted as this many,
# such a pair cannot overfill a partition unless its account raised the quota.
ASSUMED_CLUSTERS: Final = 100
# The function sizes the plan assumes when it runs outside Lambda, where nothing tells them: the smallest
# monitor function's (infra/constants.py LAMBDA_SIZES; tests/infra/test_partition_sizing.py checks).
DEFAULT_MEMORY_MB: Final = 512
DEFAULT_TIMEOUT_SECONDS: Final = 300.0


def peak_mib(clusters: int) -> float:
    """The estimated peak memory of one invocation that scans ``clusters`` clusters."""
    return BASE_MIB + MIB_PER_CLUSTER * clusters


def clusters_per_invocation(memory_mb: int, timeout_seconds: float) -> int:
    """The most clusters one invocation of a function of this size scans within its margins.

    ``(memory x MEMORY_SHARE - BASE_MIB) / MIB_PER_CLUSTER`` by memory, and by time the clusters whose
    AWS calls take ``timeout x TIME_SHARE`` of the CPU Lambda allots to this memory; the lower of the two.
    512 MB and 5 minutes: 1,593 by memory, 1,808 by time; 1,024 MB and 5 minutes: 3,956 and 3,617.
    """
    by_memory = (memory_mb * MEMORY_SHARE - BASE_MIB) / MIB_PER_CLUSTER
    vcpu = min(1.0, memory_mb / FULL_VCPU_MB)
    by_time = timeout_seconds * TIME_SHARE * vcpu / (CALLS_PER_CLUSTER * CPU_SECONDS_PER_CALL)
    return max(1, int(min(by_memory, by_time)))


class Partition(BaseModel):
    """Some accounts x some regions; no accounts: the monitor's own account. ``clusters``: how many the
    plan counted in it (unreadable pairs at ``ASSUMED_CLUSTERS``), none when it did not count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accounts: tuple[AccountId, ...] = ()
    regions: tuple[Region, ...] = Field(min_length=1)
    clusters: int | None = Field(None, ge=0)

    @property
    def targets(self) -> int:
        return max(1, len(self.accounts)) * len(self.regions)


def _slices(items: Sequence[str], parts: int) -> list[tuple[str, ...]]:
    """``items`` cut into ``parts`` contiguous slices whose lengths differ by at most one."""
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(tuple(items[start:end]))
        start = end
    return out


def _runs(
    items: Sequence[str], weight: Mapping[str, int], per_run: int, max_weight: int | None
) -> list[tuple[str, ...]]:
    """``items`` (in order) cut into as few runs as allow at most ``per_run`` items and ``max_weight``
    in each (an item heavier than that alone is a run of its own); even cuts when they fit."""
    greedy: list[tuple[str, ...]] = []
    run: list[str] = []
    total = 0
    for item in items:
        w = weight.get(item, 0)
        if run and (len(run) >= per_run or (max_weight is not None and total + w > max_weight)):
            greedy.append(tuple(run))
            run, total = [], 0
        run.append(item)
        total += w
    if run:
        greedy.append(tuple(run))
    even = _slices(items, len(greedy)) if greedy else []

    def fits(r: tuple[str, ...]) -> bool:
        return len(r) <= per_run and (
            max_weight is None or len(r) == 1 or sum(weight.get(i, 0) for i in r) <= max_weight
        )

    return even if all(fits(r) for r in even) else greedy


def partition(
    accounts: Sequence[str],
    regions: Sequence[str],
    max_targets: int,
    *,
    clusters: Mapping[Target, int] | None = None,
    max_clusters: int | None = None,
) -> list[Partition]:
    """The fleet ``accounts`` x ``regions`` in partitions of at most ``max_targets`` account+region pairs
    and, given the ``clusters`` of each pair (account "" for the monitor's own; a pair not given counts
    0), at most ``max_clusters`` clusters, except a single pair that holds more (:func:`oversized`)."""
    if max_targets < 1:
        raise ValueError(f"max_targets must be at least 1, not {max_targets}")
    if max_clusters is not None and max_clusters < 1:
        raise ValueError(f"max_clusters must be at least 1, not {max_clusters}")
    region_list = sorted(set(regions))
    if not region_list:
        raise ValueError("a fleet needs at least one region")
    account_list = sorted(set(accounts)) or [""]
    counts = clusters or {}
    limit = max_clusters if clusters is not None else None

    def pair_weights(account: str) -> dict[str, int]:
        return {r: counts.get((account, r), 0) for r in region_list}

    def made(accounts_run: Sequence[str], regions_run: Sequence[str]) -> Partition:
        total = sum(counts.get((a, r), 0) for a in accounts_run for r in regions_run)
        return Partition(
            accounts=tuple(a for a in accounts_run if a),
            regions=tuple(regions_run),
            clusters=total if clusters is not None else None,
        )

    def by_region(account: str) -> list[Partition]:
        return [made([account], r) for r in _runs(region_list, pair_weights(account), max_targets, limit)]

    if len(region_list) > max_targets:
        return [p for a in account_list for p in by_region(a)]
    account_weight = {a: sum(pair_weights(a).values()) for a in account_list}
    busy = {a for a in account_list if limit is not None and account_weight[a] > limit}
    whole = [a for a in account_list if a not in busy]
    runs = _runs(whole, account_weight, max_targets // len(region_list), limit)
    # in account order, each busy account's region runs where the account stands
    keyed = [(run[0], [made(run, region_list)]) for run in runs] + [(a, by_region(a)) for a in busy]
    return [p for _key, parts in sorted(keyed, key=lambda kv: kv[0]) for p in parts]


def oversized(parts: Sequence[Partition], max_clusters: int) -> list[Partition]:
    """The partitions holding more than ``max_clusters`` clusters (each a single busy account+region)."""
    return [p for p in parts if p.clusters is not None and p.clusters > max_clusters]


def fleet_size(accounts: Sequence[str], regions: Sequence[str]) -> int:
    """Account+region pairs of a fleet; no accounts or no regions count as one (this account, this region)."""
    return max(1, len(set(accounts))) * max(1, len(set(regions)))
