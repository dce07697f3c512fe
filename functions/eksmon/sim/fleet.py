"""The demo fleet: one account, two regions, clusters that between them trip every check.

Each simulator extension seeds its own part (EKS details, quotas, metrics, Kubernetes objects)
from the ``scenarios`` tags below, so a new monitor adds a tag here and its data in its module.
The fleet is frozen at ``DEMO_NOW`` so that the demo and the tests are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

DEMO_ACCOUNT = "123456789012"
DEMO_REGIONS = ("us-east-1", "eu-west-1")
DEMO_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

ALL_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@dataclass(frozen=True)
class DemoInsight:
    name: str
    status: str  # PASSING | WARNING | ERROR | UNKNOWN
    category: str = "UPGRADE_READINESS"
    deprecated_api: str | None = None  # e.g. /apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas
    replaced_with: str | None = None
    stop_serving_version: str | None = None
    user_agents: tuple[tuple[str, int], ...] = ()
    reason: str | None = None  # insightStatus.reason; by default one that fits an upgrade insight
    recommendation: str | None = None  # likewise


@dataclass(frozen=True)
class DemoUpdate:
    """One entry of ListUpdates/DescribeUpdate: on the cluster itself, a node group or an add-on."""

    kind: str  # cluster | nodegroup | addon
    target: str  # the node group or add-on name ("" for the cluster)
    type: str  # VersionUpdate, ConfigUpdate, AddonUpdate, ...
    status: str  # InProgress | Failed | Cancelled | Successful
    days_ago: float
    error_code: str | None = None
    error_message: str = ""


@dataclass(frozen=True)
class DemoCluster:
    name: str
    region: str
    version: str
    status: str = "ACTIVE"
    support_type: str = "EXTENDED"
    authentication_mode: str = "API_AND_CONFIG_MAP"
    logs_enabled: tuple[str, ...] = ALL_LOGS
    health_issues: tuple[tuple[str, str], ...] = ()  # (code, message)
    nodegroups: tuple[tuple[str, str], ...] = ()  # (name, kubernetes minor version)
    addons: tuple[tuple[str, str], ...] = ()  # (name, installed version)
    insights: tuple[DemoInsight, ...] = ()
    tier: str = "standard"  # controlPlaneScalingConfig.tier (Provisioned Control Plane)
    # kubeControllerManagerConfig...horizontalPodAutoscalerSyncPeriod (None: left out of DescribeCluster)
    hpa_sync_period: str | None = None
    # the cluster's own subnets (resourcesVpcConfig.subnetIds): (zone letter, free IPv4 addresses), None for
    # a subnet the cluster names that no longer exists
    subnets: tuple[tuple[str, int | None], ...] = (("a", 251), ("b", 251))
    updates: tuple[DemoUpdate, ...] = ()  # ListUpdates/DescribeUpdate history
    # (node group, code, message): DescribeNodegroup health.issues
    nodegroup_issues: tuple[tuple[str, str, str], ...] = ()
    # (add-on, code, message): DescribeAddon health.issues
    addon_issues: tuple[tuple[str, str, str], ...] = ()
    scenarios: frozenset[str] = field(default_factory=frozenset)
    """Tags other extensions read: etcd-near-quota, etcd-growing, apiserver-errors, webhook-failing,
    no-vended-metrics, k8s-hazards, k8s-clean, many-services, many-pods, quota-nodegroup-near-limit
    (its last node group runs 437 of 450 nodes), quota-fargate-near-limit (9 of 10 Fargate profiles),
    seats-high (a standard cluster peaking at 1,450 seats), apf-drops (APF rejects requests at the
    leader-election level), scheduler-backlog (35 pods in the active queue for 22 minutes),
    scheduler-burst (300 pods that drained within 12 minutes), apf-saturated (leader-election above 90 %
    of its seats 3 % of the time, workload-low 25 %), etcd-objects (9,412 Secrets, 7,900 Services),
    no-admin-entry (API mode, admin only at namespace scope), tier-oversized (tier-2xl whose 14-day peaks fit tier-xl), tier-xl-9gib (9 GiB of a 16 GiB database:
    nothing to report)."""


FLOWCONTROL = DemoInsight(
    name="Deprecated APIs removed in Kubernetes v1.32",
    status="ERROR",
    deprecated_api="/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas",
    replaced_with="/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas",
    stop_serving_version="1.32",
    user_agents=(("kube-prometheus-stack/v0.65.1", 1433), ("argocd-application-controller/v2.8.4", 91)),
)
KUBELET_SKEW = DemoInsight(name="Kubelet version skew", status="WARNING")
AL2_PASSING = DemoInsight(name="Amazon Linux 2 compatibility", status="PASSING")
NEW_CATEGORY = DemoInsight(name="Cluster health recommendation", status="WARNING", category="FUTURE_CATEGORY")
ROLLBACK_BLOCKED = DemoInsight(
    name="Kubelet version skew for rollback",
    status="ERROR",
    category="ROLLBACK_READINESS",
    reason="Fargate pods run kubelet 1.35: after a rollback to 1.34 they would be newer than the control plane.",
    recommendation="Delete the Fargate pods on 1.35 before rolling back; they come back on 1.34 when redeployed.",
)
ROLLBACK_ADVISORY = DemoInsight(
    name="Add-on version compatibility for rollback",
    status="WARNING",
    category="ROLLBACK_READINESS",
    reason="An add-on has a newer build for the current version; the installed one supports both.",
)
MISCONFIGURED = DemoInsight(
    name="Amazon EKS service-linked role",
    status="ERROR",
    category="MISCONFIGURATION",
    reason="The service-linked role AWSServiceRoleForAmazonEKS is missing permissions EKS needs to manage "
    "the cluster's network interfaces.",
)
MISCONFIGURATION_ADVISORY = DemoInsight(
    name="Cluster security group rules",
    status="WARNING",
    category="MISCONFIGURATION",
    reason="The cluster security group allows more inbound traffic than EKS needs.",
)

DEMO_FLEET: tuple[DemoCluster, ...] = (
    DemoCluster(
        name="payments-prod",
        region="us-east-1",
        version="1.34",
        nodegroups=(("system", "1.34"), ("payments-workers", "1.31")),
        addons=(
            ("vpc-cni", "v1.20.4-eksbuild.1"),
            ("coredns", "v1.12.3-eksbuild.1"),
            ("aws-ebs-csi-driver", "v1.37.0-eksbuild.1"),
        ),
        insights=(AL2_PASSING,),
        # two zones still have room, a third subnet is down to 2 free addresses: warning
        subnets=(("a", 120), ("b", 37), ("c", 2)),
        # a storage add-on EKS reports unhealthy (warning), beside healthy vpc-cni and coredns
        addon_issues=(
            (
                "aws-ebs-csi-driver",
                "InsufficientNumberOfReplicas",
                "The add-on is unhealthy because it doesn't have the desired number of replicas.",
            ),
        ),
        scenarios=frozenset(
            {"etcd-near-quota", "quota-nodegroup-near-limit", "seats-high", "scheduler-backlog"}
        ),
    ),
    DemoCluster(
        name="checkout-prod",
        region="us-east-1",
        version="1.35",
        authentication_mode="API",
        nodegroups=(("general", "1.35"),),
        subnets=(("a", 5), ("b", 5)),  # exactly the 5 free addresses EKS needs in two zones: fine
        addons=(("vpc-cni", "v1.21.1-eksbuild.1"), ("coredns", "v1.13.1-eksbuild.1")),
        insights=(AL2_PASSING,),
        scenarios=frozenset({"k8s-clean", "no-admin-entry", "scheduler-burst"}),
    ),
    DemoCluster(
        name="data-platform",
        region="us-east-1",
        version="1.32",
        authentication_mode="CONFIG_MAP",
        logs_enabled=("api",),
        nodegroups=(("spark", "1.32"),),
        addons=(("vpc-cni", "v1.18.3-eksbuild.1"), ("kube-proxy", "v1.32.0-eksbuild.2")),
        insights=(KUBELET_SKEW, NEW_CATEGORY),
        # roomy subnets, but both in one zone; the other zone's has 4 free: critical
        subnets=(("a", 40), ("a", 60), ("b", 4)),
        # kube-proxy unhealthy: critical, Services stop routing on new nodes
        addon_issues=(
            (
                "kube-proxy",
                "ConfigurationConflict",
                "Conflicts found when trying to apply. Will not continue due to resolve conflicts mode.",
            ),
        ),
        scenarios=frozenset({"etcd-growing", "etcd-objects"}),
    ),
    DemoCluster(
        name="analytics-legacy",
        region="eu-west-1",
        version="1.31",
        nodegroups=(("batch", "1.28"), ("reports", "1.27")),
        addons=(("vpc-cni", "v1.19.0-eksbuild.1"),),
        insights=(FLOWCONTROL,),
        subnets=(("a", 251), ("b", 251), ("c", None)),  # a deleted subnet EKS does not report yet: critical
        updates=(
            # reports' upgrade failed 3 days ago and was not retried: warning
            DemoUpdate(
                "nodegroup",
                "reports",
                "VersionUpdate",
                "Failed",
                3,
                "PodEvictionFailure",
                "Reached max retries while trying to evict pods from nodes in node group reports",
            ),
            # batch's failed too, but a later attempt went through: superseded, nothing to report
            DemoUpdate("nodegroup", "batch", "VersionUpdate", "Failed", 12, "PodEvictionFailure"),
            DemoUpdate("nodegroup", "batch", "VersionUpdate", "Successful", 11),
            # a cluster update failed 45 days ago: outside the 30-day window
            DemoUpdate("cluster", "", "ConfigUpdate", "Failed", 45, "AccessDenied"),
            DemoUpdate("cluster", "", "VersionUpdate", "Successful", 200),
        ),
        # batch cannot launch nodes; reports, beside it, is healthy
        nodegroup_issues=(
            (
                "batch",
                "AsgInstanceLaunchFailures",
                "Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not have "
                "sufficient capacity in the Availability Zone you requested.",
            ),
        ),
        scenarios=frozenset({"no-vended-metrics"}),
    ),
    DemoCluster(
        name="ml-training",
        region="eu-west-1",
        version="1.34",
        support_type="STANDARD",
        health_issues=(("Ec2SubnetNotFound", "One or more subnets of the cluster no longer exist."),),
        # the gone subnet is the one EKS reports: cluster.health_issue says it, subnet_ip_headroom does not repeat it
        subnets=(("a", 251), ("b", None)),
        nodegroups=(("gpu", "1.34"),),
        insights=(MISCONFIGURED,),
        scenarios=frozenset(
            {"webhook-failing", "apiserver-errors", "quota-fargate-near-limit", "apf-drops", "apf-saturated"}
        ),
    ),
    DemoCluster(
        name="search-staging",
        region="eu-west-1",
        version="1.35",
        nodegroups=(("search", "1.34"),),
        # upgraded to 1.35 two days ago; a rollback-readiness insight blocks going back (5 days left)
        insights=(KUBELET_SKEW, ROLLBACK_BLOCKED),
        updates=(DemoUpdate("cluster", "", "VersionUpdate", "Successful", 2),),
        scenarios=frozenset({"k8s-hazards", "many-services", "many-pods"}),
    ),
    DemoCluster(
        name="render-farm",
        region="us-east-1",
        version="1.35",
        nodegroups=(("render", "1.35"),),
        # advisory rollback and misconfiguration insights (WARNING): nothing to report
        insights=(AL2_PASSING, ROLLBACK_ADVISORY, MISCONFIGURATION_ADVISORY),
        tier="tier-2xl",
        scenarios=frozenset({"tier-oversized"}),
    ),
    DemoCluster(
        name="ai-inference",
        region="eu-west-1",
        version="1.35",
        nodegroups=(("inference", "1.35"),),
        insights=(AL2_PASSING,),
        tier="tier-xl",
        scenarios=frozenset({"tier-xl-9gib"}),
    ),
    DemoCluster(
        name="sandbox",
        region="eu-west-1",
        version="1.36",
        status="CREATING",
        scenarios=frozenset(),
    ),
)


def demo_clusters(region: str | None = None, scenario: str | None = None) -> list[DemoCluster]:
    return [
        c
        for c in DEMO_FLEET
        if (region is None or c.region == region) and (scenario is None or scenario in c.scenarios)
    ]
