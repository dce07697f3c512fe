"""The fan-out's cluster limit and the deployed functions' sizes (infra/constants.py LAMBDA_SIZES).

Given each monitor function's memory and timeout, when the plan derives how many clusters one
invocation scans, then one account+region at EKS's default quota fits in every function, and the size
the plan assumes outside Lambda is the smallest function's.
"""

from __future__ import annotations

from eksmon.partition import (
    ASSUMED_CLUSTERS,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_SECONDS,
    clusters_per_invocation,
    peak_mib,
)
from infra.constants import LAMBDA_SIZES


def test_every_monitor_function_scans_a_full_default_quota_region_within_its_memory_margin() -> None:
    for monitor, size in LAMBDA_SIZES.items():
        limit = clusters_per_invocation(size.memory_mb, size.timeout.to_seconds())
        assert limit >= ASSUMED_CLUSTERS, monitor
        assert peak_mib(limit) <= size.memory_mb * 0.6, monitor


def test_outside_lambda_the_plan_assumes_the_smallest_function() -> None:
    smallest = min(LAMBDA_SIZES.values(), key=lambda s: (s.memory_mb, s.timeout.to_seconds()))
    assert (smallest.memory_mb, smallest.timeout.to_seconds()) == (DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS)
