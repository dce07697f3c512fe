"""The EKS control-plane tiers: standard mode and the Provisioned Control Plane tiers
(https://docs.aws.amazon.com/eks/latest/userguide/eks-provisioned-control-plane.html).

The one home of the etcd database limit (8 GiB in standard mode), of each tier's published
capacities (the fallback when DescribeClusterVersions' ``controlPlaneScalingTiers`` says nothing)
and of the default add-on prices. Every user -- checks, collectors, the HTML report, ``infra/`` --
imports it from here. Pure data and arithmetic: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GIB = 1024**3
STANDARD = "standard"
STANDARD_DB_BYTES = 8 * GIB  # EKS's etcd quota in standard mode: 8 GiB = 8589934592 bytes
PROVISIONED_DB_BYTES = 16 * GIB  # a tier's database when the API does not say

# What a standard cluster is judged against before a tier is worth suggesting (SPEC: control_plane.*).
STANDARD_SEATS_HINT = 1200
STANDARD_PODS_PER_SECOND_HINT = 100.0


@dataclass(frozen=True, slots=True)
class TierCapacity:
    """What one tier guarantees. ``None`` for standard mode's seats and scheduling (dynamic)."""

    name: str
    seats: int | None  # API request concurrency
    pods_per_second: float | None  # pod scheduling rate (Kubernetes 1.30+)
    db_bytes: int  # the etcd database limit

    @property
    def provisioned(self) -> bool:
        return self.name != STANDARD


STANDARD_CAPACITY = TierCapacity(STANDARD, None, None, STANDARD_DB_BYTES)

# Published capacities (EKS user guide, "EKS Provisioned Control Plane"), cheapest first.
PUBLISHED_TIERS: tuple[TierCapacity, ...] = (
    TierCapacity("tier-xl", 1700, 167.0, PROVISIONED_DB_BYTES),
    TierCapacity("tier-2xl", 3400, 283.0, PROVISIONED_DB_BYTES),
    TierCapacity("tier-4xl", 6800, 400.0, PROVISIONED_DB_BYTES),
    TierCapacity("tier-8xl", 13600, 400.0, PROVISIONED_DB_BYTES),
)
TIER_NAMES: tuple[str, ...] = (STANDARD, *(t.name for t in PUBLISHED_TIERS))

# Add-on price per hour over the cluster-hour (us-east-1 list; configurable per check).
DEFAULT_TIER_PRICES_USD_PER_HOUR: Mapping[str, float] = {
    STANDARD: 0.0,
    "tier-xl": 1.65,
    "tier-2xl": 3.40,
    "tier-4xl": 6.90,
    "tier-8xl": 13.90,
}


def tier_name(scaling_config: Mapping[str, object] | None) -> str:
    """DescribeCluster's ``controlPlaneScalingConfig``: absent or empty means standard."""
    tier = (scaling_config or {}).get("tier")
    return str(tier).strip().lower() if tier else STANDARD


def capacity_from_api(item: Mapping[str, object]) -> TierCapacity | None:
    """One ``controlPlaneScalingTiers[]`` entry; None when it names no tier."""
    name = item.get("tierName")
    if not name:
        return None
    name = str(name).lower()
    fallback = published(name)

    def number(key: str) -> float | None:
        value = item.get(key)
        return float(value) if isinstance(value, (int, float)) and value > 0 else None

    seats = number("apiRequestConcurrency")
    pods = number("podSchedulingRatePerSecond")
    db_gb = number("clusterDatabaseSizeGb")
    default_db = fallback.db_bytes if fallback else PROVISIONED_DB_BYTES
    if name == STANDARD:
        default_db = STANDARD_DB_BYTES
    return TierCapacity(
        name,
        int(seats) if seats is not None else (fallback.seats if fallback else None),
        pods if pods is not None else (fallback.pods_per_second if fallback else None),
        int(db_gb * GIB) if db_gb is not None else default_db,  # "16 GB" read as GiB
    )


def published(name: str) -> TierCapacity | None:
    if name == STANDARD:
        return STANDARD_CAPACITY
    return next((t for t in PUBLISHED_TIERS if t.name == name), None)


def capacity(name: str, from_api: Iterable[TierCapacity] = ()) -> TierCapacity | None:
    """The tier's capacities: the API's for the cluster's version, else the published table."""
    if name == STANDARD:
        return STANDARD_CAPACITY
    return next((t for t in from_api if t.name == name), None) or published(name)


def db_limit_bytes(name: str, from_api: Iterable[TierCapacity] = ()) -> int:
    """The etcd database limit of a cluster in this tier (an unknown tier: 16 GiB, as tiers have)."""
    found = capacity(name, from_api)
    return found.db_bytes if found else PROVISIONED_DB_BYTES


def tiers_by_price(
    prices: Mapping[str, float], from_api: Iterable[TierCapacity] = ()
) -> list[tuple[TierCapacity, float]]:
    """Every provisioned tier with its hourly price, cheapest first (unpriced tiers are left out)."""
    api = list(from_api)
    out = []
    for name in TIER_NAMES[1:]:
        found = capacity(name, api)
        if found is not None and name in prices:
            out.append((found, prices[name]))
    return sorted(out, key=lambda tp: tp[1])


def smallest_covering(
    seats: float | None, pods_per_second: float | None, from_api: Iterable[TierCapacity] = ()
) -> TierCapacity | None:
    """The smallest published (or API) tier whose capacities cover both peaks; None if none does."""
    api = list(from_api)
    for name in TIER_NAMES[1:]:
        tier = capacity(name, api)
        if tier is None or tier.seats is None or tier.pods_per_second is None:
            continue
        if (seats or 0) <= tier.seats and (pods_per_second or 0) <= tier.pods_per_second:
            return tier
    return None


__all__ = [
    "DEFAULT_TIER_PRICES_USD_PER_HOUR",
    "GIB",
    "PROVISIONED_DB_BYTES",
    "PUBLISHED_TIERS",
    "STANDARD",
    "STANDARD_CAPACITY",
    "STANDARD_DB_BYTES",
    "STANDARD_PODS_PER_SECOND_HINT",
    "STANDARD_SEATS_HINT",
    "TIER_NAMES",
    "TierCapacity",
    "capacity",
    "capacity_from_api",
    "db_limit_bytes",
    "published",
    "smallest_covering",
    "tier_name",
    "tiers_by_price",
]
