"""quota.utilization as a pure function: thresholds, fallbacks, trends and what a person reads."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from eksmon.checks.quota_utilization import (
    CHECK_ID,
    QuotaUtilizationThresholds,
    assess,
    cluster_quota_utilization,
    days_to_exhaustion,
    quota_utilization_percent,
    region_quota_utilization,
)
from eksmon.collectors.quota_limits import QuotaLimit, QuotaLimits
from eksmon.collectors.quota_usage import ClusterQuotaUsage, CountedUsage, MetricUsage, UsageReading
from eksmon.errors import ConfigError
from eksmon.models import Severity
from eksmon.quotas_catalogue import BY_CODE
from eksmon.registry import load
from eksmon.settings import parse_settings
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot
from tests.conftest import utc

NOW = utc(2026, 11, 26, 12)
DEFAULTS = QuotaUtilizationThresholds()
EIPS = "L-0263D0A3"
VCPU = "L-1216C47A"
NODES = "L-BD136A63"
FARGATE = "L-33415657"
ROLES = "L-FE177D64"


def limit(code: str, value: float, source: str = "applied", adjustable: bool = True) -> QuotaLimit:
    q = BY_CODE[code]
    return QuotaLimit(q, q.name, value, source, adjustable)  # type: ignore[arg-type]


def reading(code: str, value: float, **kw) -> UsageReading:
    return UsageReading(BY_CODE[code].key, value, kw.pop("source", "test"), **kw)


def hourly(values: list[float], end: datetime = NOW) -> tuple[tuple[datetime, float], ...]:
    start = end - timedelta(hours=len(values) - 1)
    return tuple((start + timedelta(hours=i), float(v)) for i, v in enumerate(values))


def severity(usage: float, cap: float, t: QuotaUtilizationThresholds = DEFAULTS) -> Severity | None:
    p = assess(limit(EIPS, cap), reading(EIPS, usage), t, "us-east-1", NOW)
    return p.severity if p else None


# -- thresholds -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("usage", "cap", "expected"),
    [
        (0, 30, None),
        (23, 30, None),  # 76.7 %
        (79.99, 100, None),
        (80, 100, Severity.WARNING),  # "≥ 80 %"
        (94.99, 100, Severity.WARNING),
        (95, 100, Severity.CRITICAL),
        (100, 100, Severity.CRITICAL),
        (120, 100, Severity.CRITICAL),  # over the limit (a limit lowered below usage)
        (0, 0, None),  # a zero quota nobody uses
        (4, 0, Severity.CRITICAL),  # a zero quota in use
    ],
)
def test_default_thresholds(usage: float, cap: float, expected: Severity | None) -> None:
    assert severity(usage, cap) is expected


def test_details_carry_the_numbers_named_in_the_spec() -> None:
    p = assess(limit(EIPS, 30), reading(EIPS, 29, source="ec2:DescribeAddresses"), DEFAULTS, "us-east-1", NOW)
    assert p is not None
    assert {
        k: p.details[k] for k in ("service_code", "quota_code", "quota_name", "usage", "limit", "percent")
    } == {
        "service_code": "ec2",
        "quota_code": EIPS,
        "quota_name": "EC2-VPC Elastic IPs",
        "usage": 29,
        "limit": 30,
        "percent": 96.7,
    }
    assert p.details["limit_source"] == "applied" and p.details["usage_source"] == "ec2:DescribeAddresses"
    assert p.resource == "quota/ec2/L-0263D0A3"
    assert "29 of 30" in p.message and "96.7 %" in p.message and "NAT gateway" in p.message
    assert "--quota-code L-0263D0A3" in p.remediation and "--region us-east-1" in p.remediation
    assert "release Elastic IPs" in p.remediation


def test_a_zero_limit_in_use_has_no_percent_but_says_why() -> None:
    p = assess(limit(VCPU, 0), reading(VCPU, 8), DEFAULTS, "us-east-1", NOW)
    assert p is not None and p.details["percent"] is None
    assert "more than the quota of 0" in p.message


def test_default_value_is_named_as_such() -> None:
    p = assess(limit(EIPS, 5, source="default"), reading(EIPS, 5), DEFAULTS, "eu-west-1", NOW)
    assert p is not None and p.details["limit_source"] == "default"
    assert "AWS default value; no increase is applied" in p.message


def test_not_adjustable_quota_is_not_sent_to_an_increase_request() -> None:
    p = assess(limit(EIPS, 30, adjustable=False), reading(EIPS, 29), DEFAULTS, "us-east-1", NOW)
    assert (
        p is not None
        and "cannot be raised" in p.remediation
        and "request-service-quota-increase" not in p.remediation
    )


def test_global_quota_remediation_points_at_the_global_region() -> None:
    p = assess(limit(ROLES, 1000), reading(ROLES, 990), DEFAULTS, "eu-west-1", NOW)
    assert p is not None and "--region us-east-1" in p.remediation
    assert p.message.startswith("The account (IAM quotas hold for all regions)")


def test_per_quota_overrides_by_code_or_service_and_code() -> None:
    t = QuotaUtilizationThresholds.model_validate(
        {
            "warning_percent": 70,
            "quotas": {
                EIPS: {"warning_percent": 50, "critical_percent": 60},
                f"ec2/{VCPU}": {"enabled": False},
            },
        }
    )
    assert severity(16, 30, t) is Severity.WARNING  # 53 %
    assert severity(19, 30, t) is Severity.CRITICAL  # 63 %
    assert assess(limit(VCPU, 10), reading(VCPU, 10), t, "us-east-1", NOW) is None
    roles = assess(limit(ROLES, 100), reading(ROLES, 72), t, "us-east-1", NOW)  # global 70 % applies
    assert roles is not None and roles.severity is Severity.WARNING


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"warning_percent": 90, "critical_percent": 85},
            "critical_percent (85) must not be below warning_percent (90)",
        ),
        (
            {"quotas": {EIPS: {"critical_percent": 50}}},
            f"quotas.{EIPS}: critical_percent (50) must not be below",
        ),
        ({"quotas": {"L-12345": {}}}, "quotas.L-12345: not a quota code"),
        ({"quotas": {"L-AAAAAAAA": {}}}, "quotas.L-AAAAAAAA: eksmon does not watch this quota"),
        ({"quotas": {f"vpc/{EIPS}": {}}}, f"quotas.vpc/{EIPS}: eksmon does not watch this quota"),
        ({"quotas": {EIPS: {"warn": 50}}}, "warn: unknown key"),
        ({"warning_percent": 0}, "greater than 0"),
    ],
)
def test_bad_thresholds_name_the_key(values: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings({"checks": {"thresholds": {CHECK_ID: values}}})
    assert "checks.thresholds.quota.utilization" in str(err.value)
    assert message in str(err.value)


def test_thresholds_from_the_configuration_file_reach_the_check() -> None:
    settings = parse_settings(
        {"checks": {"thresholds": {CHECK_ID: {"quotas": {EIPS: {"warning_percent": 50}}}}}}
    )
    spec = load().checks[CHECK_ID]
    t = settings.thresholds_for(spec)
    assert isinstance(t, QuotaUtilizationThresholds) and t.levels(BY_CODE[EIPS]) == (50, 95, True)


# -- days to exhaustion ---------------------------------------------------------------------------------
def test_linear_growth_gives_days_to_exhaustion() -> None:
    history = hourly([1000 + h for h in range(49)])  # +24 a day over two days, now at 1048
    days, growth = days_to_exhaustion(history, 1120, NOW)
    assert growth == 24.0 and days == 3.0


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (hourly([50] * 48), (None, 0.0)),  # flat
        (hourly([100 - h for h in range(48)]), (None, -24.0)),  # falling
        (hourly([1, 2, 3, 4, 5]), (None, None)),  # too few points
        (hourly([1, 2, 3, 4, 5, 6, 7, 8]), (None, None)),  # less than a day
        ((), (None, None)),
    ],
)
def test_no_days_to_exhaustion_without_growth_or_history(history, expected) -> None:
    assert days_to_exhaustion(history, 100, NOW) == expected


def test_at_or_over_the_limit_is_zero_days_and_points_after_now_are_ignored() -> None:
    history = hourly([90 + h for h in range(30)])  # reaches 119
    assert days_to_exhaustion(history, 100, NOW)[0] == 0.0
    future = (*hourly([10] * 30), (NOW + timedelta(hours=5), 1000.0))
    assert days_to_exhaustion(future, 100, NOW) == (None, 0.0)


def test_trend_is_in_the_message_and_can_warn_early_when_asked() -> None:
    history = hourly([1000 + h for h in range(49)])
    quiet = assess(limit(VCPU, 2000), reading(VCPU, 1048, history=history), DEFAULTS, "us-east-1", NOW)
    assert quiet is None  # 52 %: the trend alone does not warn by default
    early = QuotaUtilizationThresholds(warning_days_to_exhaustion=60)
    p = assess(limit(VCPU, 2000), reading(VCPU, 1048, history=history), early, "us-east-1", NOW)
    assert p is not None and p.severity is Severity.WARNING
    assert p.details["days_to_exhaustion"] == 39.7 and p.details["growth_per_day"] == 24.0
    assert "runs out in about 39.7 days" in p.message


# -- scopes ---------------------------------------------------------------------------------------------
def region_snapshot(
    limits: list[QuotaLimit], counted: list[UsageReading] = (), metric: list[UsageReading] = ()
) -> RegionSnapshot:
    snap = RegionSnapshot("123456789012", "us-east-1")
    snap.parts[QuotaLimits] = QuotaLimits(tuple(limits))
    snap.parts[CountedUsage] = CountedUsage({r.key: r for r in counted})
    snap.parts[MetricUsage] = MetricUsage({r.key: r for r in metric})
    return snap


def cluster_snapshot(region: RegionSnapshot, name: str, readings: list[UsageReading]) -> ClusterSnapshot:
    c = ClusterSnapshot(region.account, region.region, name, region)
    c.parts[ClusterQuotaUsage] = ClusterQuotaUsage(tuple(readings))
    region.clusters.append(c)
    return c


def test_region_half_reports_region_and_account_quotas_only() -> None:
    snap = region_snapshot(
        [limit(EIPS, 30), limit(VCPU, 100), limit(FARGATE, 10), limit(ROLES, 1000)],
        counted=[reading(EIPS, 29), reading(ROLES, 10)],
        metric=[reading(VCPU, 99)],
    )
    found = {p.resource: p.severity for p in region_quota_utilization(snap, DEFAULTS, NOW)}
    assert found == {"quota/ec2/L-0263D0A3": Severity.CRITICAL, "quota/ec2/L-1216C47A": Severity.CRITICAL}


def test_a_quota_without_a_reading_is_not_reported() -> None:
    snap = region_snapshot([limit(EIPS, 30)])
    assert list(region_quota_utilization(snap, DEFAULTS, NOW)) == []


def test_cluster_half_uses_the_region_limits_and_names_the_node_group() -> None:
    region = region_snapshot([limit(NODES, 450, source="default"), limit(FARGATE, 10)])
    cluster = cluster_snapshot(
        region,
        "payments-prod",
        [
            reading(
                NODES,
                437,
                resource="payments-workers",
                details={"nodegroup": "payments-workers", "max_size": 500},
            ),
            reading(NODES, 3, resource="system", details={"nodegroup": "system", "max_size": 10}),
            reading(FARGATE, 8),
        ],
    )
    found = {p.resource: p for p in cluster_quota_utilization(cluster, DEFAULTS, NOW)}
    assert set(found) == {"nodegroup/payments-workers/quota/eks/L-BD136A63", "quota/eks/L-33415657"}
    ng = found["nodegroup/payments-workers/quota/eks/L-BD136A63"]
    assert ng.severity is Severity.CRITICAL and ng.details["nodegroup"] == "payments-workers"
    assert ng.title == "Node group payments-workers: 437 of 450 nodes (97.1 %)"
    assert "maxSize (500) is above the quota" in ng.message
    assert found["quota/eks/L-33415657"].message.startswith("Cluster payments-prod uses 8 of 10")


def test_one_check_id_one_registry_entry_reading_region_and_cluster_parts() -> None:
    registry = load()
    spec = registry.checks[CHECK_ID]
    assert spec.scope == "region" and spec.monitor == "quotas"
    assert [c.id for c in registry.select(["quota.*"])] == [CHECK_ID]
    assert {c.id for c in registry.select(["quota.*"], disabled=[CHECK_ID])} == set()
    provided = [c.provides.__name__ for c in registry.collectors_for([spec])]
    assert {"QuotaLimits", "MetricUsage", "CountedUsage", "ClusterQuotaUsage"} <= set(provided)
    # the cluster list comes before the counts, so the Clusters quota can reuse it
    assert provided.index("ClusterNames") < provided.index("CountedUsage")


def test_utilisation_metric_per_quota_takes_the_worst_cluster() -> None:
    region = region_snapshot(
        [limit(EIPS, 30), limit(NODES, 450), limit(VCPU, 0)],
        counted=[reading(EIPS, 3)],
        metric=[reading(VCPU, 4)],
    )
    cluster_snapshot(region, "a", [reading(NODES, 45, resource="x"), reading(NODES, 400, resource="y")])
    cluster_snapshot(region, "b", [reading(NODES, 90, resource="z")])
    points = {
        (p.dimensions["Service"], p.dimensions["QuotaCode"]): p
        for p in quota_utilization_percent(region, NOW)
    }
    assert set(points) == {("ec2", EIPS), ("eks", NODES)}  # a zero limit has no percentage
    assert points[("eks", NODES)].value == 88.89 and points[("ec2", EIPS)].value == 10.0
    assert all(p.name == "QuotaUtilization" and p.unit == "Percent" for p in points.values())
    assert points[("eks", NODES)].free is False  # counted, 89 %: no AWS/Usage metric carries it
    assert points[("ec2", EIPS)].free is True  # 10 %: under PUBLISH_FROM_PERCENT, no graph needed


def test_a_quota_with_an_aws_usage_metric_is_not_published_again() -> None:
    region = region_snapshot(
        [limit(EIPS, 30), limit(VCPU, 64)], counted=[reading(EIPS, 27)], metric=[reading(VCPU, 60)]
    )
    free = {p.dimensions["QuotaCode"]: p.free for p in quota_utilization_percent(region, NOW)}
    assert free == {EIPS: False, VCPU: True}  # the dashboard divides AWS/Usage by SERVICE_QUOTA() itself
