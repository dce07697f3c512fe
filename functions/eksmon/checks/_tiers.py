"""The cluster's tier and its capacities, as the checks read them from a snapshot (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from eksmon.parts import ClusterInfo
from eksmon.parts.cluster import VersionCalendar
from eksmon.snapshot import ClusterSnapshot
from eksmon.tiers import STANDARD, TierCapacity, capacity, db_limit_bytes

OLD_SCHEDULING_PODS_PER_SECOND = (
    100.0  # every tier's scheduling rate on Kubernetes 1.28-1.29 (EKS Provisioned Control Plane docs)
)


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
    found = capacity(name, api)
    if found is not None and found.pods_per_second is not None and _before_1_30(info):
        found = replace(found, pods_per_second=min(found.pods_per_second, OLD_SCHEDULING_PODS_PER_SECOND))
    return ClusterTier(name, found, db_limit_bytes(name, api), api)


def _before_1_30(info: ClusterInfo | None) -> bool:
    try:
        major, minor = (int(x) for x in (info.version or "").split(".")[:2]) if info else (0, 99)
    except ValueError:
        return False
    return (major, minor) < (1, 30)


__all__ = ["ClusterTier", "cluster_tier"]
