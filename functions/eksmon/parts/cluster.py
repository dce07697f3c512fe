"""The parts read from the EKS and EC2 APIs: the clusters of an account+region, each cluster's
description, node groups, add-ons, insights and updates, the version calendar, and the subnets.

``collectors/eks.py``, ``collectors/eks_updates.py`` and ``collectors/ec2_subnets.py`` fill them; the
engine lists clusters from ``ClusterNames`` and Kubernetes access connects with ``ClusterInfo``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eksmon.tiers import TierCapacity
from eksmon.versions import VersionDates


@dataclass(frozen=True, slots=True)
class ClusterNames:
    """Clusters of one account+region that the configuration includes."""

    names: tuple[str, ...]
    listed: tuple[str, ...] = ()  # every cluster ListClusters returned, before the filter (for its misses)


@dataclass(frozen=True, slots=True)
class HealthIssue:
    code: str
    message: str
    resource_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    name: str
    arn: str
    version: str | None
    status: str
    platform_version: str | None
    support_type: str | None  # EXTENDED | STANDARD; None when the API did not say
    authentication_mode: str | None
    logging_enabled: frozenset[str] | None  # None when the API did not say
    health_issues: tuple[HealthIssue, ...]
    endpoint: str | None
    certificate_authority: str | None
    created_at: datetime | None = None
    tier: str = "standard"  # controlPlaneScalingConfig.tier; absent means standard
    subnet_ids: tuple[str, ...] | None = None  # resourcesVpcConfig.subnetIds; None when the API did not say
    # kubeControllerManagerConfig.horizontalPodAutoscalerControllerConfig.horizontalPodAutoscalerSyncPeriod,
    # as EKS gives it ("15s" is the default); None when the API did not say
    hpa_sync_period: str | None = None


# -- parts --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VersionCalendar:
    versions: dict[str, VersionDates]
    source: str  # "eks:DescribeClusterVersions" or "bundled"
    # each version's controlPlaneScalingTiers as the API gave them (empty: the published table applies)
    scaling_tiers: dict[str, tuple[TierCapacity, ...]] = field(default_factory=dict)

    def get(self, version: str | None) -> VersionDates | None:
        return self.versions.get(version or "")

    def tiers(self, version: str | None) -> tuple[TierCapacity, ...]:
        return self.scaling_tiers.get(version or "", ())


@dataclass(frozen=True, slots=True)
class Nodegroup:
    name: str
    version: str | None
    status: str
    release_version: str | None = None
    health_issues: tuple[HealthIssue, ...] = ()  # DescribeNodegroup health.issues


@dataclass(frozen=True, slots=True)
class Nodegroups:
    items: tuple[Nodegroup, ...]


@dataclass(frozen=True, slots=True)
class Addon:
    name: str
    version: str
    status: str | None
    next_kubernetes_version: str | None
    compatible_with_next: bool | None  # None: unknown (no next version in the calendar, or no data)
    latest_for_next: str | None = None
    health_issues: tuple[HealthIssue, ...] = ()  # DescribeAddon health.issues


@dataclass(frozen=True, slots=True)
class Addons:
    items: tuple[Addon, ...]


@dataclass(frozen=True, slots=True)
class ClientStat:
    user_agent: str
    requests_last_30_days: int | None
    last_request_time: str | None


@dataclass(frozen=True, slots=True)
class Deprecation:
    usage: str
    replaced_with: str | None
    stop_serving_version: str | None
    clients: tuple[ClientStat, ...] = ()


@dataclass(frozen=True, slots=True)
class Insight:
    id: str
    name: str
    category: str
    status: str
    reason: str | None
    description: str | None
    kubernetes_version: str | None
    recommendation: str | None = None
    deprecations: tuple[Deprecation, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Insights:
    items: tuple[Insight, ...]


@dataclass(frozen=True, slots=True)
class UpdateError:
    code: str
    message: str
    resource_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Update:
    kind: str  # cluster | nodegroup | addon
    target: str  # the cluster, node group or add-on name
    id: str
    type: str  # VersionUpdate, ConfigUpdate, AddonUpdate, ...
    status: str  # InProgress | Failed | Cancelled | Successful
    created_at: datetime | None
    errors: tuple[UpdateError, ...] = ()


@dataclass(frozen=True, slots=True)
class Updates:
    items: tuple[Update, ...]
    # (kind, target) -> (updates read, updates listed), for resources with more than the bound
    partly_read: dict[tuple[str, str], tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Subnet:
    id: str
    zone: str
    free_ips: int  # AvailableIpAddressCount (IPv4)
    vpc_id: str = ""


@dataclass(frozen=True, slots=True)
class RegionSubnets:
    """Every subnet the account sees in the region (its own and those shared with it), by id."""

    by_id: dict[str, Subnet]
