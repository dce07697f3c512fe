"""etcd.db_size: the cluster's etcd database is close to its limit (then it takes no writes).

The limit is the cluster's own: 8 GiB in standard mode, the tier's database size (16 GiB) on a
Provisioned Control Plane tier (eksmon.tiers).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field, model_validator

from eksmon.checks._objects import what_fills_etcd
from eksmon.checks._tiers import cluster_tier
from eksmon.models import MetricPoint, Problem, Severity, Unevaluated, iso_utc
from eksmon.parts import ClusterInfo
from eksmon.parts.apiserver import ETCD_SIZE_FAMILIES, ApiserverMetrics
from eksmon.parts.cloudwatch import AWS_EKS, ControlPlaneCloudWatch
from eksmon.parts.cluster import VersionCalendar
from eksmon.registry import Thresholds, check, metric_source
from eksmon.snapshot import ClusterSnapshot
from eksmon.tiers import STANDARD_DB_BYTES

DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/control-plane.html"
DEFAULT_MAX_AGE_MINUTES = 60
LIVE = frozenset({"ACTIVE", "UPDATING"})  # clusters with a control plane to measure


class EtcdDbSizeThresholds(Thresholds):
    warning_percent: float = Field(80.0, gt=0, le=100, description="warn at this share of the quota or more")
    critical_percent: float = Field(95.0, gt=0, le=100)
    quota_bytes: int | None = Field(
        None,
        gt=0,
        description="override the cluster's limit (unset: 8 GiB standard, the tier's database size)",
    )
    max_age_minutes: int = Field(
        DEFAULT_MAX_AGE_MINUTES,
        ge=1,
        description="a CloudWatch value older than this is stale: /metrics is preferred if it has one",
    )

    @model_validator(mode="after")
    def _order(self) -> EtcdDbSizeThresholds:
        if self.critical_percent < self.warning_percent:
            raise ValueError("critical_percent must not be below warning_percent")
        return self


@dataclass(frozen=True, slots=True)
class EtcdSize:
    """The etcd size of one cluster and where it was read."""

    bytes: float
    metric: str
    source: str  # "AWS/EKS", "ContainerInsights" or "/metrics"
    observed_at: datetime | None  # the CloudWatch point's time; None for /metrics (read now)

    def percent(self, quota: float = STANDARD_DB_BYTES) -> float:
        return round(100.0 * self.bytes / quota, 2)


def etcd_size(
    snap: ClusterSnapshot, now: datetime, max_age_minutes: float = DEFAULT_MAX_AGE_MINUTES
) -> EtcdSize | None:
    """The freshest etcd size: CloudWatch's latest point, else /metrics, else a stale CloudWatch point."""
    stale: EtcdSize | None = None
    if snap.has(ControlPlaneCloudWatch):
        series = snap.get(ControlPlaneCloudWatch).cluster(snap.name)
        latest = series.size.latest if series and series.size else None
        if series and series.size and latest is not None and latest[0] <= now:
            found = EtcdSize(latest[1], series.size.metric, series.size.namespace, latest[0])
            if now - latest[0] <= timedelta(minutes=max_age_minutes):
                return found
            stale = found
    if snap.has(ApiserverMetrics):
        scraped = snap.get(ApiserverMetrics).etcd_size()
        if scraped is not None:
            return EtcdSize(scraped[1], scraped[0], "/metrics", None)
    return stale


def gib(value: float) -> str:
    return f"{value / 1024**3:.2f} GiB"


@check(
    id="etcd.db_size",
    title="etcd database close to its limit",
    monitor="metrics",
    needs=(ClusterInfo,),
    # either source may be missing (Kubernetes access off, CloudWatch denied): the other still judges
    uses=(ControlPlaneCloudWatch, ApiserverMetrics, VersionCalendar),
    docs=DOCS,
    severity_rules="warning >= 80 %, critical >= 95 % of the cluster's limit (8 GiB standard, the tier's "
    "database size on a Provisioned Control Plane tier); monitor.coverage when no source has the size",
    thresholds=EtcdDbSizeThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS, ContainerInsights", "kube-apiserver /metrics"),
)
def etcd_db_size(
    snap: ClusterSnapshot, t: EtcdDbSizeThresholds, now: datetime
) -> Iterator[Problem | Unevaluated]:
    size = etcd_size(snap, now, t.max_age_minutes)
    if size is None:
        yield from _unknown(snap)
        return
    tier = cluster_tier(snap)
    limit = t.quota_bytes or tier.limit_bytes
    percent = size.percent(limit)
    if percent < t.warning_percent:
        return
    severity = Severity.CRITICAL if percent >= t.critical_percent else Severity.WARNING
    where = f"{size.metric} from {size.source}" + (
        f" at {iso_utc(size.observed_at)}" if size.observed_at else ", read now"
    )
    if size.observed_at is not None and now - size.observed_at > timedelta(minutes=t.max_age_minutes):
        where += " (the latest point CloudWatch has)"
    full = percent >= 100
    filling, top = what_fills_etcd(snap)
    yield Problem(
        severity,
        "etcd",
        f"The etcd database of cluster {snap.name} is {gib(size.bytes)}, {percent:.1f} % of the "
        f"{gib(limit)} limit of its {tier.name} control plane ({where}). "
        + (
            "It is full: etcd raises a NOSPACE alarm and the cluster accepts no writes -- no new pods, "
            "no deployments, no lease renewals."
            if full
            else "When it reaches the quota, etcd raises a NOSPACE alarm and the cluster stops accepting "
            "writes: no new pods, no deployments, no lease renewals, until space is freed."
        )
        + filling,
        "Find what fills it: `kubectl get --raw /metrics | grep apiserver_storage_objects` counts objects per "
        "resource. Delete what is not needed (completed Jobs, old ReplicaSets, stale Events, unused "
        "ConfigMaps/Secrets and custom resources), lower revisionHistoryLimit and set ttlSecondsAfterFinished. "
        "EKS compacts and defragments etcd itself; if the size does not fall, open an AWS Support case.",
        {
            "bytes": int(size.bytes),
            "percent": percent,
            "metric": size.metric,
            "source": size.source,
            "limit_bytes": limit,
            "tier": tier.name,
            "quota_bytes": limit,
            "observed_at": iso_utc(size.observed_at) if size.observed_at else iso_utc(now),
            "top_resources": top,
        },
        title=f"etcd of {snap.name} at {percent:.1f} % of its {gib(limit)} limit"
        + (": writes are refused" if full else ""),
    )


def _unknown(snap: ClusterSnapshot) -> Iterator[Unevaluated]:
    """Unevaluated when every source was read and none has the size (a failed read is reported)."""
    info = snap.get(ClusterInfo) if snap.has(ClusterInfo) else None
    if info is not None and info.status not in LIVE:
        return
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    scrape = snap.get(ApiserverMetrics) if snap.has(ApiserverMetrics) else None
    if cloudwatch.error is not None or (scrape is not None and scrape.error is not None):
        return
    if scrape is not None and scrape.samples and not scrape.complete:
        return  # every body was cut short: the metric may have been in the part not read
    if scrape is None:
        why = (
            "the apiserver's /metrics was not read (Kubernetes access is off, or no selected check reads it)"
        )
    elif scrape.skipped:
        why = f"the apiserver's /metrics was not read ({scrape.skipped})"
    else:
        why = f"its /metrics has none of {', '.join(ETCD_SIZE_FAMILIES)}"
    yield Unevaluated(
        "CloudWatch has no etcd size series for it (AWS/EKS vended metrics need Kubernetes 1.28+ on a "
        f"recent platform version; ContainerInsights needs enhanced observability) and {why}"
    )


PUBLISH_FROM_PERCENT = 50.0


@metric_source(monitor="metrics", needs=())
def etcd_size_points(snap: ClusterSnapshot, now: datetime) -> Iterator[MetricPoint]:
    """EtcdDatabaseSizeBytes and EtcdDatabaseSizePercent (of the cluster's own limit), dimension ClusterName.

    Free (not published) when the size is AWS/EKS ``apiserver_storage_size_bytes``: the dashboard graphs
    that series itself; only a size read elsewhere (/metrics, ContainerInsights) becomes a custom metric,
    only in bytes (the percent is for reports) and only from ``PUBLISH_FROM_PERCENT`` of the limit up.
    """
    size = etcd_size(snap, now)
    if size is None:
        return
    dims = {"ClusterName": snap.name}
    percent = size.percent(cluster_tier(snap).limit_bytes)
    # published from half full up, like a counted quota: an emptier database needs no graph of its own
    free = size.source == AWS_EKS or percent < PUBLISH_FROM_PERCENT
    yield MetricPoint("EtcdDatabaseSizeBytes", size.bytes, "Bytes", dims, free=free)
    # the dashboard draws the bytes against the limits: a percent series would be bought for nothing
    yield MetricPoint("EtcdDatabaseSizePercent", percent, "Percent", dims, free=True)


__all__ = ["EtcdDbSizeThresholds", "EtcdSize", "etcd_db_size", "etcd_size", "etcd_size_points", "gib"]
