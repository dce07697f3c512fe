"""apiserver.latency: a request verb's p99 latency is past its upstream SLO, since the previous run.

The Kubernetes SLOs (EKS Best Practices Guide, "Kubernetes SLOs"; upstream sig-scalability): a
mutating call or a read of a single object within 1 s at the 99th percentile, a LIST at namespace or
cluster scope within 30 s. So GET and the mutating verbs are judged against 1 s and LIST against 30 s:
a LIST p99 of a few seconds on a large cluster is within its SLO and not a finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field, field_validator, model_validator

from eksmon.checks._window import BurstThresholds, run_window, span, stretch_details, worst
from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.cloudwatch import LATENCY_METRICS, VERBS, ControlPlaneCloudWatch, mean
from eksmon.registry import check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/kubernetes_upstream_slos.html"
LIST = "LIST"
SLO_SINGLE = "mutating API calls and reads of a single object: p99 <= 1 s"
SLO_LIST = "LIST calls at namespace or cluster scope: p99 <= 30 s"
SLO_SECONDS = {SLO_SINGLE: 1.0, SLO_LIST: 30.0}


class ApiserverLatencyThresholds(BurstThresholds):
    warning_seconds: float = Field(
        1.0, gt=0, description="GET and mutating verbs: warn at this p99 or more (SLO 1 s)"
    )
    critical_seconds: float = Field(4.0, gt=0, description="GET and mutating verbs: critical at this p99")
    list_warning_seconds: float = Field(
        30.0, gt=0, description="LIST (namespace or cluster scope): warn at this p99 or more (SLO 30 s)"
    )
    list_critical_seconds: float | None = Field(
        None, gt=0, description="LIST: critical at this p99; none: a slow LIST is a warning"
    )
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
        if self.list_critical_seconds is not None and self.list_critical_seconds < self.list_warning_seconds:
            raise ValueError("list_critical_seconds must not be below list_warning_seconds")
        return self

    def limits(self, verb: str) -> tuple[float, float | None, str]:
        """(warning, critical or None, the SLO) a verb is judged against."""
        if verb == LIST:
            return self.list_warning_seconds, self.list_critical_seconds, SLO_LIST
        return self.warning_seconds, self.critical_seconds, SLO_SINGLE


@check(
    id="apiserver.latency",
    title="apiserver slower than its SLO for a request verb",
    monitor="metrics",
    needs=(ControlPlaneCloudWatch,),
    # read by cluster name: a failed DescribeCluster does not hide it (ClusterInfo is only collected)
    uses=(ClusterInfo,),
    docs=DOCS,
    severity_rules="p99 per verb against the upstream SLOs, over the time since the previous run or its "
    "worst 15 minutes: GET and mutating verbs warning >= 1 s, critical >= 4 s; LIST (namespace/cluster "
    "scope, 30 s SLO) warning >= 30 s",
    thresholds=ApiserverLatencyThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS apiserver_request_duration_seconds_<VERB>_P99",),
)
def apiserver_latency(
    snap: ClusterSnapshot, t: ApiserverLatencyThresholds, now: datetime
) -> Iterator[Problem]:
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    series = cloudwatch.cluster(snap.name)
    if series is None:
        return
    window = run_window(cloudwatch, now)
    for verb in t.verbs:
        metric = LATENCY_METRICS[verb]
        points = window.points(series.series(metric))
        whole = mean(points)
        warning, critical, slo = t.limits(verb)
        # no stretch's average exceeds the highest point: a healthy window needs no sliding
        if whole is None or max(v for _, v in points) < warning:
            continue
        burst = worst(points, window, t.burst_minutes, mean)
        p99 = max(whole, burst.score if burst else whole)
        if p99 < warning:
            continue
        peak = max(v for _, v in points)
        severity = Severity.CRITICAL if critical is not None and p99 >= critical else Severity.WARNING
        if burst is not None and burst.score > whole:
            when = (
                f"{span(burst, window)}, the worst {min(t.burst_minutes, window.minutes)} minutes of the "
                f"last {window.minutes} ({whole:.2f} s over the whole window"
            )
        else:
            when = f"on average over the last {window.minutes} minutes ("
        yield Problem(
            severity,
            f"apiserver/latency/{verb}",
            f"{verb} requests to the apiservers of cluster {snap.name} took {p99:.2f} s at the 99th percentile "
            f"{when}; peak {peak:.2f} s, {metric}), past the upstream Kubernetes SLO for {slo}. Clients time "
            "out and retry, controllers fall behind, and kubectl feels hung.",
            "Find the slow calls in the apiserver audit log (CloudWatch Logs Insights on requestURI and "
            "userAgent); large LISTs without a label selector or resourceVersion=0, slow admission webhooks "
            "(admission.* findings) and a large etcd (etcd.* findings) are the usual causes.",
            {
                "verb": verb,
                "p99_seconds": round(p99, 3),
                "window_p99_seconds": round(whole, 3),
                "worst_window_p99_seconds": round(burst.score, 3) if burst else None,
                "peak_p99_seconds": round(peak, 3),
                "slo": slo,
                "slo_seconds": SLO_SECONDS[slo],
                "warning_seconds": warning,
                "critical_seconds": critical,
                "metric": metric,
                **window.details,
                **stretch_details(burst, t.burst_minutes),
            },
            title=f"apiserver of {snap.name}: {verb} p99 {p99:.2f} s (SLO {SLO_SECONDS[slo]:g} s)",
        )


__all__ = ["SLO_LIST", "SLO_SINGLE", "ApiserverLatencyThresholds", "apiserver_latency"]
