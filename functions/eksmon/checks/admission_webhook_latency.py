"""admission.webhook_latency: admission webhooks slow every matching API request down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.collectors.apiserver_scrape import ApiserverMetrics
from eksmon.collectors.control_plane_metrics import (
    DEFAULT_WINDOW_MINUTES,
    WEBHOOK_DURATION,
    ControlPlaneCloudWatch,
    window_points,
)
from eksmon.models import Problem, Severity, iso_utc
from eksmon.parts import ClusterInfo
from eksmon.registry import CollectionNeeds, Thresholds, check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#monitoring-admission-webhooks"
REMEDIATION = (
    "Look at the webhook's own latency and resources (its pods' CPU throttling, replicas, the policies it "
    "evaluates); scope it with namespaceSelector/objectSelector and rules so that it sees fewer requests, "
    "and keep timeoutSeconds low. Every matching request waits for it."
)


class WebhookLatencyThresholds(Thresholds):
    warning_seconds: float = Field(1.0, gt=0, description="warn at this p99 or more")
    window_minutes: int = Field(DEFAULT_WINDOW_MINUTES, ge=1, le=1440, description="ends at now")
    min_requests: int = Field(20, ge=1, description="a webhook with fewer calls in /metrics is not judged")

    def collection_needs(self) -> CollectionNeeds:
        return CollectionNeeds(window_minutes=self.window_minutes)


def _vended_p99(snap: ClusterSnapshot, now: datetime, minutes: int) -> float | None:
    """The AWS/EKS webhook p99 averaged over the window; None when the cluster has no such points."""
    series = snap.get(ControlPlaneCloudWatch).cluster(snap.name)
    if series is None:
        return None
    points = window_points(series.series(WEBHOOK_DURATION), now, minutes)
    return sum(v for _, v in points) / len(points) if points else None


@check(
    id="admission.webhook_latency",
    title="Admission webhook slow",
    monitor="metrics",
    needs=(ControlPlaneCloudWatch, ClusterInfo),
    uses=(
        ApiserverMetrics,
    ),  # names the slow webhook when /metrics was read; AWS/EKS alone still gives a finding
    docs=DOCS,
    severity_rules="warning >= 1 s p99: per webhook from /metrics while AWS/EKS's webhook p99 over the window "
    "(15 min) is also >= 1 s (or the cluster has no vended metrics); one cluster-wide finding when only "
    "AWS/EKS has it",
    thresholds=WebhookLatencyThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS", "kube-apiserver /metrics"),
)
def webhook_latency(snap: ClusterSnapshot, t: WebhookLatencyThresholds, now: datetime) -> Iterator[Problem]:
    vended = _vended_p99(snap, now, t.window_minutes)
    if vended is not None and vended < t.warning_seconds:
        return  # fast right now: lifetime histograms in /metrics may still remember an old slow spell
    scrape = (
        snap.get(ApiserverMetrics) if snap.has(ApiserverMetrics) else ApiserverMetrics(skipped="not read")
    )
    slow = []
    for h in scrape.webhook_latencies():
        p99 = h.quantile(0.99)
        if p99 is not None and h.count >= t.min_requests and p99 >= t.warning_seconds:
            slow.append((h, p99))
    since = scrape.oldest_start()
    for h, p99 in slow:
        now_text = (
            f" AWS/EKS puts the cluster's webhook p99 at {vended:.2f} s over the last {t.window_minutes} minutes."
            if vended is not None
            else ""
        )
        yield Problem(
            Severity.WARNING,
            f"webhook/{h.name}",
            f"Admission webhook {h.name} on cluster {snap.name} answers in {p99:.2f} s at the 99th percentile "
            f"({h.count:,.0f} calls since {iso_utc(since) if since else 'the apiservers started'}, mean "
            f"{h.total_seconds / h.count if h.count else 0:.2f} s).{now_text} Every request it matches waits "
            "that long; near its timeoutSeconds, requests start failing.",
            REMEDIATION,
            {
                "webhook": h.name,
                "p99_seconds": round(p99, 3),
                "calls": int(h.count),
                "vended_p99_seconds": round(vended, 3) if vended is not None else None,
                "window_minutes": t.window_minutes,
                "source": "/metrics",
            },
            title=f"Webhook {h.name} p99 {p99:.2f} s on {snap.name}",
        )
    if not slow and vended is not None:
        yield Problem(
            Severity.WARNING,
            "admission-webhooks",
            f"Admission webhooks on cluster {snap.name} answer in {vended:.2f} s at the 99th percentile, on "
            f"average over the last {t.window_minutes} minutes (AWS/EKS {WEBHOOK_DURATION}). "
            + (
                "/metrics could not be read to name the webhook."
                if scrape.error or scrape.skipped or not scrape.samples
                else "/metrics names no single slow webhook."
            ),
            REMEDIATION,
            {
                "webhook": None,
                "p99_seconds": round(vended, 3),
                "window_minutes": t.window_minutes,
                "source": "AWS/EKS",
            },
            title=f"Admission webhooks of {snap.name}: p99 {vended:.2f} s",
        )


__all__ = ["WebhookLatencyThresholds", "webhook_latency"]
