"""The core parts of a cluster that the engine, the state and Kubernetes access read.

Every other part lives in the module of the collector that makes it; these are read by the core
itself (the engine lists clusters from ``ClusterNames``, Kubernetes access connects with
``ClusterInfo``), so they live apart from any collector. ``collectors/eks.py`` fills them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
