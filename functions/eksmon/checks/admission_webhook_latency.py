"""admission.webhook_latency: admission webhooks slow every matching API request down."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from eksmon.checks._window import BurstThresholds, RunWindow, run_window, span, stretch_details, worst
from eksmon.models import Problem, Severity, iso_utc
from eksmon.parts import ClusterInfo
from eksmon.parts.apiserver import ApiserverMetrics
from eksmon.parts.cloudwatch import WEBHOOK_DURATION, ControlPlaneCloudWatch, Stretch, mean
from eksmon.registry import check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#monitoring-admission-webhooks"
REMEDIATION = (
    "Look at the webhook's own latency and resources (its pods' CPU throttling, replicas, the policies it "
    "evaluates); scope it with namespaceSelector/objectSelector and rules so that it sees fewer requests, "
    "and keep timeoutSeconds low. Every matching request waits for it."
)


class WebhookLatencyThresholds(BurstThresholds):
    warning_seconds: float = Field(1.0, gt=0, description="warn at this p99 or more")
    min_requests: int = Field(20, ge=1, description="a webhook with fewer calls in /metrics is not judged")


@dataclass(frozen=True, slots=True)
class _Vended:
    p99: float  # the higher of the window's average and its worst stretch's
    window: RunWindow
    burst: Stretch[float] | None

    def when(self) -> str:
        if self.burst is not None and self.burst.score >= self.p99 and self.burst.start > self.window.start:
            return f"{span(self.burst, self.window)} (the worst stretch of the last {self.window.minutes} minutes)"
        return f"on average over the last {self.window.minutes} minutes"


def _vended_p99(snap: ClusterSnapshot, now: datetime, burst_minutes: int) -> _Vended | None:
    """The AWS/EKS webhook p99 since the previous run (its worst stretch when higher); None without points."""
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    series = cloudwatch.cluster(snap.name)
    if series is None:
        return None
    window = run_window(cloudwatch, now)
    points = window.points(series.series(WEBHOOK_DURATION))
    whole = mean(points)
    if whole is None:
        return None
    burst = worst(points, window, burst_minutes, mean)
    return _Vended(max(whole, burst.score if burst else whole), window, burst)


@check(
    id="admission.webhook_latency",
    title="Admission webhook slow",
    monitor="metrics",
    needs=(ControlPlaneCloudWatch,),
    # names the slow webhook when /metrics was read; AWS/EKS alone still gives a finding (by cluster name)
    uses=(ClusterInfo, ApiserverMetrics),
    docs=DOCS,
    severity_rules="warning >= 1 s p99: per webhook from /metrics while AWS/EKS's webhook p99 since the "
    "previous run (or its worst 15 minutes) is also >= 1 s (or the cluster has no vended metrics); one cluster-wide finding when only "
    "AWS/EKS has it",
    thresholds=WebhookLatencyThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS", "kube-apiserver /metrics"),
)
def webhook_latency(snap: ClusterSnapshot, t: WebhookLatencyThresholds, now: datetime) -> Iterator[Problem]:
    vended = _vended_p99(snap, now, t.burst_minutes)
    if vended is not None and vended.p99 < t.warning_seconds:
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
            f" AWS/EKS puts the cluster's webhook p99 at {vended.p99:.2f} s {vended.when()}."
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
                "vended_p99_seconds": round(vended.p99, 3) if vended is not None else None,
                "window_minutes": vended.window.minutes if vended is not None else None,
                **stretch_details(vended.burst if vended else None, t.burst_minutes),
                "source": "/metrics",
            },
            title=f"Webhook {h.name} p99 {p99:.2f} s on {snap.name}",
        )
    if not slow and vended is not None:
        yield Problem(
            Severity.WARNING,
            "admission-webhooks",
            f"Admission webhooks on cluster {snap.name} answer in {vended.p99:.2f} s at the 99th percentile "
            f"{vended.when()} (AWS/EKS {WEBHOOK_DURATION}). "
            + (
                "/metrics could not be read to name the webhook."
                if scrape.error or scrape.skipped or not scrape.samples
                else "/metrics names no single slow webhook."
            ),
            REMEDIATION,
            {
                "webhook": None,
                "p99_seconds": round(vended.p99, 3),
                **vended.window.details,
                **stretch_details(vended.burst, t.burst_minutes),
                "source": "AWS/EKS",
            },
            title=f"Admission webhooks of {snap.name}: p99 {vended.p99:.2f} s",
        )


__all__ = ["WebhookLatencyThresholds", "webhook_latency"]
