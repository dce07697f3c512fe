"""apiserver.error_rate: the share of apiserver requests answered 5xx over the window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import Field, model_validator

from eksmon.collectors.control_plane_metrics import (
    DEFAULT_WINDOW_MINUTES,
    REQUESTS,
    REQUESTS_5XX,
    ControlPlaneCloudWatch,
    aligned_sums,
    window_points,
)
from eksmon.models import Problem, Severity, iso_utc
from eksmon.parts import ClusterInfo
from eksmon.registry import CollectionNeeds, Thresholds, check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/control-plane.html"


class ApiserverErrorRateThresholds(Thresholds):
    warning_percent: float = Field(1.0, gt=0, le=100)
    critical_percent: float = Field(5.0, gt=0, le=100)
    window_minutes: int = Field(DEFAULT_WINDOW_MINUTES, ge=1, le=1440, description="ends at now")
    min_requests: int = Field(
        100, ge=1, description="fewer requests in the window: no rate (a few errors of few requests is noise)"
    )

    @model_validator(mode="after")
    def _order(self) -> ApiserverErrorRateThresholds:
        if self.critical_percent < self.warning_percent:
            raise ValueError("critical_percent must not be below warning_percent")
        return self

    def collection_needs(self) -> CollectionNeeds:
        return CollectionNeeds(window_minutes=self.window_minutes)


@check(
    id="apiserver.error_rate",
    title="apiserver answering 5xx",
    monitor="metrics",
    needs=(ControlPlaneCloudWatch, ClusterInfo),
    docs=DOCS,
    severity_rules="warning >= 1 %, critical >= 5 % of requests answered 5xx over the window (15 min)",
    thresholds=ApiserverErrorRateThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS apiserver_request_total, apiserver_request_total_5XX",),
)
def apiserver_error_rate(
    snap: ClusterSnapshot, t: ApiserverErrorRateThresholds, now: datetime
) -> Iterator[Problem]:
    series = snap.get(ControlPlaneCloudWatch).cluster(snap.name)
    if series is None:
        return
    errors, requests, minutes = aligned_sums(
        series.series(REQUESTS_5XX), series.series(REQUESTS), now, t.window_minutes
    )
    if requests < t.min_requests or errors <= 0:
        return
    percent = round(100.0 * errors / requests, 2)
    if percent < t.warning_percent:
        return
    severity = Severity.CRITICAL if percent >= t.critical_percent else Severity.WARNING
    peak = max((v for _, v in window_points(series.series(REQUESTS_5XX), now, t.window_minutes)), default=0)
    start = now - timedelta(minutes=t.window_minutes)
    yield Problem(
        severity,
        "apiserver/5xx",
        f"The apiservers of cluster {snap.name} answered {errors:,.0f} of {requests:,.0f} requests with a 5xx "
        f"error ({percent:.2f} %) in the last {t.window_minutes} minutes (peak {peak:,.0f} a minute). "
        "Controllers retry and fall behind; kubectl and deployments fail intermittently; if it goes on, "
        "nodes can miss lease renewals.",
        "Look at the apiserver audit and api logs in CloudWatch Logs for the failing verbs and resources; "
        "check for a failing admission webhook (admission.* findings), a flood of expensive LIST calls, "
        "or an etcd that is full (etcd.* findings). Open an AWS Support case if it persists.",
        {
            "percent": percent,
            "errors_5xx": int(errors),
            "requests": int(requests),
            "window_minutes": t.window_minutes,
            "minutes_with_data": minutes,
            "peak_5xx_per_minute": int(peak),
            "from": iso_utc(start),
            "to": iso_utc(now),
        },
        title=f"apiserver of {snap.name}: {percent:.1f} % of requests failed with 5xx",
    )


__all__ = ["ApiserverErrorRateThresholds", "apiserver_error_rate"]
