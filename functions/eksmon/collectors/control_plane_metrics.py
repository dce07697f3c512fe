"""Control-plane metrics from CloudWatch: the free AWS/EKS vended metrics, else ContainerInsights.

One region-scoped collector reads every cluster of an account+region in as few ``GetMetricData``
calls as it can (at most 500 queries a call, every ``NextToken`` followed):

1. the request, error, latency and webhook series of the evaluation window: every minute since the
   previous run (the schedule's period; ``eksmon scan --window``), at 1-minute points up to 3 hours
   and 5-minute points beyond (:func:`window_period`),
2. the etcd size history of the growth look-back (AWS/EKS, ``Maximum``) and, in the same call, the
   hourly maxima of the seats in use and of the pods scheduled over the tier look-back (14 days, for
   ``control_plane.tier_oversized``): the call's range is the longer of the two look-backs,
3. only for the clusters that have no AWS/EKS size series: the same history from ContainerInsights
   (enhanced observability), whose ``ClusterName``-only rollup carries the size too.

The evaluation window is the scan's (``ctx.needs.window_minutes``), the look-backs the largest the
scan's checks ask for, so the data fetched always covers what the checks evaluate, and every window
ends at ``ctx.now`` (``--now``). The checks judge the whole window and its worst stretch
(:func:`worst_stretch`) from these series themselves, so they stay pure. A longer window costs no
more: GetMetricData bills each metric requested, whatever its number of points.

CloudWatch answers are taken as they come: ``PartialData`` is followed through ``NextToken``; a
series still incomplete at the end, or answered ``InternalError``/``Forbidden``, is kept and flagged
``partial``; a failed call is a ``monitor.collection_error`` for the region and an empty part, so
the checks fall back to ``/metrics`` instead of being skipped.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import botocore.exceptions

from eksmon.aws import EndlessPages
from eksmon.context import CollectContext
from eksmon.parts import ClusterNames
from eksmon.registry import collector
from eksmon.settings import DEFAULT_WINDOW_MINUTES, MAX_WINDOW_MINUTES
from eksmon.tiers import STANDARD_DB_BYTES

AWS_EKS = "AWS/EKS"
CONTAINER_INSIGHTS = "ContainerInsights"
ETCD_QUOTA_BYTES = STANDARD_DB_BYTES  # standard mode's etcd limit (eksmon.tiers is its home)
MAX_QUERIES = 500  # GetMetricData's limit per call
# a NextToken loop that never ends is a service bug: after aws.max_pages pages the data is kept,
# flagged partial, and the endless list reported as a collection error

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


# -- collection ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Query:
    id: str
    cluster: str
    namespace: str
    metric: str
    stat: str
    period: int

    def request(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": "ClusterName", "Value": self.cluster}],
                },
                "Period": self.period,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


@dataclass
class _Answer:
    points: dict[datetime, float] = field(default_factory=dict)
    status: str = "Complete"


@dataclass
class _Fetch:
    max_pages: int = 200
    calls: int = 0
    answers: dict[str, _Answer] = field(default_factory=dict)
    endless: bool = False


@collector(
    provides=ControlPlaneCloudWatch,
    scope="region",
    iam_actions=("cloudwatch:GetMetricData",),
    needs=(ClusterNames,),
)
def control_plane_cloudwatch(ctx: CollectContext) -> ControlPlaneCloudWatch:
    """AWS/EKS (else ContainerInsights) series of every cluster of the region, batched."""
    end = _floor_minute(ctx.now)
    window = ctx.needs.window_minutes or DEFAULT_WINDOW_MINUTES
    lookback = ctx.needs.lookback_hours or DEFAULT_LOOKBACK_HOURS
    peak_days = ctx.needs.peak_days or 0  # control_plane.tier_oversized's look-back of hourly maxima
    lookback = max(lookback, 24 * peak_days)
    window = min(window, MAX_WINDOW_MINUTES)
    window_start = end - timedelta(minutes=window)
    history_start = end - timedelta(hours=lookback)
    names = ctx.get(ClusterNames).names
    part = ControlPlaneCloudWatch(end, window_start, history_start)
    if not names:
        return part
    period = history_period(lookback)
    cw = ctx.client("cloudwatch")
    fetch = _Fetch(max_pages=ctx.settings.aws.max_pages)
    try:
        window_queries = list(
            _queries(names, [(AWS_EKS, m, s, window_period(window)) for m, s in WINDOW_METRICS], "w")
        )
        _get(cw, window_queries, window_start, end, fetch)
        eks_size = list(
            _queries(
                names,
                [(AWS_EKS, m, "Maximum", period) for m in ETCD_SIZE_METRICS[AWS_EKS]],
                prefix="s",
            )
        )
        peak_metrics = PEAK_METRICS if peak_days else ()
        peaks = list(_queries(names, [(AWS_EKS, m, "Maximum", PEAK_PERIOD) for m in peak_metrics], "p"))
        _get(cw, eks_size + peaks, history_start, end, fetch)  # one range: no extra call per cluster
        sizes = {n: _size(eks_size, fetch, n) for n in names}
        missing = [n for n in names if sizes[n] is None]
        if missing:
            ci_size = list(
                _queries(
                    missing,
                    [
                        (CONTAINER_INSIGHTS, m, "Maximum", period)
                        for m in ETCD_SIZE_METRICS[CONTAINER_INSIGHTS]
                    ],
                    prefix="c",
                )
            )
            _get(cw, ci_size, history_start, end, fetch)
            sizes.update({n: _size(ci_size, fetch, n) for n in missing})
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        ctx.report(
            "cloudwatch:GetMetricData",
            exc,
            f"{exc}; etcd size falls back to the apiserver's /metrics, and the apiserver error, "
            "throttling and latency checks were skipped for this region",
        )
        return ControlPlaneCloudWatch(end, window_start, history_start, error=str(exc), calls=fetch.calls)
    if fetch.endless:
        ctx.report(
            "cloudwatch:GetMetricData",
            EndlessPages("GetMetricData", f"GetMetricData returned more than {fetch.max_pages} pages"),
            f"GetMetricData's NextToken did not end after {fetch.max_pages} pages (aws.max_pages); "
            "the series read so far are kept and flagged partial",
        )
    clusters = {
        n: ClusterSeries(
            n,
            {q.metric: _series(q, fetch.answers.get(q.id)) for q in window_queries if q.cluster == n},
            sizes[n],
            {q.metric: _series(q, fetch.answers.get(q.id)) for q in peaks if q.cluster == n},
        )
        for n in names
    }
    return ControlPlaneCloudWatch(end, window_start, history_start, clusters, calls=fetch.calls)


def history_period(lookback_hours: float) -> int:
    """Seconds per point of the size history: 5 minutes, longer for long look-backs (<= 1440 points)."""
    seconds = lookback_hours * 3600
    return max(300, math.ceil(seconds / MAX_HISTORY_POINTS / 60) * 60)


def _floor_minute(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(second=0, microsecond=0)


def _queries(
    clusters: Sequence[str], metrics: Sequence[tuple[str, str, str, int]], prefix: str
) -> Iterator[_Query]:
    i = 0
    for cluster in clusters:
        for namespace, metric, stat, period in metrics:
            yield _Query(f"{prefix}{i}", cluster, namespace, metric, stat, period)
            i += 1


def _get(cw: Any, queries: Sequence[_Query], start: datetime, end: datetime, fetch: _Fetch) -> None:
    """Run the queries (ids unique across the calls of one fetch), at most 500 a call, following NextToken; answers go into ``fetch``."""
    for first in range(0, len(queries), MAX_QUERIES):
        batch = queries[first : first + MAX_QUERIES]
        request = [q.request() for q in batch]
        token: str | None = None
        seen: set[str] = set()
        for _ in range(fetch.max_pages):
            kwargs: dict[str, Any] = {
                "MetricDataQueries": request,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            if token:
                kwargs["NextToken"] = token
            page = cw.get_metric_data(**kwargs)
            fetch.calls += 1
            for result in page.get("MetricDataResults", []):
                _merge(fetch.answers.setdefault(result["Id"], _Answer()), result)
            token = page.get("NextToken") or None
            if token is None or token in seen:
                break
            seen.add(token)
        if token is not None:  # gave up on an endless token: what was read is kept, flagged partial
            fetch.endless = True
            for q in batch:
                fetch.answers.setdefault(q.id, _Answer()).status = "PartialData"


def _merge(answer: _Answer, result: dict[str, Any]) -> None:
    for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
        if isinstance(value, (int, float)) and math.isfinite(value):
            moment = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
            answer.points[moment.astimezone(UTC)] = float(value)
    status = result.get("StatusCode") or "Complete"
    # a later page completes a PartialData series; an error on any page stays
    if answer.status in ("Complete", "PartialData") or status in ("InternalError", "Forbidden"):
        answer.status = status


def _series(q: _Query, answer: _Answer | None) -> Series:
    if answer is None:
        return Series(q.namespace, q.metric, q.stat, q.period, (), partial=True)
    points = tuple(sorted(answer.points.items()))
    return Series(q.namespace, q.metric, q.stat, q.period, points, partial=answer.status != "Complete")


def _size(queries: Iterable[_Query], fetch: _Fetch, cluster: str) -> Series | None:
    """The first size metric, in preference order, that has points for the cluster."""
    for q in queries:
        if q.cluster == cluster:
            series = _series(q, fetch.answers.get(q.id))
            if series.points:
                return series
    return None


__all__ = [
    "AWS_EKS",
    "CONTAINER_INSIGHTS",
    "DEFAULT_BURST_MINUTES",
    "DEFAULT_WINDOW_MINUTES",
    "ETCD_QUOTA_BYTES",
    "ETCD_SIZE_METRICS",
    "LATENCY_METRICS",
    "MAX_WINDOW_MINUTES",
    "PEAK_METRICS",
    "PEAK_PERIOD",
    "PENDING_ACTIVE",
    "REQUESTS",
    "REQUESTS_5XX",
    "REQUESTS_429",
    "SCHEDULED",
    "SEATS",
    "VERBS",
    "WEBHOOK_DURATION",
    "WEBHOOK_REJECTIONS",
    "WINDOW_METRICS",
    "ClusterSeries",
    "ControlPlaneCloudWatch",
    "Series",
    "Stretch",
    "aligned_points",
    "control_plane_cloudwatch",
    "history_period",
    "mean",
    "total",
    "window_period",
    "worst_stretch",
]
