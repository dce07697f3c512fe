"""Builders for control-plane metric snapshots: the checks are pure, so tests build their input directly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from eksmon.collectors.apiserver_scrape import (
    ApiserverMetrics,
    DeprecatedApi,
    ReplicaSample,
    WebhookLatency,
    WebhookRejection,
)
from eksmon.collectors.control_plane_metrics import (
    AWS_EKS,
    REQUESTS,
    WEBHOOK_DURATION,
    WEBHOOK_REJECTIONS,
    ClusterSeries,
    ControlPlaneCloudWatch,
    Series,
)
from eksmon.parts import ClusterInfo
from eksmon.sim.fleet import DEMO_NOW
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot
from tests.unit.lifecycle_builders import info as cluster_info

NOW = DEMO_NOW
GIB = 1024**3
QUOTA = 8 * GIB
NAME = "prod"


def series(
    metric: str,
    values: Sequence[float],
    *,
    end: datetime = NOW,
    step: timedelta = timedelta(minutes=1),
    namespace: str = AWS_EKS,
    stat: str = "Sum",
    partial: bool = False,
) -> Series:
    """Evenly spaced points, the last one ``step`` before ``end`` (as CloudWatch's last full period)."""
    n = len(values)
    points = tuple((end - (n - i) * step, float(v)) for i, v in enumerate(values))
    return Series(namespace, metric, stat, int(step.total_seconds()), points, partial)


def per_minute(metric: str, value: float, minutes: int = 15, **kwargs: Any) -> Series:
    return series(metric, [value] * minutes, **kwargs)


def cloudwatch(
    *window: Series,
    size: Series | None = None,
    cluster: str = NAME,
    error: str | None = None,
    present: bool = True,
    window_minutes: int = 15,
    end: datetime = NOW,
) -> ControlPlaneCloudWatch:
    """The part as the collector fills it: its window is the run's (``window_minutes`` ending at ``end``)."""
    clusters = {cluster: ClusterSeries(cluster, {s.metric: s for s in window}, size)} if present else {}
    return ControlPlaneCloudWatch(
        end, end - timedelta(minutes=window_minutes), end - timedelta(hours=24), clusters, error=error
    )


def replica(
    started_at: float | None = 1.7e9,
    *,
    etcd: tuple[str, float] | None = None,
    deprecated: Sequence[DeprecatedApi] = (),
    rejections: Sequence[WebhookRejection] = (),
    latencies: Sequence[WebhookLatency] = (),
    truncated: bool = False,
    git_version: str | None = None,
) -> ReplicaSample:
    return ReplicaSample(
        started_at=started_at,
        git_version=git_version,
        etcd_metric=etcd[0] if etcd else None,
        etcd_bytes=etcd[1] if etcd else None,
        deprecated=tuple(deprecated),
        rejections=tuple(rejections),
        latencies=tuple(latencies),
        truncated=truncated,
    )


def scraped(
    *samples: ReplicaSample, error: str | None = None, skipped: str | None = None
) -> ApiserverMetrics:
    return ApiserverMetrics(tuple(samples), attempts=len(samples), error=error, skipped=skipped)


def snapshot(
    cw: ControlPlaneCloudWatch | None = None,
    scrape: ApiserverMetrics | None = None,
    info: ClusterInfo | None = None,
    name: str = NAME,
    **info_overrides: Any,
) -> ClusterSnapshot:
    region = RegionSnapshot("123456789012", "us-east-1")
    if cw is not None:
        region.parts[ControlPlaneCloudWatch] = cw
    snap = ClusterSnapshot("123456789012", "us-east-1", name, region)
    if scrape is not None:
        snap.parts[ApiserverMetrics] = scrape
    snap.parts[ClusterInfo] = info or cluster_info(name=name, **info_overrides)
    return snap


def rejection(
    name: str = "policy.example.com",
    count: float = 3,
    error_type: str = "calling_webhook_error",
    operation: str = "CREATE",
    kind: str = "validating",
    code: str = "0",
) -> WebhookRejection:
    return WebhookRejection(name, kind, operation, error_type, code, count)


def latency(name: str, buckets: Sequence[tuple[float, float]], total_seconds: float = 0.0) -> WebhookLatency:
    ordered = tuple(sorted(buckets))
    return WebhookLatency(name, ordered, ordered[-1][1], total_seconds)


def vended(rejections_per_minute: float | None = None, p99: float | None = None) -> ControlPlaneCloudWatch:
    """The AWS-vended admission metrics over a busy window (the admission checks' CloudWatch side)."""
    window = [per_minute(REQUESTS, 1000)]
    if rejections_per_minute is not None:
        window.append(per_minute(WEBHOOK_REJECTIONS, rejections_per_minute))
    if p99 is not None:
        window.append(per_minute(WEBHOOK_DURATION, p99))
    return cloudwatch(*window)


def cw(
    *window: Series, size: Series | None = None, peaks: dict[str, Series] | None = None
) -> ControlPlaneCloudWatch:
    """The part with a 15-minute window, a database size and 14 days of hourly peaks (the tier checks)."""
    cluster = ClusterSeries(NAME, {s.metric: s for s in window}, size, peaks or {})
    return ControlPlaneCloudWatch(NOW, NOW - timedelta(minutes=15), NOW - timedelta(days=14), {NAME: cluster})
