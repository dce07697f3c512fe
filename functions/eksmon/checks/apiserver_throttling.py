"""apiserver.throttling: the apiservers answered 429 Too Many Requests (API Priority and Fairness)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.checks._window import BurstThresholds, run_window, span, stretch_details, worst
from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.cloudwatch import REQUESTS, REQUESTS_429, ControlPlaneCloudWatch, aligned_points, total
from eksmon.registry import check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/scale-control-plane.html"


class ApiserverThrottlingThresholds(BurstThresholds):
    min_throttled: int = Field(1, ge=1, description="warn from this many 429 answers in the window")


@check(
    id="apiserver.throttling",
    title="apiserver throttling requests (429)",
    monitor="metrics",
    needs=(ControlPlaneCloudWatch,),
    # read by cluster name: a failed DescribeCluster does not hide it (ClusterInfo is only collected)
    uses=(ClusterInfo,),
    docs=DOCS,
    severity_rules="warning when 429s were returned since the previous run (naming its worst 15 minutes)",
    thresholds=ApiserverThrottlingThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS apiserver_request_total_429",),
)
def apiserver_throttling(
    snap: ClusterSnapshot, t: ApiserverThrottlingThresholds, now: datetime
) -> Iterator[Problem]:
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    series = cloudwatch.cluster(snap.name)
    if series is None:
        return
    window = run_window(cloudwatch, now)
    points = window.points(series.series(REQUESTS_429))
    throttled = total(points) or 0.0
    if throttled < t.min_throttled:
        return
    counts = aligned_points(series.series(REQUESTS_429), series.series(REQUESTS), window.start, window.end)
    aligned = sum(n for _, (n, _r) in counts)
    requests = sum(r for _, (_n, r) in counts)
    percent = round(100.0 * aligned / requests, 2) if requests > 0 else None
    share = f" ({percent:.2f} % of {requests:,.0f} requests)" if percent is not None else ""
    peak = max((v for _, v in points), default=0)
    burst = worst(points, window, t.burst_minutes, total)
    most = (
        f"; the most, {burst.score:,.0f}, {span(burst, window)}"
        if burst is not None and burst.score < throttled
        else ""
    )
    yield Problem(
        Severity.WARNING,
        "apiserver/429",
        f"The apiservers of cluster {snap.name} refused {throttled:,.0f} requests with 429 Too Many Requests"
        f"{share} in the last {window.minutes} minutes{most} (peak {peak:,.0f} a minute). API Priority and "
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
            "worst_window_429": int(burst.score) if burst else None,
            **window.details,
            **stretch_details(burst, t.burst_minutes),
        },
        title=f"apiserver of {snap.name} throttled {throttled:,.0f} requests (429)",
    )


__all__ = ["ApiserverThrottlingThresholds", "apiserver_throttling"]
