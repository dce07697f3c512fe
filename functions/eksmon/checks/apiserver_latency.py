"""apiserver.latency: the p99 latency of a request verb is high over the window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import Field, field_validator, model_validator

from eksmon.collectors.control_plane_metrics import (
    DEFAULT_WINDOW_MINUTES,
    LATENCY_METRICS,
    VERBS,
    ControlPlaneCloudWatch,
    window_points,
)
from eksmon.models import Problem, Severity, iso_utc
from eksmon.parts import ClusterInfo
from eksmon.registry import CollectionNeeds, Thresholds, check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/control-plane.html"


class ApiserverLatencyThresholds(Thresholds):
    warning_seconds: float = Field(1.0, gt=0, description="warn when a verb's p99 averages this or more")
    critical_seconds: float = Field(4.0, gt=0)
    window_minutes: int = Field(DEFAULT_WINDOW_MINUTES, ge=1, le=1440, description="ends at now")
    verbs: list[str] = Field(default_factory=lambda: list(VERBS), description="verbs to watch")

    @field_validator("verbs")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted({v.upper() for v in value} - set(VERBS))
        if unknown:
            raise ValueError(f"unknown verb(s) {', '.join(unknown)}; known: {', '.join(VERBS)}")
        return [v.upper() for v in value]

    @model_validator(mode="after")
    def _order(self) -> ApiserverLatencyThresholds:
        if self.critical_seconds < self.warning_seconds:
            raise ValueError("critical_seconds must not be below warning_seconds")
        return self

    def collection_needs(self) -> CollectionNeeds:
        return CollectionNeeds(window_minutes=self.window_minutes)


@check(
    id="apiserver.latency",
    title="apiserver slow for a request verb",
    monitor="metrics",
    needs=(ControlPlaneCloudWatch, ClusterInfo),
    docs=DOCS,
    severity_rules="warning >= 1 s, critical >= 4 s p99 for a verb, averaged over the window (15 min)",
    thresholds=ApiserverLatencyThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS apiserver_request_duration_seconds_<VERB>_P99",),
)
def apiserver_latency(
    snap: ClusterSnapshot, t: ApiserverLatencyThresholds, now: datetime
) -> Iterator[Problem]:
    series = snap.get(ControlPlaneCloudWatch).cluster(snap.name)
    if series is None:
        return
    for verb in t.verbs:
        metric = LATENCY_METRICS[verb]
        points = window_points(series.series(metric), now, t.window_minutes)
        if not points:
            continue
        p99 = sum(v for _, v in points) / len(points)
        if p99 < t.warning_seconds:
            continue
        peak = max(v for _, v in points)
        severity = Severity.CRITICAL if p99 >= t.critical_seconds else Severity.WARNING
        yield Problem(
            severity,
            f"apiserver/latency/{verb}",
            f"{verb} requests to the apiservers of cluster {snap.name} took {p99:.2f} s at the 99th percentile, "
            f"on average over the last {t.window_minutes} minutes (peak {peak:.2f} s, {metric}). Clients time "
            "out and retry, controllers fall behind, and kubectl feels hung.",
            "Find the slow calls in the apiserver audit log (CloudWatch Logs Insights on requestURI and "
            "userAgent); large LISTs without a label selector or resourceVersion=0, slow admission webhooks "
            "(admission.* findings) and a large etcd (etcd.* findings) are the usual causes.",
            {
                "verb": verb,
                "p99_seconds": round(p99, 3),
                "peak_p99_seconds": round(peak, 3),
                "metric": metric,
                "window_minutes": t.window_minutes,
                "from": iso_utc(now - timedelta(minutes=t.window_minutes)),
                "to": iso_utc(now),
            },
            title=f"apiserver of {snap.name}: {verb} p99 {p99:.2f} s",
        )


__all__ = ["ApiserverLatencyThresholds", "apiserver_latency"]
