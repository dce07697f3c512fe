"""The lifecycle collectors and checks against the simulator, over HTTP, as against AWS."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from eksmon.context import COLLECTION_ERROR
from eksmon.engine import ScanResult, scan
from eksmon.errors import ScanAborted
from eksmon.models import Severity
from eksmon.settings import parse_settings
from eksmon.sim.eks import EksExtension
from eksmon.sim.fleet import DEMO_FLEET, DEMO_REGIONS, DemoCluster
from eksmon.sim.server import Simulator

SETTINGS = parse_settings({"regions": list(DEMO_REGIONS)})


def run(sim: Simulator, now: datetime, settings=SETTINGS, **kwargs) -> ScanResult:
    return scan(settings, now, monitor="lifecycle", session_factory=sim.session_factory(), **kwargs)


def keyed(result: ScanResult) -> dict[tuple[str, str | None, str], Severity]:
    return {(f.check, f.cluster, f.resource): f.severity for f in result.findings}


def test_demo_fleet_trips_every_lifecycle_check_and_leaves_healthy_clusters_alone(
    demo_sim: Simulator, now
) -> None:
    result = run(demo_sim, now)
    found = keyed(result)
    assert found[("version.standard_support_ending", "payments-prod", "version/1.34")] is Severity.CRITICAL
    assert found[("version.standard_support_ending", "ml-training", "version/1.34")] is Severity.CRITICAL
    assert found[("version.extended_support", "data-platform", "version/1.32")] is Severity.WARNING
    assert found[("version.extended_support", "analytics-legacy", "version/1.31")] is Severity.CRITICAL
    assert found[("version.nodegroup_skew", "analytics-legacy", "nodegroup/reports")] is Severity.CRITICAL
    assert (
        found[("version.nodegroup_skew", "payments-prod", "nodegroup/payments-workers")] is Severity.WARNING
    )
    assert found[("version.addon_incompatible", "data-platform", "addon/vpc-cni")] is Severity.WARNING
    assert found[("cluster.health_issue", "ml-training", "health/Ec2SubnetNotFound")] is Severity.CRITICAL
    unhealthy = "nodegroup/batch/health/AsgInstanceLaunchFailures"
    assert found[("cluster.nodegroup_health", "analytics-legacy", unhealthy)] is Severity.CRITICAL
    # its healthy neighbour, and every other node group of the fleet, are not reported
    assert [f.resource for f in result.findings if f.check == "cluster.nodegroup_health"] == [unhealthy]
    addon_health = {
        (f.cluster, f.resource): f.severity for f in result.findings if f.check == "cluster.addon_health"
    }
    assert addon_health == {  # the fleet's healthy add-ons, coredns and vpc-cni beside them, are not
        ("data-platform", "addon/kube-proxy/health/ConfigurationConflict"): Severity.CRITICAL,
        ("payments-prod", "addon/aws-ebs-csi-driver/health/InsufficientNumberOfReplicas"): Severity.WARNING,
    }
    assert found[("auth.config_map_only", "data-platform", "access-config")] is Severity.WARNING
    assert found[("cluster.control_plane_logging", "data-platform", "logging")] is Severity.INFO
    insight = [
        f for f in result.findings if f.check == "version.upgrade_insight" and f.cluster == "analytics-legacy"
    ]
    assert insight[0].severity is Severity.CRITICAL
    assert (
        insight[0]
        .details["deprecated_apis"][0]["clients"][0]["user_agent"]
        .startswith("kube-prometheus-stack")
    )
    assert {f.check for f in result.findings} >= {
        "version.standard_support_ending",
        "version.extended_support",
        "version.nodegroup_skew",
        "version.addon_incompatible",
        "version.upgrade_insight",
        "cluster.control_plane_logging",
        "cluster.health_issue",
        "cluster.nodegroup_health",
        "cluster.addon_health",
        "cluster.subnet_ip_headroom",
        "cluster.update_failed",
        "version.rollback_insight",
        "cluster.misconfiguration_insight",
        "auth.config_map_only",
        "auth.break_glass",
    }
    headroom = {f.cluster: f for f in result.findings if f.check == "cluster.subnet_ip_headroom"}
    # checkout-prod has exactly 5 free in two zones (fine); ml-training's gone subnet is EKS's own health issue
    assert {c: f.severity for c, f in headroom.items()} == {
        "payments-prod": Severity.WARNING,
        "data-platform": Severity.CRITICAL,
        "analytics-legacy": Severity.CRITICAL,
    }
    assert sorted(headroom["payments-prod"].details["free_ips"].values()) == [2, 37, 120]
    assert headroom["data-platform"].details["zones_with_5_free"] == ["us-east-1a"]
    assert len(headroom["analytics-legacy"].details["gone_subnets"]) == 1
    # reports' failed upgrade stands; batch's was superseded, the cluster's is older than 30 days
    (failed,) = [f for f in result.findings if f.check == "cluster.update_failed"]
    assert (failed.cluster, failed.resource, failed.severity) == (
        "analytics-legacy",
        "update/nodegroup/reports/VersionUpdate",
        Severity.WARNING,
    )
    assert failed.details["error_codes"] == ["PodEvictionFailure"] and "3 days ago" in failed.message
    # one rollback blocker (render-farm's advisory one is not reported), 5 of its 7 days left
    (rollback,) = [f for f in result.findings if f.check == "version.rollback_insight"]
    assert (rollback.cluster, rollback.details["days_left"]) == ("search-staging", 5)
    assert rollback.remediation.startswith("Delete the Fargate pods")  # the insight's own advice
    (misconfigured,) = [f for f in result.findings if f.check == "cluster.misconfiguration_insight"]
    assert (misconfigured.cluster, misconfigured.severity) == ("ml-training", Severity.WARNING)
    clean = {"sandbox", "render-farm", "ai-inference"}
    assert not [f for f in result.findings if f.cluster in clean]
    # checkout-prod is API-only with its admin entry at namespace scope: no way in when RBAC breaks
    (glass,) = [f for f in result.findings if f.cluster == "checkout-prod"]
    assert glass.check == "auth.break_glass" and glass.severity is Severity.WARNING
    assert glass.details["namespace_scoped_admin_entries"] == [
        "arn:aws:iam::123456789012:role/platform-admin"
    ]
    assert not [f for f in result.findings if f.check == COLLECTION_ERROR]
    assert len(result.clusters) == len(DEMO_FLEET)
    assert all(f.account == "123456789012" for f in result.findings)


def test_fingerprints_are_stable_across_runs(demo_sim: Simulator, now) -> None:
    first = {f.fingerprint for f in run(demo_sim, now).findings}
    second = {f.fingerprint for f in run(demo_sim, now).findings}
    assert first == second and len(first) > 10


def test_every_page_of_describe_cluster_versions_is_read(demo_sim: Simulator, now) -> None:
    # The simulator serves 3 versions a page; the 1.35 and 1.36 dates are only on page 2.
    result = run(demo_sim, now)
    # both pages, once per account: the calendar is the same in every region
    assert result.api_calls.calls["eks.DescribeClusterVersions"] == 2
    assert not [
        f
        for f in result.findings
        if f.check == "version.standard_support_ending" and f.severity is Severity.INFO
    ]


def test_api_calls_grow_with_clusters_not_checks(demo_sim: Simulator, now) -> None:
    result = run(demo_sim, now)
    calls = result.api_calls.calls
    assert calls["eks.DescribeCluster"] == len(DEMO_FLEET)
    assert calls["eks.ListClusters"] == len(DEMO_REGIONS)
    # add-on versions are read once per add-on name and region, not once per cluster
    assert calls["eks.DescribeAddonVersions"] <= 3 * len(DEMO_REGIONS) * 2
    # one ListUpdates per cluster, node group and add-on; one DescribeUpdate per update listed
    nodegroups = sum(len(c.nodegroups) for c in DEMO_FLEET)
    addons = sum(len(c.addons) for c in DEMO_FLEET)
    assert calls["eks.ListUpdates"] == len(DEMO_FLEET) + nodegroups + addons
    assert calls["eks.DescribeUpdate"] == sum(len(c.updates) for c in DEMO_FLEET)
    # the subnets of every cluster of a region in one request
    assert calls["ec2.DescribeSubnets"] == len(DEMO_REGIONS)


def test_subnets_that_cannot_be_read_are_said_once_per_region_and_hide_nothing_else(
    demo_sim: Simulator, now
) -> None:
    demo_sim.fault(
        "ec2", region="eu-west-1", operation="DescribeSubnets", code="UnauthorizedOperation", status=403
    )
    result = run(demo_sim, now)
    errors = [(f.region, f.cluster, f.resource) for f in result.findings if f.check == COLLECTION_ERROR]
    assert errors == [("eu-west-1", None, "source/ec2:DescribeSubnets")]
    headroom = {f.cluster for f in result.findings if f.check == "cluster.subnet_ip_headroom"}
    assert headroom == {"payments-prod", "data-platform"}  # us-east-1 still judged
    assert any(
        f.check == "cluster.nodegroup_health" and f.cluster == "analytics-legacy" for f in result.findings
    )


def test_access_denied_in_one_region_hides_nothing_else(demo_sim: Simulator, now) -> None:
    demo_sim.fault(
        "eks",
        region="eu-west-1",
        operation="GET /clusters",
        code="AccessDeniedException",
        status=403,
        message="User is not authorized to perform: eks:ListClusters",
    )
    result = run(demo_sim, now)
    errors = [f for f in result.findings if f.check == COLLECTION_ERROR]
    assert [(e.region, e.resource) for e in errors] == [("eu-west-1", "source/eks:ListClusters")]
    assert errors[0].details["error_code"] == "AccessDeniedException"
    assert "eks:ListClusters" in errors[0].message
    us = {f.cluster for f in result.findings if f.region == "us-east-1"}
    assert {"payments-prod", "data-platform"} <= us


def test_one_failing_cluster_source_is_reported_for_that_cluster_only(demo_sim: Simulator, now) -> None:
    demo_sim.fault(
        "eks", operation="GET /clusters/payments-prod/node-groups", code="AccessDeniedException", status=403
    )
    result = run(demo_sim, now)
    errors = [(f.cluster, f.resource) for f in result.findings if f.check == COLLECTION_ERROR]
    assert errors == [("payments-prod", "source/eks:ListNodegroups")]
    # the cluster's other checks still ran
    assert any(
        f.check == "version.standard_support_ending" and f.cluster == "payments-prod" for f in result.findings
    )
    assert any(
        f.check == "version.nodegroup_skew" and f.cluster == "analytics-legacy" for f in result.findings
    )


def test_throttling_that_clears_after_retries_is_invisible(demo_sim: Simulator, now) -> None:
    fault = demo_sim.fault(
        "eks", operation="GET /clusters/data-platform", code="ThrottlingException", status=400, times=2
    )
    settings = parse_settings({"regions": list(DEMO_REGIONS), "aws": {"retry_mode": "standard"}})
    result = run(demo_sim, now, settings)
    assert fault.hits == 2
    assert not [f for f in result.findings if f.check == COLLECTION_ERROR]
    assert result.api_calls.attempts > result.api_calls.total  # the retries happened
    assert any(f.cluster == "data-platform" for f in result.findings)


def test_throttling_past_the_retries_becomes_a_collection_error(demo_sim: Simulator, now) -> None:
    demo_sim.fault("eks", operation="GET /clusters/data-platform", code="ThrottlingException", status=400)
    settings = parse_settings(
        {
            "regions": list(DEMO_REGIONS),
            "aws": {"max_attempts": 2, "retry_mode": "standard", "critical_throttle_budget_seconds": 1},
        }
    )
    result = run(demo_sim, now, settings)
    (err,) = [f for f in result.findings if f.check == COLLECTION_ERROR]
    assert err.cluster == "data-platform" and err.details["error_code"] == "ThrottlingException"


def test_calendar_api_unavailable_falls_back_to_bundled_dates_and_says_so(demo_sim: Simulator, now) -> None:
    demo_sim.extension(EksExtension).versions_available = False
    result = run(demo_sim, now)
    errors = [f for f in result.findings if f.check == COLLECTION_ERROR]
    assert {e.resource for e in errors} == {"source/eks:DescribeClusterVersions"}
    assert len(errors) == len(DEMO_REGIONS)
    assert "bundled calendar" in errors[0].message
    assert any(
        f.check == "version.extended_support" and f.cluster == "analytics-legacy" for f in result.findings
    )


def test_cluster_filters(demo_sim: Simulator, now) -> None:
    settings = parse_settings(
        {"regions": list(DEMO_REGIONS), "clusters": {"include": ["*-prod"], "exclude": ["checkout-*"]}}
    )
    result = run(demo_sim, now, settings)
    assert [c.name for c in result.clusters] == ["payments-prod"]


def test_plain_moto_cluster_without_the_extensions(sim: Simulator, now) -> None:
    # Given a cluster moto alone knows (no upgradePolicy, accessConfig, health, insights API)
    from moto.eks.models import eks_backends

    eks_backends["123456789012"]["us-east-1"].create_cluster(
        name="plain", role_arn="arn:aws:iam::123456789012:role/r", resources_vpc_config={}, version="1.31"
    )
    result = run(sim, now, parse_settings({"regions": ["us-east-1"]}))
    checks = {f.check for f in result.findings if f.cluster == "plain"}
    assert "version.extended_support" in checks  # dates still known, default policy EXTENDED
    assert "auth.config_map_only" not in checks  # unknown mode is not guessed


def test_cross_account_role_that_cannot_be_assumed(demo_sim: Simulator, now) -> None:
    demo_sim.fault("sts", operation="AssumeRole", code="AccessDenied", status=403)
    settings = parse_settings(
        {"regions": ["us-east-1"], "accounts": {"ids": ["123456789012", "210987654321"]}}
    )
    result = run(demo_sim, now, settings)
    errors = [f for f in result.findings if f.check == COLLECTION_ERROR]
    assert [(e.account, e.resource) for e in errors] == [("210987654321", "source/sts:AssumeRole")]
    assert any(f.cluster == "payments-prod" for f in result.findings)


def test_no_region_aborts_the_scan(sim: Simulator, now) -> None:
    import boto3

    with pytest.raises(ScanAborted, match="no AWS region"):
        scan(
            parse_settings({}),
            now,
            session_factory=lambda **kw: boto3.Session(
                region_name=None, aws_access_key_id="x", aws_secret_access_key="y"
            ),
        )


def test_updating_cluster_is_still_warned(sim: Simulator, now) -> None:
    ext = sim.extension(EksExtension)
    ext.now = now
    ext.add_cluster(
        DemoCluster(name="moving", region="us-east-1", version="1.34", status="UPDATING"), "123456789012"
    )
    result = run(sim, now, parse_settings({"regions": ["us-east-1"]}))
    assert any(
        f.check == "version.standard_support_ending" and f.cluster == "moving" for f in result.findings
    )


def test_update_reads_are_bounded_per_resource_and_a_partial_read_is_said(demo_sim: Simulator, now) -> None:
    settings = parse_settings(
        {
            "regions": list(DEMO_REGIONS),
            "checks": {"thresholds": {"cluster.update_failed": {"max_updates_read_per_resource": 1}}},
        }
    )
    result = run(demo_sim, now, settings)
    # analytics-legacy: the cluster and batch list 2 updates each, reports 1; search-staging's cluster 1:
    # one DescribeUpdate each
    assert result.api_calls.calls["eks.DescribeUpdate"] == 4
    (coverage,) = [
        f for f in result.findings if f.check == "monitor.coverage" and f.cluster == "analytics-legacy"
    ]
    text = json.dumps(coverage.details)
    assert "node group batch: 1 of its 2 updates read" in text and "cluster analytics-legacy" in text
