"""etcd.db_growth: at its recent rate, the etcd database reaches its limit (8 GiB, or the tier's) within days."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from pydantic import Field, model_validator

from eksmon.checks._objects import what_fills_etcd
from eksmon.checks._tiers import cluster_tier
from eksmon.checks.etcd_db_size import DOCS, LIVE, gib
from eksmon.models import Problem, Severity, Unevaluated, iso_utc
from eksmon.parts import ClusterInfo
from eksmon.parts.apiserver import ApiserverMetrics
from eksmon.parts.cloudwatch import DEFAULT_LOOKBACK_HOURS, ControlPlaneCloudWatch, Point
from eksmon.parts.cluster import VersionCalendar
from eksmon.registry import CollectionNeeds, Thresholds, check
from eksmon.snapshot import ClusterSnapshot

SECONDS_PER_DAY = 86400.0


class EtcdDbGrowthThresholds(Thresholds):
    warning_days: float = Field(14.0, gt=0, description="warn when the trend reaches the quota this soon")
    critical_days: float = Field(1.0, ge=0)
    lookback_hours: float = Field(
        DEFAULT_LOOKBACK_HOURS, ge=1, le=24 * 14, description="history the linear trend is fitted to"
    )
    min_points: int = Field(6, ge=3, description="fewer points than this: no trend (monitor.coverage)")
    quota_bytes: int | None = Field(
        None,
        gt=0,
        description="override the cluster's limit (unset: 8 GiB standard, the tier's database size)",
    )

    @model_validator(mode="after")
    def _order(self) -> EtcdDbGrowthThresholds:
        if self.critical_days > self.warning_days:
            raise ValueError("critical_days must not exceed warning_days")
        return self

    def collection_needs(self) -> CollectionNeeds:
        return CollectionNeeds(lookback_hours=self.lookback_hours)


def linear_trend(points: Sequence[Point], now: datetime) -> tuple[float, float]:
    """(slope in bytes per second, fitted value at ``now``) of a least-squares line through the points."""
    xs = [(t - now).total_seconds() for t, _ in points]
    ys = [v for _, v in points]
    n = len(points)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    var_x = sum((x - mean_x) ** 2 for x in xs)
    if var_x == 0:
        return 0.0, mean_y
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var_x
    return slope, mean_y - slope * mean_x


@check(
    id="etcd.db_growth",
    title="etcd database growing toward its limit",
    monitor="metrics",
    needs=(ControlPlaneCloudWatch, ClusterInfo),
    uses=(VersionCalendar, ApiserverMetrics),
    docs=DOCS,
    severity_rules="warning when the linear trend over the look-back (24 h) reaches the cluster's limit "
    "(8 GiB standard, the tier's database size) within 14 days, critical within 1 day; monitor.coverage "
    "when there is not enough history",
    thresholds=EtcdDbGrowthThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS, ContainerInsights",),
)
def etcd_db_growth(
    snap: ClusterSnapshot, t: EtcdDbGrowthThresholds, now: datetime
) -> Iterator[Problem | Unevaluated]:
    info = snap.get(ClusterInfo)
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    if (info is not None and info.status not in LIVE) or cloudwatch.error is not None:
        return  # nothing to measure, or the failed read is already a collection error
    series = cloudwatch.cluster(snap.name)
    size = series.size if series else None
    points = size.between(now - timedelta(hours=t.lookback_hours), now) if size else ()
    span_hours = (points[-1][0] - points[0][0]).total_seconds() / 3600 if points else 0.0
    if size is None or len(points) < t.min_points or span_hours < t.lookback_hours / 4:
        yield _no_history(len(points), span_hours, t, size is None)
        return
    tier = cluster_tier(snap)
    limit = t.quota_bytes or tier.limit_bytes
    slope, _ = linear_trend(points, now)
    per_day = slope * SECONDS_PER_DAY
    last_seen, current = points[-1]
    if per_day <= 0:
        return
    # from the last point, not from now: a series that stopped hours ago has grown since, unseen
    elapsed = (now - last_seen).total_seconds() / SECONDS_PER_DAY
    days = max(0.0, (limit - current) / per_day - elapsed)
    if days > t.warning_days:
        return
    severity = Severity.CRITICAL if days <= t.critical_days else Severity.WARNING
    filling, top = what_fills_etcd(snap)
    reached = now + timedelta(days=days)
    when = "now" if days == 0 else f"in {_duration(days)}, around {reached:%Y-%m-%d %H:%M} UTC"
    yield Problem(
        severity,
        "etcd",
        f"The etcd database of cluster {snap.name} grew {gib(per_day)} a day over the last "
        f"{t.lookback_hours:g} h (linear trend of {len(points)} points of {size.metric}, {size.namespace}). "
        f"It is {gib(current)} now and reaches the {gib(limit)} limit of its {tier.name} control plane "
        f"{when}; then etcd raises "
        "a NOSPACE alarm and the cluster accepts no more writes." + filling,
        "Find what is being created: `kubectl get --raw /metrics | grep apiserver_storage_objects` twice, a "
        "few minutes apart, shows which resource grows; stop the controller or job creating it, then delete "
        "the surplus objects. A runaway operator, Events with a long TTL, or many large ConfigMaps/Secrets "
        "are the usual causes.",
        {
            "bytes_per_day": round(per_day),
            "days_to_quota": round(days, 2),
            "bytes": int(current),
            "percent": round(100.0 * current / limit, 2),
            "limit_bytes": limit,
            "tier": tier.name,
            "quota_reached_at": iso_utc(reached),
            "lookback_hours": t.lookback_hours,
            "points": len(points),
            "metric": size.metric,
            "partial": size.partial,
            "top_resources": top,
        },
        title=f"etcd of {snap.name} reaches its limit {_short(days)} at {gib(per_day)}/day",
    )


def _no_history(points: int, span_hours: float, t: EtcdDbGrowthThresholds, absent: bool) -> Unevaluated:
    if absent:
        return Unevaluated(
            "CloudWatch has no etcd size series for it (AWS/EKS vended metrics need Kubernetes 1.28+ on a "
            "recent platform version; ContainerInsights needs enhanced observability)"
        )
    return Unevaluated(
        f"CloudWatch has only {points} point{'s' if points != 1 else ''} over {span_hours:.1f} h of the "
        f"{t.lookback_hours:g} h look-back: not enough history for a trend"
    )


def _duration(days: float) -> str:
    if days < 1:
        hours = days * 24
        return f"{hours:.1f} hours" if hours >= 1 else f"{hours * 60:.0f} minutes"
    return f"{days:.1f} days"


def _short(days: float) -> str:
    return "now" if days == 0 else f"in {_duration(days)}"


__all__ = ["EtcdDbGrowthThresholds", "etcd_db_growth", "linear_trend"]
