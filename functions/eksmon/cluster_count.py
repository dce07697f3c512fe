"""How many clusters each account+region of a fleet holds: the weights of the fan-out plan.

One ListClusters per account+region (paged, at most ``aws.max_pages`` pages), through the scan's I/O
layer (eksmon.aws: throttling budgets, the deadline, per-region limits) and the same member-account
roles a scan assumes (eksmon.accounts). Only the clusters the monitor will scan count
(``clusters.include``/``exclude``). A pair whose clusters cannot be counted -- its account's role not
assumed, ListClusters denied or throttled past its budget, the deadline passed -- is not guessed
silently: it counts as ``eksmon.partition.ASSUMED_CLUSTERS`` and is named in :attr:`Census.unread`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import boto3
import botocore.exceptions

from eksmon.accounts import resolve_accounts
from eksmon.aws import ApiCallCounter, Deadline, client_config, error_code, pages
from eksmon.aws_io import AwsAccount, ScanIO
from eksmon.clusterfilter import included
from eksmon.errors import ScanAborted
from eksmon.partition import ASSUMED_CLUSTERS, Target
from eksmon.settings import Settings

LIST_PAGE_SIZE = 100  # ListClusters' largest page (maxResults 1-100)
ACCOUNTS_PER_GROUP = 25  # accounts whose roles one thread assumes, one after another


@dataclass(frozen=True)
class Unread:
    """An account+region whose clusters could not be counted, and why (an error code, no credentials)."""

    account: str  # "" for the monitor's own account
    region: str
    reason: str

    def text(self) -> str:
        return f"{self.account or 'this account'} {self.region}: {self.reason}"


@dataclass
class Census:
    """Clusters per account+region (unread pairs at ASSUMED_CLUSTERS), and the pairs that were unread."""

    counts: dict[Target, int] = field(default_factory=dict)
    unread: list[Unread] = field(default_factory=list)
    api_calls: int = 0


def count_clusters(
    settings: Settings,
    base: boto3.Session,
    accounts: Sequence[str],
    regions: Sequence[str],
    deadline: Deadline,
    session_factory: Callable[..., boto3.Session] = boto3.Session,
) -> Census:
    """The clusters of every pair of ``accounts`` (none: the monitor's own, keyed "") x ``regions``."""
    census = Census()
    io = ScanIO(settings.aws, deadline)
    counter = ApiCallCounter()
    config = client_config(settings.aws)
    # An Organization may have thousands of accounts, and eksmon.accounts assumes their roles one after
    # another: groups of accounts are reached side by side, each through a session of its own (a boto3
    # session is not thread-safe), within the home region's in-flight limit as every STS call is.
    groups = [list(accounts[i : i + ACCOUNTS_PER_GROUP]) for i in range(0, len(accounts), ACCOUNTS_PER_GROUP)]

    def reach(group: list[str]) -> tuple[list[AwsAccount], list[Unread]]:
        wanted = settings.accounts.model_copy(update={"ids": group, "organization": False})
        try:
            reached, failures = resolve_accounts(
                base if len(groups) <= 1 else session_factory(),
                settings.model_copy(update={"accounts": wanted}),
                config,
                counter,
                regions[0],
                session_factory,
                io,
            )
        except ScanAborted as exc:  # no identity at all: the partitions' runs will each say so too
            return [], [Unread(a, r, str(exc)) for a in group or [""] for r in regions]
        return reached, [
            Unread(account, r, f"{source}: {error_code(error)}")
            for account, source, error in failures
            for r in regions
        ]

    reached: list[AwsAccount] = []
    with ThreadPoolExecutor(max(1, min(len(groups), settings.aws.max_in_flight_per_region))) as pool:
        for accounts_reached, accounts_unread in pool.map(reach, groups or [[]]):
            reached += accounts_reached
            census.unread += accounts_unread
    jobs = [(("" if not accounts else a.account_id), a, r) for a in reached for r in regions]

    def count(job: tuple[str, AwsAccount, str]) -> tuple[Target, int | Unread]:
        key, account, region = job
        try:
            names = pages(
                account.client("eks", region),
                "list_clusters",
                "clusters",
                PaginationConfig={"PageSize": LIST_PAGE_SIZE},
            )
            filters = settings.clusters
            return (key, region), sum(
                1
                for name in names
                if included(filters.include, filters.exclude, name, account.account_id, region)
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            return (key, region), Unread(key, region, f"eks:ListClusters: {error_code(exc)}")

    if jobs:
        with ThreadPoolExecutor(min(settings.aws.max_threads, len(jobs))) as pool:
            for target, found in pool.map(count, jobs):
                if isinstance(found, Unread):
                    census.unread.append(found)
                else:
                    census.counts[target] = found
    for pair in census.unread:
        census.counts[(pair.account, pair.region)] = ASSUMED_CLUSTERS
    census.unread.sort(key=lambda u: (u.account, u.region))
    census.api_calls = counter.total
    return census
