"""The cluster's tier and its capacities, as the checks read them from a snapshot (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from eksmon.collectors.eks import ClusterInfo, VersionCalendar
from eksmon.snapshot import ClusterSnapshot
from eksmon.tiers import STANDARD, TierCapacity, capacity, db_limit_bytes


@dataclass(frozen=True, slots=True)
class ClusterTier:
    name: str  # "standard", "tier-xl", ... or an unknown name as the API gave it
    capacity: TierCapacity | None  # None: a tier name eksmon does not know
    limit_bytes: int  # the etcd database limit
    api_tiers: tuple[TierCapacity, ...]  # DescribeClusterVersions' tiers for the cluster's version


def cluster_tier(snap: ClusterSnapshot) -> ClusterTier:
    """Standard when DescribeCluster was not read or says nothing; the API's capacities, else FACTS'."""
    info = snap.get(ClusterInfo) if snap.has(ClusterInfo) else None
    name = info.tier if info is not None else STANDARD
    api: tuple[TierCapacity, ...] = ()
    if info is not None and snap.has(VersionCalendar):
        api = snap.get(VersionCalendar).tiers(info.version)
    return ClusterTier(name, capacity(name, api), db_limit_bytes(name, api), api)


__all__ = ["ClusterTier", "cluster_tier"]
