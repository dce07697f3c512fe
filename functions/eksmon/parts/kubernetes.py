"""The parts read from the Kubernetes API: aggregated APIs and stuck namespaces, disruption budgets,
pods with sysctls, the Service count, kube-proxy's mode, the VPC CNI's settings and aws-auth.

The ``collectors/kubernetes_*.py`` modules fill them.
"""

from __future__ import annotations

from dataclasses import dataclass

SYSTEM_NAMESPACE = "kube-system"


@dataclass(frozen=True, slots=True)
class ApiService:
    name: str  # v1beta1.metrics.k8s.io
    group_version: str  # metrics.k8s.io/v1beta1
    service: str  # namespace/name of the backing Service
    available: bool | None  # condition Available; None when the condition is absent
    reason: str | None = None  # FailedDiscoveryCheck, MissingEndpoints, ServiceNotFound, ...
    message: str | None = None
    since: str | None = None  # lastTransitionTime of the condition


@dataclass(frozen=True, slots=True)
class StuckNamespace:
    name: str
    message: str  # the NamespaceDeletionDiscoveryFailure condition's message (names the group/version)
    since: str | None = None


@dataclass(frozen=True, slots=True)
class AggregatedApis:
    items: tuple[ApiService, ...]  # only APIServices backed by a Service (Local ones are the apiserver)
    stuck_namespaces: tuple[StuckNamespace, ...]
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class DisruptionBudget:
    namespace: str
    name: str
    expected_pods: int  # status.expectedPods: pods the selector matches (counted by the controller)
    desired_healthy: int  # status.desiredHealthy: healthy pods the budget keeps
    current_healthy: int
    disruptions_allowed: int
    min_available: str | None  # spec as written ("2", "100%")
    max_unavailable: str | None


@dataclass(frozen=True, slots=True)
class DisruptionBudgets:
    items: tuple[DisruptionBudget, ...]  # budgets whose status the controller has computed
    pending: int = 0  # budgets without a status yet (just created): nothing to judge
    skipped: int = 0


SYSCTL_FORBIDDEN = "SysctlForbidden"


@dataclass(frozen=True, slots=True)
class PodSysctls:
    """One pod that declares sysctls or was refused for one."""

    namespace: str
    name: str
    sysctls: tuple[str, ...]  # names as declared
    phase: str | None
    reason: str | None  # status.reason, e.g. SysctlForbidden
    owner: str | None = None  # Kind/name of the controlling owner
    message: str | None = None  # status.message when the pod was refused


@dataclass(frozen=True, slots=True)
class PodsWithSysctls:
    items: tuple[PodSysctls, ...]
    scanned: int  # pods read
    skipped: int = 0
    server_version: str | None = (
        None  # the API server's /version gitVersion, read when DescribeCluster failed
    )


# -- parts --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ServiceCount:
    count: int
    method: str  # "remainingItemCount" (one request) or "paged" (counted page by page)


@dataclass(frozen=True, slots=True)
class KubeProxyMode:
    installed: bool
    mode: str | None  # as configured: "", "iptables", "ipvs", "nftables"...; None when unreadable
    source: str  # where the mode was read
    problem: str | None = None  # why the mode could not be read


@dataclass(frozen=True, slots=True)
class VpcCniSettings:
    installed: bool  # DaemonSet kube-system/aws-node exists with an aws-node container
    env: dict[str, str]  # the warm settings that are set, by name
    unresolved: tuple[str, ...] = ()  # warm settings set through valueFrom (not readable here)
    version: str | None = None  # the image tag


@dataclass(frozen=True, slots=True)
class AwsAuth:
    present: bool
    data: dict[str, str]  # mapRoles, mapUsers, mapAccounts as stored (YAML text)
    problem: str | None = None  # a data value that is not a string
