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

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.exceptions

from eksmon.aws import EndlessPages
from eksmon.context import CollectContext
from eksmon.parts import ClusterNames
from eksmon.parts.cloudwatch import (
    AWS_EKS,
    CONTAINER_INSIGHTS,
    DEFAULT_BURST_MINUTES,
    DEFAULT_LOOKBACK_HOURS,
    ETCD_QUOTA_BYTES,
    ETCD_SIZE_METRICS,
    LATENCY_METRICS,
    LONG_WINDOW_PERIOD,
    MAX_HISTORY_POINTS,
    MAX_ONE_MINUTE_WINDOW,
    PEAK_METRICS,
    PEAK_PERIOD,
    PENDING_ACTIVE,
    REQUESTS,
    REQUESTS_5XX,
    REQUESTS_429,
    SCHEDULED,
    SEATS,
    VERBS,
    WEBHOOK_DURATION,
    WEBHOOK_REJECTIONS,
    WINDOW_METRICS,
    WINDOW_PERIOD,
    ClusterSeries,
    ControlPlaneCloudWatch,
    Point,
    Series,
    Stretch,
    aligned_points,
    mean,
    total,
    window_period,
    worst_stretch,
)
from eksmon.registry import collector
from eksmon.settings import DEFAULT_WINDOW_MINUTES, MAX_WINDOW_MINUTES

MAX_QUERIES = 500  # GetMetricData's limit per call
# a NextToken loop that never ends is a service bug: after aws.max_pages pages the data is kept,
# flagged partial, and the endless list reported as a collection error


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
    "LONG_WINDOW_PERIOD",
    "MAX_ONE_MINUTE_WINDOW",
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
    "WINDOW_PERIOD",
    "ClusterSeries",
    "ControlPlaneCloudWatch",
    "Point",
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
