"""etcd.db_size as a pure function: thresholds, sources, the tier's own limit, and bad data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eksmon.checks.etcd_db_size import EtcdDbSizeThresholds, etcd_db_size, etcd_size, etcd_size_points
from eksmon.collectors.control_plane_metrics import CONTAINER_INSIGHTS
from eksmon.errors import ConfigError
from eksmon.models import Severity, Unevaluated
from eksmon.settings import parse_settings
from tests.unit.metrics_builders import GIB, NOW, QUOTA, cloudwatch, cw, replica, scraped, series, snapshot

SIZE = "etcd_mvcc_db_total_size_in_use_in_bytes"


T = EtcdDbSizeThresholds()


def size_snapshot(bytes_: float, *, age: timedelta = timedelta(minutes=5), **kwargs):
    step = timedelta(minutes=5)
    cw = cloudwatch(size=series(SIZE, [bytes_], end=NOW - age + step, step=step, stat="Maximum"))
    return snapshot(cw, scraped(), **kwargs)


@pytest.mark.parametrize(
    ("percent", "severity"),
    [
        (79.99, None),
        (80.0, Severity.WARNING),
        (94.99, Severity.WARNING),
        (95.0, Severity.CRITICAL),
        (96.0, Severity.CRITICAL),
        (100.0, Severity.CRITICAL),
        (104.0, Severity.CRITICAL),
    ],
)
def test_db_size_severity_at_the_boundaries(percent, severity) -> None:
    problems = list(etcd_db_size(size_snapshot(QUOTA * percent / 100), T, NOW))
    assert [p.severity for p in problems] == ([severity] if severity else [])


def test_db_size_finding_carries_the_numbers_and_the_consequence() -> None:
    (p,) = etcd_db_size(size_snapshot(0.96 * QUOTA), T, NOW)
    assert p.resource == "etcd"
    assert p.details["bytes"] == int(0.96 * QUOTA)
    assert p.details["percent"] == 96.0
    assert p.details["metric"] == SIZE
    assert p.details["source"] == "AWS/EKS"
    assert "7.68 GiB" in p.message and "96.0 %" in p.message and "8.00 GiB" in p.message
    assert "stops accepting writes" in p.message
    assert "96.0 %" in (p.title or "")


def test_db_size_full_quota_says_writes_are_refused() -> None:
    (p,) = etcd_db_size(size_snapshot(QUOTA + 1), T, NOW)
    assert p.severity is Severity.CRITICAL
    assert "accepts no writes" in p.message and "refused" in (p.title or "")


def test_db_size_thresholds_and_quota_are_configurable() -> None:
    t = EtcdDbSizeThresholds(warning_percent=50, critical_percent=60, quota_bytes=4 * GIB)
    (p,) = etcd_db_size(size_snapshot(2.5 * GIB), t, NOW)
    assert p.severity is Severity.CRITICAL and p.details["percent"] == 62.5


def test_db_size_thresholds_are_validated_with_the_key_named() -> None:
    with pytest.raises(ConfigError, match=r"checks\.thresholds\.etcd\.db_size.*critical_percent"):
        parse_settings(
            {"checks": {"thresholds": {"etcd.db_size": {"warning_percent": 90, "critical_percent": 85}}}}
        )
    with pytest.raises(ConfigError, match=r"etcd\.db_size\.warning_pct: unknown key"):
        parse_settings({"checks": {"thresholds": {"etcd.db_size": {"warning_pct": 90}}}})


def test_db_size_falls_back_to_metrics_when_cloudwatch_has_no_series() -> None:
    snap = snapshot(cloudwatch(), scraped(replica(etcd=("apiserver_storage_size_bytes", 0.9 * QUOTA))))
    (p,) = etcd_db_size(snap, T, NOW)
    assert p.severity is Severity.WARNING
    assert p.details["source"] == "/metrics" and p.details["metric"] == "apiserver_storage_size_bytes"
    assert "read now" in p.message


def test_db_size_prefers_fresh_metrics_over_a_stale_cloudwatch_point() -> None:
    stale = size_snapshot(0.5 * QUOTA, age=timedelta(hours=3))
    stale.parts[type(scraped())] = scraped(replica(etcd=("apiserver_storage_size_bytes", 0.97 * QUOTA)))
    (p,) = etcd_db_size(stale, T, NOW)
    assert p.details["source"] == "/metrics" and p.severity is Severity.CRITICAL


def test_db_size_uses_a_stale_cloudwatch_point_when_nothing_fresher_exists_and_says_so() -> None:
    (p,) = etcd_db_size(size_snapshot(0.85 * QUOTA, age=timedelta(hours=3)), T, NOW)
    assert p.details["source"] == "AWS/EKS"
    assert "the latest point CloudWatch has" in p.message
    assert p.details["observed_at"] == "2026-11-26T09:00:00Z"


def test_db_size_ignores_points_after_now_clock_skew() -> None:
    future = cloudwatch(size=series(SIZE, [0.99 * QUOTA], end=NOW + timedelta(hours=1), stat="Maximum"))
    assert etcd_size(snapshot(future, scraped()), NOW) is None


def test_db_size_prefers_the_largest_metrics_series_of_the_first_family_present() -> None:
    snap = snapshot(
        cloudwatch(),
        scraped(
            replica(1.0, etcd=("apiserver_storage_size_bytes", 2 * GIB)),
            replica(2.0, etcd=("apiserver_storage_size_bytes", 3 * GIB)),
            replica(3.0, etcd=("etcd_db_total_size_in_bytes", 7.9 * GIB)),
        ),
    )
    found = etcd_size(snap, NOW)
    assert found is not None and found.bytes == 3 * GIB and found.metric == "apiserver_storage_size_bytes"


def test_db_size_reports_containerinsights_as_its_source() -> None:
    cw = cloudwatch(
        size=series("apiserver_storage_size_bytes", [7 * GIB], namespace=CONTAINER_INSIGHTS, stat="Maximum")
    )
    (p,) = etcd_db_size(snapshot(cw, scraped()), T, NOW)
    assert p.details["source"] == "ContainerInsights"


def test_db_size_unknown_is_unevaluated_naming_what_was_looked_for() -> None:
    (p,) = etcd_db_size(snapshot(cloudwatch(), scraped(replica(etcd=None))), T, NOW)
    assert isinstance(p, Unevaluated)  # gathered into monitor.coverage, not a finding of its own
    assert "apiserver_storage_size_bytes" in p.reason and "etcd_db_total_size_in_bytes" in p.reason


def test_db_size_is_judged_from_cloudwatch_when_metrics_was_never_collected() -> None:
    # Kubernetes access off: the engine skips the scrape and there is no /metrics part at all
    cw = cloudwatch(size=series(SIZE, [0.9 * QUOTA], stat="Maximum"))
    (p,) = etcd_db_size(snapshot(cw, None), T, NOW)
    assert p.severity is Severity.WARNING and p.details["source"] == "AWS/EKS"
    (unknown,) = etcd_db_size(snapshot(cloudwatch(), None), T, NOW)
    assert isinstance(unknown, Unevaluated) and "/metrics was not read" in unknown.reason


def test_db_size_unknown_because_kubernetes_is_off_says_so() -> None:
    (p,) = etcd_db_size(snapshot(cloudwatch(), scraped(skipped="Kubernetes access is turned off")), T, NOW)
    assert isinstance(p, Unevaluated) and "turned off" in p.reason


@pytest.mark.parametrize(
    ("cw", "scrape", "status"),
    [
        (cloudwatch(error="AccessDenied"), scraped(), "ACTIVE"),  # already a collection error
        (cloudwatch(), scraped(error="forbidden: get path /metrics"), "ACTIVE"),  # same
        (cloudwatch(), scraped(replica(truncated=True)), "ACTIVE"),  # the metric may be in the lost part
        (cloudwatch(), scraped(skipped="cluster is CREATING"), "CREATING"),  # nothing to measure yet
        (cloudwatch(), scraped(), "DELETING"),
    ],
)
def test_db_size_stays_silent_when_the_absence_proves_nothing(cw, scrape, status) -> None:
    assert list(etcd_db_size(snapshot(cw, scrape, status=status), T, NOW)) == []


def test_emf_points_give_bytes_and_percent_per_cluster() -> None:
    points = list(etcd_size_points(size_snapshot(0.96 * QUOTA), NOW))
    assert [(p.name, p.unit, p.dimensions) for p in points] == [
        ("EtcdDatabaseSizeBytes", "Bytes", {"ClusterName": "prod"}),
        ("EtcdDatabaseSizePercent", "Percent", {"ClusterName": "prod"}),
    ]
    assert points[0].value == 0.96 * QUOTA and points[1].value == 96.0
    assert list(etcd_size_points(snapshot(cloudwatch(), scraped()), NOW)) == []


def test_a_size_aws_eks_vends_for_free_is_drawn_but_not_bought_again() -> None:
    vended = list(etcd_size_points(size_snapshot(0.5 * QUOTA), NOW))
    scrape = scraped(replica(etcd=("apiserver_storage_size_bytes", 0.5 * QUOTA)))
    from_metrics = list(etcd_size_points(snapshot(cloudwatch(), scrape), NOW))
    quarter = scraped(replica(etcd=("apiserver_storage_size_bytes", 0.25 * QUOTA)))
    small = list(etcd_size_points(snapshot(cloudwatch(), quarter), NOW))
    assert [p.free for p in vended] == [True, True]  # AWS/EKS apiserver_storage_size_bytes: free
    assert [p.free for p in from_metrics] == [False, True]  # only /metrics knows: bytes bought, not percent
    assert [p.free for p in small] == [True, True]  # under half full: no graph needed


def etcd(bytes_: float, tier: str):
    size = series(SIZE, [bytes_], stat="Maximum", step=timedelta(minutes=5), end=NOW)
    return list(etcd_db_size(snapshot(cw(size=size), scraped(), tier=tier), EtcdDbSizeThresholds(), NOW))


def test_a_tier_xl_cluster_at_9_gib_raises_nothing() -> None:
    assert etcd(9 * GIB, "tier-xl") == []
    (standard,) = etcd(9 * GIB, "standard")
    assert standard.severity is Severity.CRITICAL


def test_etcd_limit_is_the_tiers_database_size() -> None:
    (p,) = etcd(15.5 * GIB, "tier-xl")
    assert p.severity is Severity.CRITICAL
    assert p.details["limit_bytes"] == 16 * GIB and p.details["tier"] == "tier-xl"
    assert p.details["percent"] == pytest.approx(96.88)
    (w,) = etcd(7 * GIB, "standard")
    assert w.details["limit_bytes"] == 8589934592 and w.severity is Severity.WARNING


def test_etcd_percent_metric_is_of_the_clusters_own_limit() -> None:
    size = series(SIZE, [8 * GIB], stat="Maximum", step=timedelta(minutes=5))
    points = {p.name: p.value for p in etcd_size_points(snapshot(cw(size=size), tier="tier-2xl"), NOW)}
    assert points["EtcdDatabaseSizePercent"] == 50.0
