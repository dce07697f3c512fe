"""apiserver.throttling: the apiservers answered 429 Too Many Requests (API Priority and Fairness)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import Field

from eksmon.collectors.control_plane_metrics import (
    DEFAULT_WINDOW_MINUTES,
    REQUESTS,
    REQUESTS_429,
    ControlPlaneCloudWatch,
    aligned_sums,
    window_points,
    window_sum,
)
from eksmon.models import Problem, Severity, iso_utc
from eksmon.parts import ClusterInfo
from eksmon.registry import CollectionNeeds, Thresholds, check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/scale-control-plane.html"


class ApiserverThrottlingThresholds(Thresholds):
    window_minutes: int = Field(DEFAULT_WINDOW_MINUTES, ge=1, le=1440, description="ends at now")
    min_throttled: int = Field(1, ge=1, description="warn from this many 429 answers in the window")

    def collection_needs(self) -> CollectionNeeds:
        return CollectionNeeds(window_minutes=self.window_minutes)


@check(
    id="apiserver.throttling",
    title="apiserver throttling requests (429)",
    monitor="metrics",
    needs=(ControlPlaneCloudWatch, ClusterInfo),
    docs=DOCS,
    severity_rules="warning when 429s are returned over the window (15 min)",
    thresholds=ApiserverThrottlingThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS apiserver_request_total_429",),
)
def apiserver_throttling(
    snap: ClusterSnapshot, t: ApiserverThrottlingThresholds, now: datetime
) -> Iterator[Problem]:
    series = snap.get(ControlPlaneCloudWatch).cluster(snap.name)
    if series is None:
        return
    throttled = window_sum(series.series(REQUESTS_429), now, t.window_minutes) or 0.0
    if throttled < t.min_throttled:
        return
    aligned, requests, _ = aligned_sums(
        series.series(REQUESTS_429), series.series(REQUESTS), now, t.window_minutes
    )
    percent = round(100.0 * aligned / requests, 2) if requests > 0 else None
    share = f" ({percent:.2f} % of {requests:,.0f} requests)" if percent is not None else ""
    peak = max((v for _, v in window_points(series.series(REQUESTS_429), now, t.window_minutes)), default=0)
    yield Problem(
        Severity.WARNING,
        "apiserver/429",
        f"The apiservers of cluster {snap.name} refused {throttled:,.0f} requests with 429 Too Many Requests"
        f"{share} in the last {t.window_minutes} minutes (peak {peak:,.0f} a minute). API Priority and "
        "Fairness is shedding load: the clients whose requests are refused retry and slow down, and "
        "controllers in the same priority level wait behind them.",
        "Find the flows being rejected: `kubectl get --raw /metrics | grep apiserver_flowcontrol_rejected_requests_total` "
        "names the flow schema and priority level. Fix the client that floods the apiserver (often a "
        "controller LISTing without a cache or an informer resyncing), or give critical clients their "
        "own FlowSchema and PriorityLevelConfiguration.",
        {
            "requests_429": int(throttled),
            "requests": int(requests) if requests else None,
            "percent": percent,
            "peak_429_per_minute": int(peak),
            "window_minutes": t.window_minutes,
            "from": iso_utc(now - timedelta(minutes=t.window_minutes)),
            "to": iso_utc(now),
        },
        title=f"apiserver of {snap.name} throttled {throttled:,.0f} requests (429)",
    )


__all__ = ["ApiserverThrottlingThresholds", "apiserver_throttling"]
