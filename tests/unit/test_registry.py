"""The registry is the one source for the catalogue, IAM policies and RBAC: keep it honest."""

from __future__ import annotations

import re

import pytest

from eksmon.registry import MONITORS, load

REGISTRY = load()
SPEC_IDS = {
    "version.standard_support_ending",
    "version.extended_support",
    "version.nodegroup_skew",
    "version.addon_incompatible",
    "version.upgrade_insight",
    "cluster.control_plane_logging",
    "cluster.health_issue",
    "auth.config_map_only",
    # EKS's own health signals and the update history
    "cluster.nodegroup_health",
    "cluster.addon_health",
    "cluster.subnet_ip_headroom",
    "cluster.update_failed",
    "version.rollback_insight",
    "cluster.misconfiguration_insight",
}
READ_ONLY = re.compile(r"^[a-z0-9-]+:(Describe|List|Get|BatchGet)[A-Za-z]*$")


def test_lifecycle_checks_of_the_catalogue_are_registered() -> None:
    assert set(REGISTRY.checks) >= SPEC_IDS


@pytest.mark.parametrize("check_id", sorted(REGISTRY.checks))
def test_every_check_declares_what_the_generators_need(check_id: str) -> None:
    spec = REGISTRY.checks[check_id]
    assert spec.docs.startswith("https://") and spec.title and spec.severity_rules
    assert spec.monitor in MONITORS
    assert re.fullmatch(r"[a-z_]+\.[a-z_]+", spec.id)
    collectors = REGISTRY.collectors_for([spec])  # raises if a needed part has no collector
    assert collectors
    spec.thresholds()  # defaults must validate


def test_iam_actions_are_read_only() -> None:
    actions = REGISTRY.iam_actions(REGISTRY.select())
    assert actions and all(READ_ONLY.match(a) for a in actions), actions


def test_select_by_glob_monitor_and_disabled() -> None:
    assert {c.id for c in REGISTRY.select(["version.*"])} >= {
        "version.extended_support",
        "version.nodegroup_skew",
    }
    assert all(c.monitor == "lifecycle" for c in REGISTRY.select(monitor="lifecycle"))
    ids = {c.id for c in REGISTRY.select(["version.*"], disabled=["version.extended_support"])}
    assert "version.extended_support" not in ids


def test_collectors_come_in_dependency_order() -> None:
    order = [
        c.provides.__name__ for c in REGISTRY.collectors_for(REGISTRY.select(["version.addon_incompatible"]))
    ]
    assert order.index("ClusterNames") < order.index("ClusterInfo") < order.index("Addons")
    assert order.index("VersionCalendar") < order.index("Addons")


def test_kubernetes_permissions_merge_the_verbs_of_every_collector() -> None:
    from eksmon.registry import CheckSpec, CollectorSpec, KubeNonResource, KubePermission, Registry

    class A: ...

    class B: ...

    reg = Registry()
    reg.add_collector(
        CollectorSpec("a", A, "cluster", lambda ctx: A(), kube=(KubePermission("", "pods", ("list",)),))
    )
    reg.add_collector(
        CollectorSpec(
            "b",
            B,
            "cluster",
            lambda ctx: B(),
            kube=(KubePermission("", "pods", ("get",)), KubeNonResource("/metrics")),
        )
    )
    spec = CheckSpec("x.y", "t", "kubernetes", "cluster", (A, B), "https://d", "r", lambda *a: [])
    assert reg.kube_permissions([spec]) == [
        KubePermission("", "pods", ("get", "list")),
        KubeNonResource("/metrics", ("get",)),
    ]


def test_namespaced_permissions_merge_their_names_and_an_unnamed_one_lifts_the_restriction() -> None:
    from eksmon.registry import CheckSpec, CollectorSpec, KubePermission, Registry

    kinds = [type(f"P{i}", (), {}) for i in range(4)]
    declared = [
        KubePermission("", "configmaps", ("get",), "kube-system", ("aws-auth",)),
        KubePermission("", "configmaps", ("get",), "kube-system", ("kube-proxy-config",)),
        KubePermission("apps", "daemonsets", ("get",), "kube-system", ("aws-node",)),
        KubePermission("apps", "daemonsets", ("list",), "kube-system"),
    ]
    reg = Registry()
    for i, (kind, p) in enumerate(zip(kinds, declared, strict=True)):
        reg.add_collector(CollectorSpec(f"c{i}", kind, "cluster", lambda ctx, k=kind: k(), kube=(p,)))
    spec = CheckSpec("x.y", "t", "kubernetes", "cluster", tuple(kinds), "https://d", "r", lambda *a: [])
    assert reg.kube_permissions([spec]) == [
        KubePermission("", "configmaps", ("get",), "kube-system", ("aws-auth", "kube-proxy-config")),
        KubePermission("apps", "daemonsets", ("get", "list"), "kube-system", ()),
    ]


def test_the_quota_collectors_keep_their_names_after_the_split() -> None:
    """Findings (deadline, failed source) name collectors: moving one to a new module must not rename it."""
    from eksmon.collectors.quota_limits import QuotaLimits
    from eksmon.collectors.quota_usage import ClusterQuotaUsage, CountedUsage, MetricUsage
    from eksmon.parts import ClusterNames

    names = {
        kind: REGISTRY.collectors[kind].name
        for kind in (QuotaLimits, MetricUsage, CountedUsage, ClusterQuotaUsage)
    }
    assert names == {
        QuotaLimits: "quotas.quota_limits",
        MetricUsage: "quotas.metric_usage",
        CountedUsage: "quotas.counted_usage",
        ClusterQuotaUsage: "quotas.cluster_quota_usage",
    }
    assert REGISTRY.collectors[ClusterNames].name == "eks.list_clusters"  # the default: <module>.<function>


def test_the_new_aws_side_checks_bring_their_read_actions_into_the_policies() -> None:
    actions = set(
        REGISTRY.iam_actions(REGISTRY.select(["cluster.subnet_ip_headroom", "cluster.update_failed"]))
    )
    assert {"ec2:DescribeSubnets", "eks:ListUpdates", "eks:DescribeUpdate", "eks:DescribeCluster"} <= actions
