"""apiserver.error_rate: the share of apiserver requests answered 5xx over the window."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from pydantic import Field, model_validator

from eksmon.checks._window import BurstThresholds, run_window, span, stretch_details, worst
from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.cloudwatch import REQUESTS, REQUESTS_5XX, ControlPlaneCloudWatch, aligned_points
from eksmon.registry import check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/control-plane.html"

Counts = Sequence[tuple[datetime, tuple[float, float]]]


class ApiserverErrorRateThresholds(BurstThresholds):
    warning_percent: float = Field(1.0, gt=0, le=100)
    critical_percent: float = Field(5.0, gt=0, le=100)
    min_requests: int = Field(
        100,
        ge=1,
        description="fewer requests in the window (or the stretch): no rate (a few errors of few requests is noise)",
    )

    @model_validator(mode="after")
    def _order(self) -> ApiserverErrorRateThresholds:
        if self.critical_percent < self.warning_percent:
            raise ValueError("critical_percent must not be below warning_percent")
        return self


@check(
    id="apiserver.error_rate",
    title="apiserver answering 5xx",
    monitor="metrics",
    needs=(ControlPlaneCloudWatch,),
    # read by cluster name: a failed DescribeCluster does not hide it (ClusterInfo is only collected)
    uses=(ClusterInfo,),
    docs=DOCS,
    severity_rules="warning >= 1 %, critical >= 5 % of requests answered 5xx, over the time since the "
    "previous run or its worst 15 minutes",
    thresholds=ApiserverErrorRateThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS apiserver_request_total, apiserver_request_total_5XX",),
)
def apiserver_error_rate(
    snap: ClusterSnapshot, t: ApiserverErrorRateThresholds, now: datetime
) -> Iterator[Problem]:
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    series = cloudwatch.cluster(snap.name)
    if series is None:
        return
    window = run_window(cloudwatch, now)
    counts = aligned_points(series.series(REQUESTS_5XX), series.series(REQUESTS), window.start, window.end)
    errors = sum(e for _, (e, _r) in counts)
    requests = sum(r for _, (_e, r) in counts)
    # no stretch's rate exceeds the highest single point's: a healthy window needs no sliding
    if errors <= 0 or max((100.0 * e / r for _, (e, r) in counts if r > 0), default=0.0) < t.warning_percent:
        return

    def score(points: Counts) -> float | None:
        n = sum(r for _, (_e, r) in points)
        return 100.0 * sum(e for _, (e, _r) in points) / n if n >= t.min_requests else None

    whole = score(counts)
    burst = worst(counts, window, t.burst_minutes, score)
    judged = max((p for p in (whole, burst.score if burst else None) if p is not None), default=None)
    if judged is None or round(judged, 2) < t.warning_percent:
        return
    percent = round(judged, 2)
    severity = Severity.CRITICAL if percent >= t.critical_percent else Severity.WARNING
    peak = max((e for _, (e, _r) in counts), default=0)
    overall = f"{whole:.2f} %" if whole is not None else "too few requests to tell"
    if burst is None or (whole is not None and round(burst.score, 2) <= round(whole, 2)):
        what = (
            f"answered {errors:,.0f} of {requests:,.0f} requests with a 5xx error ({overall}) in the last "
            f"{window.minutes} minutes"
        )
    else:
        b_errors = sum(e for _, (e, _r) in burst.points)
        b_requests = sum(r for _, (_e, r) in burst.points)
        what = (
            f"answered {b_errors:,.0f} of {b_requests:,.0f} requests with a 5xx error ({burst.score:.2f} %) "
            f"{span(burst, window)}, the worst {t.burst_minutes} minutes of the last {window.minutes} "
            f"({overall} over the whole window)"
        )
    yield Problem(
        severity,
        "apiserver/5xx",
        f"The apiservers of cluster {snap.name} {what}; the peak was {peak:,.0f} a minute. "
        "Controllers retry and fall behind; kubectl and deployments fail intermittently; if it goes on, "
        "nodes can miss lease renewals.",
        "Look at the apiserver audit and api logs in CloudWatch Logs for the failing verbs and resources; "
        "check for a failing admission webhook (admission.* findings), a flood of expensive LIST calls, "
        "or an etcd that is full (etcd.* findings). Open an AWS Support case if it persists.",
        {
            "percent": percent,
            "window_percent": round(whole, 2) if whole is not None else None,
            "worst_window_percent": round(burst.score, 2) if burst else None,
            "errors_5xx": int(errors),
            "requests": int(requests),
            **window.details,
            "minutes_with_data": len(counts),
            "peak_5xx_per_minute": int(peak),
            **stretch_details(burst, t.burst_minutes),
        },
        title=f"apiserver of {snap.name}: {percent:.1f} % of requests failed with 5xx",
    )


__all__ = ["ApiserverErrorRateThresholds", "apiserver_error_rate"]
