"""Splitting a fleet (accounts x regions) into partitions one Lambda invocation can scan in its timeout.

Pure: no AWS, no clock. A partition is a rectangle, some accounts x some regions, because a monitor
invocation narrows ``accounts.ids`` and ``regions`` to it (``runner.ScheduledEvent.partition``).
The result is the same for the same fleet whatever the input order (accounts and regions are sorted
and de-duplicated), every account+region pair is in exactly one partition, no partition holds more
than ``max_targets`` pairs, and the partitions are as few as the rectangle shape allows and differ in
size by at most one account (or one region).

Shape: while all regions fit in one partition, each partition takes every region and a slice of the
accounts; otherwise each account is split into slices of the regions. An empty account list stands for
"the monitor's own account" and gives partitions with no accounts, which a run reads as that account.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from eksmon.settings import AccountId

Region = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")]


class Partition(BaseModel):
    """Some accounts x some regions; no accounts: the monitor's own account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accounts: tuple[AccountId, ...] = ()
    regions: tuple[Region, ...] = Field(min_length=1)

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


def partition(accounts: Sequence[str], regions: Sequence[str], max_targets: int) -> list[Partition]:
    """The fleet ``accounts`` x ``regions`` in partitions of at most ``max_targets`` account+region pairs."""
    if max_targets < 1:
        raise ValueError(f"max_targets must be at least 1, not {max_targets}")
    region_list = sorted(set(regions))
    if not region_list:
        raise ValueError("a fleet needs at least one region")
    account_list = sorted(set(accounts))
    if len(region_list) <= max_targets:
        per_partition = max_targets // len(region_list)  # accounts that fit with every region
        count = -(-max(1, len(account_list)) // per_partition)
        if not account_list:
            return [Partition(regions=tuple(region_list))]
        return [Partition(accounts=a, regions=tuple(region_list)) for a in _slices(account_list, count)]
    region_slices = _slices(region_list, -(-len(region_list) // max_targets))
    if not account_list:
        return [Partition(regions=r) for r in region_slices]
    return [Partition(accounts=(a,), regions=r) for a in account_list for r in region_slices]


def fleet_size(accounts: Sequence[str], regions: Sequence[str]) -> int:
    """Account+region pairs of a fleet; no accounts or no regions count as one (this account, this region)."""
    return max(1, len(set(accounts))) * max(1, len(set(regions)))
