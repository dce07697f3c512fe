"""The metrics monitor against the simulator, over HTTP: CloudWatch GetMetricData and each apiserver's /metrics.

The demo fleet's seeded problems come out with their numbers; every way a source can fail --
AccessDenied, a partial or paged CloudWatch answer, a forbidden, unreachable, slow, truncated or
garbled /metrics -- gives a collection error or an info for that cluster only, never a crash or a
false alarm, and never hides what the other source still shows.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from eksmon.collectors.control_plane_metrics import AWS_EKS, CONTAINER_INSIGHTS, REQUESTS
from eksmon.context import COLLECTION_ERROR
from eksmon.engine import ScanResult, scan
from eksmon.models import Finding, Severity
from eksmon.registry import KubePermission
from eksmon.settings import parse_settings
from eksmon.sim.cloudwatch import CloudWatchExtension
from eksmon.sim.control_plane_metrics import (
    GIB,
    ControlPlaneMetrics,
    DeprecatedApiSeed,
    Profile,
    Replicas,
    apiserver_metrics,
    replicas,
)
from eksmon.sim.eks import EksExtension
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_NOW, DEMO_REGIONS, DemoCluster
from eksmon.sim.kubernetes_api import KubeCluster, KubernetesApi
from eksmon.sim.server import Simulator

REGION = "us-east-1"
NOW = DEMO_NOW
QUOTA = 8 * GIB


def run(
    sim: Simulator,
    settings: dict[str, Any] | None = None,
    patterns: tuple[str, ...] = (),
    now: datetime = NOW,
) -> ScanResult:
    config = {"regions": [REGION], **(settings or {})}
    return scan(
        parse_settings(config),
        now,
        patterns=patterns,
        monitor=None if patterns else "metrics",
        session_factory=sim.session_factory(),
    )


def add(
    sim: Simulator,
    name: str,
    *,
    version: str = "1.31",
    profile: Profile | None = None,
    metrics: bytes | Callable[[], Iterator[bytes]] | None = None,
    status: str = "ACTIVE",
    region: str = REGION,
    namespace: str = AWS_EKS,
) -> KubeCluster:
    """One cluster: in EKS, in the Kubernetes stand-in, with CloudWatch series and /metrics as given."""
    sim.extension(EksExtension).add_cluster(DemoCluster(name, region, version, status=status), DEMO_ACCOUNT)
    kube: KubeCluster = sim.extension(KubernetesApi).cluster(DEMO_ACCOUNT, region, name, version)
    if profile is not None:
        sim.extension(ControlPlaneMetrics).seed_cluster(DEMO_ACCOUNT, region, name, profile, NOW, namespace)
    kube.set_metrics(metrics if metrics is not None else apiserver_metrics(version, etcd_bytes=1.5 * GIB))
    return kube


def by_key(result: ScanResult) -> dict[tuple[str, str | None, str], Finding]:
    return {(f.check, f.cluster, f.resource): f for f in result.findings}


def errors(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if f.check == COLLECTION_ERROR]


# -- the demo fleet ---------------------------------------------------------------------------------
def test_demo_fleet_seeded_problems_come_out_with_their_numbers(demo_sim: Simulator) -> None:
    result = run(demo_sim, {"regions": list(DEMO_REGIONS)})
    found = by_key(result)
    size = found[("etcd.db_size", "payments-prod", "etcd")]
    assert size.severity is Severity.CRITICAL
    assert size.details["percent"] == pytest.approx(96.0, abs=0.3)
    assert size.details["metric"] == "apiserver_storage_size_bytes"  # AWS/EKS's one etcd size series
    growth = found[("etcd.db_growth", "data-platform", "etcd")]
    assert growth.severity is Severity.WARNING
    assert growth.details["bytes_per_day"] == pytest.approx(1.2 * GIB, rel=0.03)
    assert growth.details["days_to_quota"] == pytest.approx(1.83, abs=0.1)
    assert growth.details["metric"] == "apiserver_storage_size_bytes"  # the older name, still read
    errors_5xx = found[("apiserver.error_rate", "ml-training", "apiserver/5xx")]
    assert errors_5xx.severity is Severity.CRITICAL and errors_5xx.details["percent"] == pytest.approx(
        8.3, abs=0.4
    )
    throttled = found[("apiserver.throttling", "ml-training", "apiserver/429")]
    assert throttled.details["requests_429"] == pytest.approx(1500, rel=0.05)
    assert found[("apiserver.latency", "ml-training", "apiserver/latency/GET")].severity is Severity.WARNING
    assert ("apiserver.latency", "ml-training", "apiserver/latency/LIST") not in found  # 2.6 s: within 30 s
    unreachable = found[("admission.webhook_rejections", "ml-training", "webhook/validate.kyverno.svc-fail")]
    assert (
        unreachable.details["rejections"] == 1283 + 310 + 402 and unreachable.details["replicas_sampled"] == 2
    )
    slow = found[("admission.webhook_latency", "ml-training", "webhook/validate.kyverno.svc-fail")]
    assert 9 < slow.details["p99_seconds"] < 10
    deprecated = found[
        (
            "version.deprecated_api_in_use",
            "analytics-legacy",
            "api/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas",
        )
    ]
    assert deprecated.details["removed_release"] == "1.32" and deprecated.details["replicas_reporting"] == 1
    # no vended metrics: no history, said plainly, once for the cluster
    coverage = found[("monitor.coverage", "analytics-legacy", "coverage")]
    assert coverage.severity is Severity.INFO
    assert {u["check"] for u in coverage.details["unevaluated"]} == {
        "etcd.db_growth",
        "control_plane.capacity",
    }
    assert ("etcd.db_size", "analytics-legacy", "etcd") not in found  # 3.1 GiB from /metrics: fine
    assert not [
        f for f in result.findings if f.check == "monitor.coverage" and f.cluster != "analytics-legacy"
    ]
    # the Provisioned Control Plane: a tier-2xl whose 14 days of peaks fit tier-xl, a standard cluster at a
    # tier's load, leader-election drops; the tier-xl cluster at 9 GiB is 56 % of its 16 GiB: nothing
    oversized = found[("control_plane.tier_oversized", "render-farm", "control-plane")]
    assert oversized.details["suggested_tier"] == "tier-xl" and oversized.severity is Severity.WARNING
    assert oversized.details["savings_per_month_usd"] == pytest.approx(1277.5)
    assert oversized.details["seats_peak"] == 900 and oversized.details["scheduling_peak_per_second"] == 40
    hint = found[("control_plane.capacity", "payments-prod", "control-plane")]
    assert hint.severity is Severity.INFO and hint.details["seats_peak"] == 1450
    assert hint.details["suggested_tier"] == "tier-xl"
    apf = found[("apiserver.flowcontrol_rejections", "ml-training", "priority-level/leader-election")]
    assert apf.severity is Severity.CRITICAL and apf.details["rejected"] == 37 + 4 + 12
    assert (
        found[("apiserver.flowcontrol_rejections", "ml-training", "priority-level/workload-low")].severity
        is Severity.WARNING
    )
    assert not [f for f in result.findings if f.cluster == "ai-inference"]
    assert not errors(result)
    healthy = {"checkout-prod", "search-staging", "sandbox"}
    assert not [f for f in result.findings if f.cluster in healthy]  # the 1.35 endpoints API has no removal
    # GetMetricData batched across clusters and metrics: per region one call for the window, one
    # for the size history, one for ContainerInsights where AWS/EKS has no size (eu-west-1 only)
    assert result.api_calls.calls["cloudwatch.GetMetricData"] == 5
    assert result.api_calls.calls["eks.DescribeCluster"] == 9


def test_findings_do_not_depend_on_how_cloudwatch_pages_its_answer(demo_sim: Simulator) -> None:
    whole = run(demo_sim, {"regions": list(DEMO_REGIONS)})
    demo_sim.extension(CloudWatchExtension).max_datapoints_per_call = 200
    paged = run(demo_sim, {"regions": list(DEMO_REGIONS)})
    assert (
        paged.api_calls.calls["cloudwatch.GetMetricData"]
        > 2 * whole.api_calls.calls["cloudwatch.GetMetricData"]
    )
    strip = {"rejections", "replicas_sampled", "since", "calls", "p99_seconds", "replicas_reporting"}

    def comparable(r: ScanResult) -> set[tuple[Any, ...]]:
        return {
            (
                f.check,
                f.cluster,
                f.resource,
                f.severity,
                tuple(sorted((k, str(v)) for k, v in f.details.items() if k not in strip)),
            )
            for f in r.findings
        }

    assert comparable(paged) == comparable(whole)


# -- CloudWatch failures ----------------------------------------------------------------------------
NEAR_FULL = Profile(size_bytes=0.97 * QUOTA)


def test_get_metric_data_denied_is_one_region_error_and_etcd_comes_from_metrics(sim: Simulator) -> None:
    add(sim, "prod", profile=NEAR_FULL, metrics=apiserver_metrics("1.31", etcd_bytes=0.97 * QUOTA))
    sim.fault("monitoring", operation="GetMetricData", code="AccessDenied", message="not authorized")
    result = run(sim)
    (err,) = errors(result)
    assert err.cluster is None and err.details["source"] == "cloudwatch:GetMetricData"
    assert err.details["error_code"] == "AccessDenied" and "falls back" in err.message
    size = by_key(result)[("etcd.db_size", "prod", "etcd")]
    assert size.severity is Severity.CRITICAL and size.details["source"] == "/metrics"
    assert result.api_calls.calls["cloudwatch.GetMetricData"] == 1  # no retry storm per cluster


def test_throttled_get_metric_data_is_retried_by_botocore(sim: Simulator) -> None:
    add(sim, "prod", profile=NEAR_FULL)
    sim.fault("monitoring", operation="GetMetricData", code="Throttling", status=400, times=2)
    result = run(sim)
    assert not errors(result)
    assert by_key(result)[("etcd.db_size", "prod", "etcd")].details["source"] == "AWS/EKS"


def test_a_series_answered_internal_error_is_flagged_and_raises_no_false_alarm(sim: Simulator) -> None:
    burst = Profile(
        size_bytes=GIB,
        burst_minutes=10,
        burst_requests_per_minute=100,
        burst_5xx_per_minute=80,
        burst_429_per_minute=5,
    )
    add(sim, "prod", profile=burst)
    sim.extension(CloudWatchExtension).query_status[(AWS_EKS, REQUESTS)] = ("InternalError", "try later")
    result = run(sim)
    found = by_key(result)
    assert ("apiserver.error_rate", "prod", "apiserver/5xx") not in found  # no denominator: no rate
    throttled = found[("apiserver.throttling", "prod", "apiserver/429")]
    assert throttled.details["percent"] is None and throttled.details["requests_429"] == pytest.approx(
        50, abs=3
    )
    part = result.regions[0].parts
    from eksmon.collectors.control_plane_metrics import ControlPlaneCloudWatch

    series = part[ControlPlaneCloudWatch].cluster("prod").series(REQUESTS)
    assert series.partial and series.points == ()


def test_empty_cloudwatch_series_and_a_new_cluster_give_infos_not_alarms(sim: Simulator) -> None:
    add(sim, "fresh", metrics=apiserver_metrics("1.31", etcd_bytes=0.2 * GIB))
    sim.extension(ControlPlaneMetrics).seed_cluster(
        DEMO_ACCOUNT, REGION, "fresh", Profile(size_bytes=0.2 * GIB, growth_per_day=30 * GIB), NOW
    )
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[DEMO_ACCOUNT][REGION]
    backend.metric_data = [d for d in backend.metric_data if d.timestamp >= NOW - timedelta(minutes=40)]
    result = run(sim)
    (coverage,) = [f for f in result.findings if f.check == "monitor.coverage"]
    assert coverage.severity is Severity.INFO and coverage.cluster == "fresh"
    unevaluated = {u["check"]: u["reason"] for u in coverage.details["unevaluated"]}
    assert "points over" in unevaluated["etcd.db_growth"]
    assert not errors(result)
    assert [f.check for f in result.findings] == ["monitor.coverage"]


def test_containerinsights_is_read_when_aws_eks_has_no_size(sim: Simulator) -> None:
    add(
        sim,
        "observed",
        profile=Profile(size_bytes=0.9 * QUOTA, size_metrics=("apiserver_storage_size_bytes",)),
        namespace=CONTAINER_INSIGHTS,
    )
    result = run(sim)
    size = by_key(result)[("etcd.db_size", "observed", "etcd")]
    assert size.details["source"] == "ContainerInsights" and size.severity is Severity.WARNING
    assert result.api_calls.calls["cloudwatch.GetMetricData"] == 3


def test_metric_windows_end_at_now(sim: Simulator) -> None:
    burst = Profile(size_bytes=GIB, burst_minutes=10, burst_5xx_per_minute=600)
    add(sim, "prod", profile=burst)
    assert ("apiserver.error_rate", "prod", "apiserver/5xx") in by_key(run(sim))
    # an hour later nothing is in the window any more; the etcd point is older than an hour: /metrics
    later = run(sim, now=NOW + timedelta(hours=1))
    assert ("apiserver.error_rate", "prod", "apiserver/5xx") not in by_key(later)


def test_the_14_day_tier_lookback_adds_no_call(demo_sim: Simulator) -> None:
    regions = {"regions": list(DEMO_REGIONS)}
    without = run(demo_sim, {**regions, "checks": {"disabled": ["control_plane.tier_oversized"]}})
    with_it = run(demo_sim, regions)
    calls = [r.api_calls.calls["cloudwatch.GetMetricData"] for r in (without, with_it)]
    assert calls == [5, 5]  # the hourly maxima ride in the etcd history's call, whose range grows
    assert ("control_plane.tier_oversized", "render-farm", "control-plane") in by_key(with_it)


def test_get_metric_data_is_batched_500_queries_a_call(sim: Simulator) -> None:
    for i in range(50):
        sim.extension(EksExtension).add_cluster(DemoCluster(f"team-{i:02d}", REGION, "1.31"), DEMO_ACCOUNT)
    sim.extension(ControlPlaneMetrics).seed_cluster(
        DEMO_ACCOUNT,
        REGION,
        "team-49",
        Profile(size_bytes=GIB, burst_minutes=5, burst_5xx_per_minute=900),
        NOW,
    )
    result = run(sim, patterns=("apiserver.*",))
    assert not errors(result)  # the simulator refuses more than 500 queries a call, as CloudWatch
    # 50 clusters x 14 window metrics = 700 queries: 2 calls; 50 x 3 size metrics: 1; ContainerInsights
    # for the 49 clusters without AWS/EKS size: 1
    assert result.api_calls.calls["cloudwatch.GetMetricData"] == 4
    assert [f.cluster for f in result.findings] == ["team-49"]


# -- /metrics failures ------------------------------------------------------------------------------
def test_forbidden_metrics_names_the_missing_permission_and_cloudwatch_checks_still_run(
    sim: Simulator,
) -> None:
    kube = add(sim, "prod", profile=NEAR_FULL)
    kube.permissions = [KubePermission("", "pods")]  # an outdated ClusterRole without get /metrics
    result = run(sim)
    (err,) = errors(result)
    assert err.cluster == "prod" and err.details["error_code"] == "KubeForbidden"
    assert "get nonResourceURL /metrics" in err.details["error"] and "eksmon rbac" in err.details["error"]
    assert by_key(result)[("etcd.db_size", "prod", "etcd")].details["source"] == "AWS/EKS"


def test_no_access_entry_is_a_collection_error_for_that_cluster_only(sim: Simulator) -> None:
    add(sim, "locked", profile=NEAR_FULL).access_entry = False
    add(sim, "open", metrics=apiserver_metrics("1.31", etcd_bytes=0.9 * QUOTA))
    result = run(sim)
    assert [(e.cluster, e.details["error_code"]) for e in errors(result)] == [("locked", "KubeUnauthorized")]
    assert by_key(result)[("etcd.db_size", "open", "etcd")].severity is Severity.WARNING


def test_unreachable_endpoint_is_one_collection_error_for_the_cluster(sim: Simulator) -> None:
    kube = add(sim, "prod", profile=NEAR_FULL)
    kube.unreachable(path="/metrics")
    result = run(sim)
    (err,) = errors(result)
    assert err.details["error_code"] == "KubeConnectionError" and err.cluster == "prod"
    assert (
        err.resource == "source/kubernetes"
        and "version.deprecated_api_in_use" in err.details["affected_checks"]
    )
    assert len(kube.paths_requested("/metrics")) == 3  # one sample's bounded attempts, then not again
    assert ("etcd.db_size", "prod", "etcd") in by_key(result)  # CloudWatch still read


def _random_bytes() -> Iterator[bytes]:
    import random

    yield random.Random(5).randbytes(300_000)


def _one_long_line() -> Iterator[bytes]:
    piece = b"a" * (1 << 20)
    for _ in range(50):  # 50 MiB and never a newline
        yield piece


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_random_bytes, "not the Prometheus text format"),
        (_one_long_line, "line 1 is longer than 1048576 bytes"),
        (
            lambda: iter([b'{"kind":"Status","message":"not metrics"}\n' * 100]),
            "not the Prometheus text format: the first line is neither",
        ),
    ],
    ids=["random-bytes", "50-MiB-line", "json"],
)
def test_an_unparsable_metrics_body_is_one_collection_error_naming_the_reason(
    sim: Simulator, body: Callable[[], Iterator[bytes]], reason: str
) -> None:
    # Given an apiserver whose /metrics is not the exposition format
    kube = add(sim, "broken", metrics=body)

    # When the metrics monitor scans it
    result = run(sim)

    # Then one collection error names /metrics and the limit broken; the cluster is asked once
    (err,) = errors(result)
    assert err.resource == "source/kubernetes:/metrics" and err.details["error_code"] == "KubeBadBody"
    assert f"/metrics could not be read: {reason}" in err.message
    assert len(kube.paths_requested("/metrics")) == 1


def test_a_slow_apiserver_costs_one_time_budget_then_a_timeout(sim: Simulator) -> None:
    add(sim, "slow", metrics=apiserver_metrics("1.31", etcd_bytes=0.9 * QUOTA)).slow(30, path="/metrics")
    started = time.monotonic()
    result = run(sim, {"kubernetes": {"timeout_seconds": 1}})
    assert time.monotonic() - started < 15
    (err,) = errors(result)
    assert err.details["error_code"] == "KubeTimeout" and err.cluster == "slow"


def test_a_body_slower_than_the_cluster_budget_is_cut_and_reported(sim: Simulator) -> None:
    body = apiserver_metrics("1.31", etcd_bytes=0.9 * QUOTA)

    def dribble() -> Iterator[bytes]:
        for i in range(0, len(body), 65536):
            time.sleep(0.2)  # each chunk within the read timeout, the whole body far past the budget
            # a comment of incompressible text, so that gzip passes every chunk on at once
            yield b"# " + base64.b64encode(os.urandom(30000)) + b"\n" + body[i : i + 65536]

    add(sim, "dribbling", metrics=dribble)
    started = time.monotonic()
    result = run(sim, {"kubernetes": {"timeout_seconds": 1}})
    assert time.monotonic() - started < 10
    (err,) = errors(result)
    assert err.details["error_code"] == "KubeTimeout" and "allowed per cluster" in err.details["error"]


def test_a_retryable_failure_of_one_sample_does_not_lose_the_others(sim: Simulator) -> None:
    kube = add(sim, "prod", metrics=apiserver_metrics("1.31", etcd_bytes=0.9 * QUOTA))
    kube.fail(503, path="/metrics", times=3)  # the client's own 3 attempts for the first sample
    result = run(sim)
    assert not errors(result)
    assert by_key(result)[("etcd.db_size", "prod", "etcd")].details["source"] == "/metrics"


def test_truncated_metrics_never_claims_the_etcd_metric_is_missing(sim: Simulator) -> None:
    body = apiserver_metrics("1.31", etcd_bytes=0.9 * QUOTA)
    cut = body.index(b"\napiserver_storage_size_bytes{") + 30
    add(sim, "cut", metrics=body[:cut])
    result = run(sim)
    assert not [f for f in result.findings if f.check == "etcd.db_size"]
    # the cut last line is named, not passed over in silence
    (error,) = errors(result)
    assert error.details["error_code"] == "UnparsableMetricsLines"
    assert error.details["families"] == ["apiserver_storage_size_bytes"]
    line_no = body[:cut].count(b"\n") + 1
    assert f"line {line_no} (apiserver_storage_size_bytes): invalid label set" in error.message


def test_garbled_metrics_is_a_collection_error_naming_metrics_and_why(sim: Simulator) -> None:
    kube = add(sim, "garbled", metrics=b"\x00\xffnot prometheus {{{ at all\n" * 5000)
    result = run(sim)
    (error,) = errors(result)
    assert error.resource == "source/kubernetes:/metrics" and error.details["error_code"] == "KubeBadBody"
    assert "/metrics could not be read: not the Prometheus text format" in error.message
    assert not [f for f in result.findings if f.check == "etcd.db_size"]  # unknown, and said so once
    assert len(kube.paths_requested("/metrics")) == 1  # not asked again within the scan


def test_a_well_formed_body_without_the_size_gives_an_info_for_the_unknown_size(sim: Simulator) -> None:
    add(sim, "no-size", metrics=b"# TYPE up gauge\nup 1\n" * 50)
    result = run(sim)
    (coverage,) = [f for f in result.findings if f.check == "monitor.coverage"]
    reasons = {u["check"]: u["reason"] for u in coverage.details["unevaluated"]}
    assert coverage.severity is Severity.INFO and "has none of" in reasons["etcd.db_size"]
    assert not [f for f in result.findings if f.check == "etcd.db_size"]


def test_kubernetes_access_off_keeps_the_cloudwatch_checks(sim: Simulator) -> None:
    kube = add(sim, "prod", profile=NEAR_FULL)
    result = run(sim, {"kubernetes": {"enabled": False}})
    assert not errors(result)
    assert by_key(result)[("etcd.db_size", "prod", "etcd")].details["source"] == "AWS/EKS"
    assert kube.paths_requested("/metrics") == []


def test_clusters_not_active_are_not_scraped(sim: Simulator) -> None:
    kube = add(sim, "sandbox", status="CREATING")
    result = run(sim)
    assert result.findings == [] and kube.paths_requested("/metrics") == []


# -- sampling the replicas -------------------------------------------------------------------------
def two_replicas() -> Replicas:
    api = DeprecatedApiSeed("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas", "1.32")
    return Replicas(
        apiserver_metrics("1.31", etcd_bytes=GIB, started_at=1.76e9),
        apiserver_metrics("1.31", etcd_bytes=GIB, started_at=1.77e9, deprecated=[api]),
    )


def test_a_deprecated_api_seen_by_one_replica_is_found_by_sampling_several_times(sim: Simulator) -> None:
    source = two_replicas()
    kube = add(sim, "prod", metrics=source)
    one = run(sim, {"checks": {"thresholds": {"version.deprecated_api_in_use": {"scrape_samples": 1}}}})
    assert not [f for f in one.findings if f.check == "version.deprecated_api_in_use"]  # one scrape: missed
    source.served = 0
    several = run(sim)
    (f,) = [f for f in several.findings if f.check == "version.deprecated_api_in_use"]
    assert f.details["replicas_sampled"] == 2 and f.details["replicas_reporting"] == 1
    assert len(kube.paths_requested("/metrics")) == 1 + 3


@pytest.mark.parametrize("version", ["1.27", "1.28", "1.29", "1.31", "1.35"])
def test_every_fixture_version_served_over_https_gives_the_etcd_size(sim: Simulator, version: str) -> None:
    add(sim, "prod", version=version, metrics=replicas(apiserver_metrics(version, etcd_bytes=0.85 * QUOTA)))
    result = run(sim)  # the metrics monitor, as its Lambda runs it
    size = by_key(result)[("etcd.db_size", "prod", "etcd")]
    expected = (
        "apiserver_storage_db_total_size_in_bytes" if version == "1.27" else "apiserver_storage_size_bytes"
    )
    assert size.details["metric"] == expected and size.details["percent"] == 85.0
