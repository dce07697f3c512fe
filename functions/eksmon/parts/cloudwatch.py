"""The control-plane metrics read from CloudWatch, the metric names the checks evaluate, and the window
arithmetic they share (the worst stretch of a window, aligned points, totals and means).

``collectors/control_plane_metrics.py`` fills ``ControlPlaneCloudWatch``; the checks judge its series
with the helpers here, so they stay pure.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from eksmon.tiers import STANDARD_DB_BYTES

AWS_EKS = "AWS/EKS"
CONTAINER_INSIGHTS = "ContainerInsights"
ETCD_QUOTA_BYTES = STANDARD_DB_BYTES  # standard mode's etcd limit (eksmon.tiers is its home)


# The etcd size, by preference. AWS/EKS vends one size series, apiserver_storage_size_bytes (its 33
# vended metrics; the etcd_mvcc_* names are /metrics only). GetMetricData bills every metric requested,
# found or not, so asking for names AWS/EKS never has would cost 2 metrics per cluster and run.
ETCD_SIZE_METRICS: dict[str, tuple[str, ...]] = {
    AWS_EKS: ("apiserver_storage_size_bytes",),
    CONTAINER_INSIGHTS: (
        "apiserver_storage_size_bytes",
        "apiserver_storage_db_total_size_in_bytes",
        "etcd_db_total_size_in_bytes",
    ),
}
REQUESTS = "apiserver_request_total"
REQUESTS_5XX = "apiserver_request_total_5XX"
REQUESTS_429 = "apiserver_request_total_429"
VERBS = ("GET", "LIST", "PUT", "PATCH", "POST", "DELETE")
LATENCY_METRICS = {verb: f"apiserver_request_duration_seconds_{verb}_P99" for verb in VERBS}
WEBHOOK_REJECTIONS = "apiserver_admission_webhook_rejection_count"
WEBHOOK_DURATION = "apiserver_admission_webhook_admission_duration_seconds"  # a p99, per AWS's table
SEATS = "apiserver_flowcontrol_current_executing_seats"  # seats in use: Maximum of 1-minute points
SCHEDULED = "scheduler_schedule_attempts_SCHEDULED"  # pods scheduled: Sum per minute / 60 = pods/s
# pods waiting in the scheduler's active queue; the Minimum of a period is what never left it (gated pods
# are in their own series, _GATED, and never read: they are held on purpose)
PENDING_ACTIVE = "scheduler_pending_pods_ACTIVEQ"

# (metric, statistic) of the evaluation window, as AWS documents each one's valid statistic.
WINDOW_METRICS: tuple[tuple[str, str], ...] = (
    (REQUESTS, "Sum"),
    (REQUESTS_5XX, "Sum"),
    (REQUESTS_429, "Sum"),
    *((LATENCY_METRICS[v], "Average") for v in VERBS),
    (WEBHOOK_REJECTIONS, "Sum"),
    (WEBHOOK_DURATION, "Average"),
    (SEATS, "Maximum"),
    (SCHEDULED, "Sum"),
    (PENDING_ACTIVE, "Minimum"),
)
# Hourly maxima of the tier look-back. A vended series has one point a minute, so the Maximum of an
# hour of SCHEDULED is that hour's busiest minute (pods/s = value / 60).
PEAK_METRICS: tuple[str, ...] = (SEATS, SCHEDULED)
PEAK_PERIOD = 3600
WINDOW_PERIOD = 60
LONG_WINDOW_PERIOD = 300
# 500 queries of 180 1-minute points are 90,000 datapoints: one GetMetricData page (it returns at most
# 100,800), so a window up to 3 hours takes no more calls than 15 minutes would; beyond, 5-minute points
# keep a day's window at 288 points a series (2 pages of 500 queries)
MAX_ONE_MINUTE_WINDOW = 180
DEFAULT_BURST_MINUTES = 15
DEFAULT_LOOKBACK_HOURS = 24.0
MAX_HISTORY_POINTS = 1440  # the history's period grows with the look-back to stay under this


# -- parts --------------------------------------------------------------------------------------------
Point = tuple[datetime, float]


@dataclass(frozen=True, slots=True)
class Series:
    """One CloudWatch series of one cluster, oldest point first."""

    namespace: str
    metric: str
    stat: str
    period: int
    points: tuple[Point, ...]
    partial: bool = False  # CloudWatch did not say Complete: values may be missing

    def between(self, start: datetime, end: datetime) -> tuple[Point, ...]:
        """Points with start <= timestamp <= end (points after ``end`` -- clock skew -- are dropped)."""
        return tuple(p for p in self.points if start <= p[0] <= end)

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None


@dataclass(frozen=True, slots=True)
class ClusterSeries:
    """What CloudWatch holds for one cluster. ``size`` is the preferred etcd size series present."""

    cluster: str
    window: dict[str, Series] = field(default_factory=dict)  # AWS/EKS metric name -> series
    size: Series | None = None
    peaks: dict[str, Series] = field(default_factory=dict)  # PEAK_METRICS -> hourly maxima

    @property
    def vended(self) -> bool:
        """True when any AWS/EKS series of the cluster has data (the cluster publishes vended metrics)."""
        return any(s.points for s in self.window.values()) or (
            self.size is not None and self.size.namespace == AWS_EKS
        )

    def series(self, metric: str) -> Series | None:
        return self.window.get(metric)


@dataclass(frozen=True, slots=True)
class ControlPlaneCloudWatch:
    """The CloudWatch control-plane metrics of every cluster of one account+region."""

    end: datetime
    window_start: datetime
    history_start: datetime
    clusters: dict[str, ClusterSeries] = field(default_factory=dict)
    error: str | None = None  # GetMetricData failed (reported as a collection error): no data at all
    calls: int = 0

    def cluster(self, name: str) -> ClusterSeries | None:
        return self.clusters.get(name)

    @property
    def window_minutes(self) -> int:
        """Minutes of the evaluation window (the time since the previous run), as read."""
        return round((self.end - self.window_start).total_seconds() / 60)


# -- window arithmetic shared by the checks (pure) -----------------------------------------------------
V = TypeVar("V")


def window_period(minutes: float) -> int:
    """Seconds per point of the evaluation window's series (see MAX_ONE_MINUTE_WINDOW)."""
    return WINDOW_PERIOD if minutes <= MAX_ONE_MINUTE_WINDOW else LONG_WINDOW_PERIOD


@dataclass(frozen=True, slots=True)
class Stretch(Generic[V]):
    """The worst stretch of a window: ``score`` of the points from ``start`` to ``end``."""

    score: float
    start: datetime
    end: datetime
    points: tuple[tuple[datetime, V], ...]


def worst_stretch(
    points: Sequence[tuple[datetime, V]],
    minutes: float,
    period: int,
    score: Callable[[Sequence[tuple[datetime, V]]], float | None],
) -> Stretch[V] | None:
    """The stretch of ``minutes`` whose ``score`` is highest; None when no stretch scores.

    Stretches start at every point and hold the points that begin within ``minutes`` of it, so a burst is
    seen whole wherever it falls in the window, not cut by fixed boundaries. Only whole stretches count
    (one near the window's end is not judged on its first minutes alone); when the points span less than
    ``minutes``, they are one stretch. ``end`` is when the last point's period ends. Ties go to the latest.
    """
    ordered = sorted(points, key=lambda p: p[0])
    if not ordered:
        return None
    span = timedelta(minutes=max(minutes, period / 60))
    last_end = ordered[-1][0] + timedelta(seconds=period)
    starts = [i for i, (t, _) in enumerate(ordered) if t + span <= last_end] or [0]
    times = [t for t, _ in ordered]
    best: tuple[float, int, int] | None = None  # (score, first, past the last)
    for i in starts:
        j = bisect.bisect_left(times, times[i] + span, lo=i)
        value = score(ordered[i:j])
        if value is not None and (best is None or value >= best[0]):
            best = (value, i, j)
    if best is None:
        return None
    top, i, j = best
    return Stretch(top, times[i], times[j - 1] + timedelta(seconds=period), tuple(ordered[i:j]))


def mean(points: Sequence[Point]) -> float | None:
    return sum(v for _, v in points) / len(points) if points else None


def total(points: Sequence[Point]) -> float | None:
    return sum(v for _, v in points) if points else None


def aligned_points(
    numerator: Series | None, denominator: Series | None, start: datetime, end: datetime
) -> tuple[tuple[datetime, tuple[float, float]], ...]:
    """(t, (numerator, denominator)) at every point of the denominator in [start, end].

    A minute with no numerator point counts as 0 (CloudWatch publishes no zero-count points); a
    numerator point without a denominator point is dropped, so a partial answer never inflates a rate.
    """
    top = dict(numerator.between(start, end)) if numerator else {}
    base = denominator.between(start, end) if denominator else ()
    return tuple((t, (top.get(t, 0.0), v)) for t, v in base)
