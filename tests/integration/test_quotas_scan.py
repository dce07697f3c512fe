"""The quota collectors and check against the simulator, over HTTP, as against AWS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

import eksmon.collectors.quota_limits as limits_collector
import eksmon.collectors.quota_usage as usage_collectors
from eksmon.collectors.quota_limits import QuotaLimits
from eksmon.collectors.quota_usage import ClusterQuotaUsage, CountedUsage, MetricUsage
from eksmon.context import COLLECTION_ERROR
from eksmon.engine import ScanResult, scan
from eksmon.models import Finding, Severity
from eksmon.settings import parse_settings
from eksmon.sim.cloudwatch import CloudWatchExtension
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_FLEET, DEMO_REGIONS
from eksmon.sim.server import Simulator
from eksmon.sim.service_quotas import ServiceQuotasExtension

SETTINGS = parse_settings({"regions": list(DEMO_REGIONS)})
EAST, WEST = DEMO_REGIONS
VCPU, EIPS, ALBS = "L-1216C47A", "L-0263D0A3", "L-53DA6B97"


def run(sim: Simulator, now: datetime, settings=SETTINGS) -> ScanResult:
    return scan(settings, now, patterns=["quota.*"], session_factory=sim.session_factory())


def quota_findings(result: ScanResult) -> dict[tuple[str, str | None, str], Finding]:
    return {(f.region, f.cluster, f.resource): f for f in result.findings if f.check == "quota.utilization"}


def errors(result: ScanResult) -> list[tuple[str, str | None, str, str]]:
    return sorted(
        (f.region, f.cluster, f.resource, f.details["error_code"])
        for f in result.findings
        if f.check == COLLECTION_ERROR
    )


def region_part(result: ScanResult, region: str, kind: type) -> Any:
    return next(r for r in result.regions if r.region == region).get(kind)


@pytest.fixture(autouse=True)
def _page_sizes() -> Any:
    saved = [(sizes, dict(sizes)) for sizes in (limits_collector.PAGE_SIZES, usage_collectors.PAGE_SIZES)]
    yield
    for sizes, before in saved:
        sizes.update(before)


def test_seeded_quotas_are_reported_with_correct_percentages(demo_sim: Simulator, now) -> None:
    result = run(demo_sim, now)
    found = {
        k: (f.severity, f.details["usage"], f.details["limit"], f.details["percent"])
        for k, f in quota_findings(result).items()
    }
    assert found == {
        (EAST, None, "quota/ec2/L-0263D0A3"): (Severity.CRITICAL, 29, 30, 96.7),
        (EAST, None, "quota/ec2/L-1216C47A"): (Severity.WARNING, 1632, 1920, 85.0),
        (EAST, "payments-prod", "nodegroup/payments-workers/quota/eks/L-BD136A63"): (
            Severity.CRITICAL,
            437,
            450,
            97.1,
        ),
        (WEST, None, "quota/elasticloadbalancing/L-53DA6B97"): (Severity.WARNING, 17, 20, 85.0),
        (WEST, "ml-training", "quota/eks/L-33415657"): (Severity.WARNING, 9, 10, 90.0),
    }
    assert errors(result) == []
    vcpu = quota_findings(result)[(EAST, None, "quota/ec2/L-1216C47A")]
    assert vcpu.details["usage_source"].startswith("AWS/Usage ResourceCount")
    assert vcpu.details["days_to_exhaustion"] == pytest.approx(11.1, abs=0.3)
    assert "runs out in about" in vcpu.message
    assert all(f.account == DEMO_ACCOUNT for f in result.findings)


def test_low_quotas_are_measured_but_not_reported(demo_sim: Simulator, now) -> None:
    result = run(demo_sim, now)
    counted = region_part(result, EAST, CountedUsage).readings
    usage = {code: r.value for (_, code), r in counted.items()}
    # (the default VPC, the demo VPC and one more), demo clusters, IAM roles and one OIDC provider per cluster
    assert usage["L-F678F1CE"] == 3 and usage["L-1194D53C"] == 4
    assert usage["L-FE177D64"] == 64 and usage["L-858F3967"] == len(DEMO_FLEET)
    assert usage["L-69A177A2"] == 1 and usage["L-B22855CB"] == 6 and usage["L-DF5E4CA3"] == 24
    west = region_part(result, WEST, MetricUsage).readings
    assert west[("ec2", VCPU)].value == 120


def test_applied_value_or_else_the_aws_default(demo_sim: Simulator, now) -> None:
    result = run(demo_sim, now)
    limits = region_part(result, EAST, QuotaLimits)
    assert limits.get(("ec2", VCPU)).source == "applied" and limits.get(("ec2", VCPU)).value == 1920
    nodes = limits.get(("eks", "L-BD136A63"))
    assert (nodes.source, nodes.value) == ("default", 450)
    oidc = limits.get(("iam", "L-858F3967"))
    assert (oidc.source, oidc.value) == ("default", 100)
    finding = quota_findings(result)[
        (EAST, "payments-prod", "nodegroup/payments-workers/quota/eks/L-BD136A63")
    ]
    assert finding.details["limit_source"] == "default"
    # the default list is read only for services with a catalogue quota lacking an applied value
    default_calls = {
        (r, op) for s, r, op in demo_sim.calls("servicequotas") if op == "ListAWSDefaultServiceQuotas"
    }
    assert default_calls == {(EAST, "ListAWSDefaultServiceQuotas"), (WEST, "ListAWSDefaultServiceQuotas")}


def test_a_quota_missing_in_a_region_is_skipped_with_a_note_not_an_error(demo_sim: Simulator, now) -> None:
    result = run(demo_sim, now)
    skipped = region_part(result, WEST, QuotaLimits).skipped
    assert [(s.service_code, s.quota_code) for s in skipped] == [("ec2", "L-2C3B7624")]
    assert region_part(result, EAST, QuotaLimits).get(("ec2", "L-2C3B7624")) is not None
    assert errors(result) == []


def test_a_service_unknown_in_a_region_is_skipped_too(demo_sim: Simulator, now) -> None:
    demo_sim.extension(ServiceQuotasExtension).unavailable.add((WEST, "elasticloadbalancing"))
    result = run(demo_sim, now)
    skipped = {s.quota_code for s in region_part(result, WEST, QuotaLimits).skipped}
    assert {"L-53DA6B97", "L-69A177A2", "L-B22855CB"} <= skipped
    assert errors(result) == []
    assert (WEST, None, "quota/elasticloadbalancing/L-53DA6B97") not in quota_findings(result)


def test_every_page_is_read(demo_sim: Simulator, now) -> None:
    limits_collector.PAGE_SIZES.update({"servicequotas": 3})
    usage_collectors.PAGE_SIZES.update({"eks": 2, "elbv2": 2})
    demo_sim.extension(CloudWatchExtension).max_datapoints_per_call = 50
    result = run(demo_sim, now)
    assert {k: f.details["percent"] for k, f in quota_findings(result).items()} == {
        (EAST, None, "quota/ec2/L-0263D0A3"): 96.7,
        (EAST, None, "quota/ec2/L-1216C47A"): 85.0,
        (EAST, "payments-prod", "nodegroup/payments-workers/quota/eks/L-BD136A63"): 97.1,
        (WEST, None, "quota/elasticloadbalancing/L-53DA6B97"): 85.0,
        (WEST, "ml-training", "quota/eks/L-33415657"): 90.0,
    }
    calls = result.api_calls.calls
    assert calls["service-quotas.ListServiceQuotas"] > 40  # ec2 alone has 117 quotas
    assert calls["cloudwatch.GetMetricData"] > len(DEMO_REGIONS)  # 168 hourly points a series
    assert calls["elbv2.DescribeLoadBalancers"] >= 9 + 2  # 17 + 2 load balancers in eu-west-1
    assert calls["eks.ListFargateProfiles"] > len(DEMO_FLEET)  # ml-training has 9 profiles
    assert len(region_part(result, EAST, MetricUsage).readings[("ec2", VCPU)].history) == 168


def test_api_calls_grow_with_regions_and_clusters_not_quotas(demo_sim: Simulator, now) -> None:
    result = run(demo_sim, now)
    calls = result.api_calls.calls
    regions, clusters = len(DEMO_REGIONS), len(DEMO_FLEET)
    nodegroups = sum(len(c.nodegroups) for c in DEMO_FLEET)
    assert calls["cloudwatch.GetMetricData"] == regions  # every vCPU class of a region in one call
    assert calls["service-quotas.ListServiceQuotas"] == 2 * regions + 3 * regions + 1  # ec2 2 pages; iam once
    assert calls["eks.ListNodegroups"] == calls["eks.ListFargateProfiles"] == clusters
    assert calls["eks.DescribeNodegroup"] == nodegroups
    assert calls["iam.GetAccountSummary"] == calls["iam.ListOpenIDConnectProviders"] == 1
    assert calls["eks.ListClusters"] == regions  # the Clusters quota reuses the cluster list
    assert calls["elbv2.DescribeLoadBalancers"] == regions  # ALBs and NLBs from one answer
    assert "service-quotas.GetServiceQuota" not in calls
    # per region at most 20 (quota lists, one metric call, the counts), per cluster 2, per node group 1
    assert result.api_calls.total <= 20 * regions + 2 * clusters + nodegroups


def test_usage_metric_wins_and_a_count_fills_in_when_it_has_no_data(demo_sim: Simulator, now) -> None:
    # Given AWS publishes a usage metric for Elastic IPs too, with data only in us-east-1
    sq = demo_sim.extension(ServiceQuotasExtension)
    vcpu_metric = sq.quotas[("ec2", VCPU)].usage_metric
    eip_metric = {
        **vcpu_metric,
        "MetricDimensions": {"Service": "EC2", "Type": "Resource", "Resource": "ElasticIPs"},
    }
    sq.quotas[("ec2", EIPS)] = type(sq.quotas[("ec2", EIPS)])(
        "ec2", EIPS, "EC2-VPC Elastic IPs", 5, usage_metric=eip_metric
    )
    demo_sim.extension(CloudWatchExtension).put(
        DEMO_ACCOUNT,
        EAST,
        "AWS/Usage",
        "ResourceCount",
        eip_metric["MetricDimensions"],
        [(now.replace(hour=11), 21.0)],
    )
    result = run(demo_sim, now)
    east = quota_findings(result).get((EAST, None, "quota/ec2/L-0263D0A3"))
    assert east is None  # 21 of 30 from the metric: 70 %, not the 29 a count would give
    assert region_part(result, EAST, MetricUsage).readings[("ec2", EIPS)].value == 21
    assert ("ec2", EIPS) not in region_part(result, EAST, CountedUsage).readings
    assert ("ec2", EIPS) in region_part(result, WEST, MetricUsage).no_data
    assert region_part(result, WEST, CountedUsage).readings[("ec2", EIPS)].value == 2


def test_global_quotas_are_read_once_per_account_in_the_first_region(demo_sim: Simulator, now) -> None:
    result = run(demo_sim, now, parse_settings({"regions": [WEST, EAST]}))
    assert region_part(result, WEST, QuotaLimits).reports_global
    assert not region_part(result, EAST, QuotaLimits).reports_global
    assert ("iam", "L-FE177D64") in region_part(result, WEST, CountedUsage).readings
    assert ("iam", "L-FE177D64") not in region_part(result, EAST, CountedUsage).readings
    iam_quota_calls = {r for s, r, op in demo_sim.calls("servicequotas") if op == "ListServiceQuotas"}
    assert iam_quota_calls == {EAST, WEST}
    assert result.api_calls.calls["iam.GetAccountSummary"] == 1


def test_cluster_filter_does_not_hide_clusters_from_the_cluster_quota(demo_sim: Simulator, now) -> None:
    settings = parse_settings({"regions": list(DEMO_REGIONS), "clusters": {"include": ["payments-*"]}})
    result = run(demo_sim, now, settings)
    assert [c.name for c in result.clusters] == ["payments-prod"]
    assert region_part(result, EAST, CountedUsage).readings[("eks", "L-1194D53C")].value == 4


def test_per_quota_thresholds_from_the_configuration(demo_sim: Simulator, now) -> None:
    settings = parse_settings(
        {
            "regions": list(DEMO_REGIONS),
            "checks": {
                "thresholds": {
                    "quota.utilization": {
                        "warning_percent": 50,
                        "quotas": {EIPS: {"enabled": False}, "eks/L-BD136A63": {"critical_percent": 99}},
                    }
                }
            },
        }
    )
    found = {k: f.severity for k, f in quota_findings(run(demo_sim, now, settings)).items()}
    assert (EAST, None, "quota/ec2/L-0263D0A3") not in found
    assert (
        found[(EAST, "payments-prod", "nodegroup/payments-workers/quota/eks/L-BD136A63")] is Severity.WARNING
    )
    assert found[(EAST, None, "quota/vpc/L-F678F1CE")] is Severity.WARNING  # 3 of 5 VPCs: 60 % >= 50 %


# -- failures: each hides its quota or region only -------------------------------------------------------
def test_access_denied_on_service_quotas_in_one_region(demo_sim: Simulator, now) -> None:
    demo_sim.fault("servicequotas", region=WEST, code="AccessDeniedException", status=400)
    result = run(demo_sim, now)
    assert errors(result) == [(WEST, None, "source/servicequotas:ListServiceQuotas", "AccessDeniedException")]
    found = quota_findings(result)
    assert {k for k in found if k[0] == WEST} == set()
    assert {k for k in found if k[0] == EAST} == {
        (EAST, None, "quota/ec2/L-0263D0A3"),
        (EAST, None, "quota/ec2/L-1216C47A"),
        (EAST, "payments-prod", "nodegroup/payments-workers/quota/eks/L-BD136A63"),
    }
    # one denied answer is enough: the other services are not asked again
    assert len([c for c in demo_sim.calls("servicequotas") if c[1] == WEST]) == 1


def test_access_denied_on_cloudwatch_loses_only_the_metric_quotas(demo_sim: Simulator, now) -> None:
    demo_sim.fault("monitoring", region=EAST, operation="GetMetricData", code="AccessDenied", status=403)
    result = run(demo_sim, now)
    assert errors(result) == [(EAST, None, "source/cloudwatch:GetMetricData", "AccessDenied")]
    found = quota_findings(result)
    assert (EAST, None, "quota/ec2/L-1216C47A") not in found
    assert (EAST, None, "quota/ec2/L-0263D0A3") in found and len(found) == 4


def test_throttling_that_clears_after_retries_is_invisible(demo_sim: Simulator, now) -> None:
    fault = demo_sim.fault(
        "servicequotas", operation="ListServiceQuotas", code="TooManyRequestsException", times=2
    )
    settings = parse_settings({"regions": list(DEMO_REGIONS), "aws": {"retry_mode": "standard"}})
    result = run(demo_sim, now, settings)
    assert fault.hits == 2 and errors(result) == []
    assert len(quota_findings(result)) == 5
    assert result.api_calls.attempts > result.api_calls.total


def test_throttling_past_the_retries_loses_that_service_only(demo_sim: Simulator, now) -> None:
    # the first ListServiceQuotas of us-east-1 is eks's; it is throttled for longer than its budget (here
    # none: botocore's 2 attempts only), the later ones answer
    demo_sim.fault(
        "servicequotas", region=EAST, operation="ListServiceQuotas", code="TooManyRequestsException", times=2
    )
    settings = parse_settings(
        {
            "regions": list(DEMO_REGIONS),
            "aws": {"retry_mode": "standard", "max_attempts": 2, "throttle_budget_seconds": 0},
        }
    )
    result = run(demo_sim, now, settings)
    assert errors(result) == [
        (EAST, None, "source/servicequotas:ListServiceQuotas/eks", "TooManyRequestsException")
    ]
    found = quota_findings(result)
    assert (EAST, "payments-prod", "nodegroup/payments-workers/quota/eks/L-BD136A63") not in found
    assert (EAST, None, "quota/ec2/L-0263D0A3") in found and (
        WEST,
        "ml-training",
        "quota/eks/L-33415657",
    ) in found


def test_a_quota_with_an_error_reason_is_reported_alone(demo_sim: Simulator, now) -> None:
    demo_sim.extension(ServiceQuotasExtension).set_error(
        DEMO_ACCOUNT, EAST, "ec2", EIPS, "DEPENDENCY_THROTTLING_ERROR", "EC2 throttled the quota lookup"
    )
    result = run(demo_sim, now)
    (err,) = [f for f in result.findings if f.check == COLLECTION_ERROR]
    assert (err.region, err.cluster, err.resource) == (EAST, None, "source/servicequotas:ec2/L-0263D0A3")
    assert err.details["error_code"] == "DEPENDENCY_THROTTLING_ERROR"
    assert "EC2 throttled the quota lookup" in err.message
    found = quota_findings(result)
    assert (EAST, None, "quota/ec2/L-0263D0A3") not in found and len(found) == 4


def test_a_forbidden_usage_metric_is_reported_for_that_quota(demo_sim: Simulator, now) -> None:
    demo_sim.extension(CloudWatchExtension).query_status[("AWS/Usage", "ResourceCount")] = (
        "Forbidden",
        "no access to AWS/Usage",
    )
    result = run(demo_sim, now)
    resources = {(r, res) for r, _, res, code in errors(result) if code == "Forbidden"}
    assert (EAST, "source/cloudwatch:GetMetricData/ec2/L-1216C47A") in resources
    assert all(res.startswith("source/cloudwatch:GetMetricData/ec2/") for _, res in resources)
    assert len(quota_findings(result)) == 4


def test_a_failing_count_loses_only_its_quota(demo_sim: Simulator, now) -> None:
    demo_sim.fault(
        "ec2", region=EAST, operation="DescribeAddresses", code="UnauthorizedOperation", status=403
    )
    result = run(demo_sim, now)
    assert errors(result) == [(EAST, None, "source/ec2:DescribeAddresses", "UnauthorizedOperation")]
    assert len(quota_findings(result)) == 4
    assert ("vpc", "L-F678F1CE") in region_part(result, EAST, CountedUsage).readings


def test_a_failing_cluster_source_is_reported_for_that_cluster(demo_sim: Simulator, now) -> None:
    demo_sim.fault(
        "eks", operation="GET /clusters/payments-prod/node-groups", code="AccessDeniedException", status=403
    )
    result = run(demo_sim, now)
    assert errors(result) == [(EAST, "payments-prod", "source/eks:ListNodegroups", "AccessDeniedException")]
    payments = next(c for c in result.clusters if c.name == "payments-prod")
    assert [r.key for r in payments.get(ClusterQuotaUsage).readings] == [("eks", "L-33415657")]
    assert (WEST, "ml-training", "quota/eks/L-33415657") in quota_findings(result)


def test_a_broken_service_quotas_endpoint_is_one_error_and_no_more_calls(demo_sim: Simulator, now) -> None:
    demo_sim.fault("servicequotas", region=WEST, code="InternalFailure", status=500)
    settings = parse_settings(
        {"regions": list(DEMO_REGIONS), "aws": {"retry_mode": "standard", "max_attempts": 2}}
    )
    result = run(demo_sim, now, settings)
    assert errors(result) == [(WEST, None, "source/servicequotas:ListServiceQuotas", "InternalFailure")]
    assert len([c for c in demo_sim.calls("servicequotas") if c[1] == WEST]) == 2  # one call and its retry
    assert {k[0] for k in quota_findings(result)} == {EAST}


def test_a_call_both_monitors_make_is_sent_once_and_reported_once(demo_sim: Simulator, now) -> None:
    demo_sim.fault(
        "eks", operation="GET /clusters/payments-prod/node-groups", code="AccessDeniedException", status=403
    )
    result = scan(
        SETTINGS, now, patterns=["version.*", "quota.*"], session_factory=demo_sim.session_factory()
    )
    failed = sorted(f.resource for f in result.findings if f.check == COLLECTION_ERROR)
    # one request (the scan's memo), one root cause, one finding
    assert failed == ["source/eks:ListNodegroups"]
    assert len([c for c in demo_sim.calls("eks") if c[2] == "GET /clusters/payments-prod/node-groups"]) == 1
    fingerprints = [f.fingerprint for f in result.findings]
    assert len(fingerprints) == len(set(fingerprints))
