"""admission.webhook_rejections: the apiserver could not call an admission webhook and rejected requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.checks._window import BurstThresholds, RunWindow, run_window, span, stretch_details, worst
from eksmon.models import Problem, Severity, iso_utc
from eksmon.parts.apiserver import ApiserverMetrics, WebhookRejection
from eksmon.parts.cloudwatch import WEBHOOK_REJECTIONS, ControlPlaneCloudWatch, Stretch, total
from eksmon.registry import check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#monitoring-admission-webhooks"
CALLING_WEBHOOK_ERROR = "calling_webhook_error"


class WebhookRejectionsThresholds(BurstThresholds):
    min_rejections: int = Field(1, ge=1, description="warn from this many failed calls of one webhook")


def cluster_window_rejections(
    snap: ClusterSnapshot, now: datetime, burst_minutes: int
) -> tuple[float, RunWindow, Stretch[float] | None] | None:
    """AWS/EKS apiserver_admission_webhook_rejection_count since the previous run, the window and its
    worst stretch; None when unknown.

    A cluster that publishes vended metrics but has no rejection point in the window had none (0).
    """
    if not snap.has(ControlPlaneCloudWatch):
        return None
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    series = cloudwatch.cluster(snap.name)
    if series is None or not series.vended:
        return None
    window = run_window(cloudwatch, now)
    points = window.points(series.series(WEBHOOK_REJECTIONS))
    return total(points) or 0.0, window, worst(points, window, burst_minutes, total)


@check(
    id="admission.webhook_rejections",
    title="Admission webhook could not be called",
    monitor="metrics",
    needs=(ApiserverMetrics, ControlPlaneCloudWatch),
    docs=DOCS,
    severity_rules='warning per webhook with rejections of error_type="calling_webhook_error" in /metrics, '
    "while AWS/EKS shows rejections since the previous run or the cluster has no vended metrics",
    thresholds=WebhookRejectionsThresholds,
    sources=("kube-apiserver /metrics", "cloudwatch:GetMetricData AWS/EKS"),
)
def webhook_rejections(
    snap: ClusterSnapshot, t: WebhookRejectionsThresholds, now: datetime
) -> Iterator[Problem]:
    scrape = snap.get(ApiserverMetrics)
    failing: dict[str, list[WebhookRejection]] = {}
    for r in scrape.webhook_rejections():
        if r.error_type == CALLING_WEBHOOK_ERROR and r.count > 0:
            failing.setdefault(r.name, []).append(r)
    if not failing:
        return
    vended = cluster_window_rejections(snap, now, t.burst_minutes)
    in_window = vended[0] if vended else None
    if in_window == 0:
        return  # the failures are old (the counters live as long as the apiserver): none right now
    since = scrape.oldest_start()
    since_text = f"since {iso_utc(since)}" if since else "since the apiservers started"
    replicas = len(scrape.replicas)
    for name, rows in sorted(failing.items()):
        count = sum(r.count for r in rows)
        if count < t.min_rejections:
            continue
        operations = sorted({r.operation for r in rows if r.operation})
        kinds = sorted({r.type for r in rows if r.type})
        now_text = ""
        if vended is not None:
            _, window, burst = vended
            most = f", the most {span(burst, window)}" if burst is not None and burst.score else ""
            now_text = (
                f" AWS/EKS counted {in_window:,.0f} webhook rejections in the cluster in the last "
                f"{window.minutes} minutes{most}: it is not an old failure the counters remember."
            )
        yield Problem(
            Severity.WARNING,
            f"webhook/{name}",
            f"The apiservers of cluster {snap.name} could not call admission webhook {name} and rejected "
            f"{count:,.0f} {'/'.join(operations) or ''} requests because of it ({since_text}, "
            f"{replicas} apiserver replica{'s' if replicas != 1 else ''} sampled).{now_text} With "
            "failurePolicy Fail, every matching create or update fails while the webhook is unreachable; "
            "a webhook that matches pods or leases can stop the cluster from healing itself.",
            "Check the webhook's Service and its pods (`kubectl get validatingwebhookconfigurations,"
            "mutatingwebhookconfigurations -o wide`, then the Service's endpoints); check that the control "
            "plane's security group reaches the webhook port on the nodes. If the webhook is not critical, "
            "set failurePolicy Ignore or scope it with namespaceSelector/objectSelector.",
            {
                "webhook": name,
                "rejections": int(count),
                "error_type": CALLING_WEBHOOK_ERROR,
                "operations": operations,
                "types": kinds,
                "window_rejections": int(in_window) if in_window is not None else None,
                "window_minutes": vended[1].minutes if vended else None,
                **stretch_details(vended[2] if vended else None, t.burst_minutes),
                "replicas_sampled": replicas,
                "since": iso_utc(since) if since else None,
            },
            title=f"Webhook {name} unreachable: {count:,.0f} requests rejected on {snap.name}",
        )


__all__ = ["WebhookRejectionsThresholds", "cluster_window_rejections", "webhook_rejections"]
