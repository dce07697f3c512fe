"""apiserver.flowcontrol_rejections: requests API Priority and Fairness dropped, per priority level.

From the apiserver's ``/metrics`` (``apiserver_flowcontrol_rejected_requests_total``; not vended to
CloudWatch). A drop at ``system``, ``leader-election`` or ``node-high`` hits the cluster itself
(controllers losing leases, kubelets failing to report), so it is critical; elsewhere a warning.
The counters run since each apiserver replica started, and the message says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.collectors.apiserver_scrape import ApiserverMetrics
from eksmon.collectors.eks import ClusterInfo
from eksmon.models import Problem, Severity, iso_utc
from eksmon.registry import Thresholds, check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://kubernetes.io/docs/concepts/cluster-administration/flow-control/"
CRITICAL_LEVELS = ("system", "leader-election", "node-high")


class FlowcontrolRejectionsThresholds(Thresholds):
    critical_priority_levels: list[str] = Field(
        default_factory=lambda: list(CRITICAL_LEVELS),
        description="priority levels whose drops are critical (others: warning)",
    )
    min_rejected: int = Field(1, ge=1, description="fewer drops than this at a level raise nothing")


@check(
    id="apiserver.flowcontrol_rejections",
    title="API Priority and Fairness drops requests",
    monitor="metrics",
    needs=(ApiserverMetrics, ClusterInfo),
    docs=DOCS,
    severity_rules="one per priority level with dropped requests: critical at system, leader-election, "
    "node-high; warning elsewhere",
    thresholds=FlowcontrolRejectionsThresholds,
    sources=("kube-apiserver /metrics apiserver_flowcontrol_rejected_requests_total",),
)
def apiserver_flowcontrol_rejections(
    snap: ClusterSnapshot, t: FlowcontrolRejectionsThresholds, now: datetime
) -> Iterator[Problem]:
    scrape = snap.get(ApiserverMetrics)
    if scrape.error is not None or not scrape.samples:
        return
    by_level: dict[str, dict[str, dict[str, float]]] = {}
    for r in scrape.apf_rejections():
        level = by_level.setdefault(r.priority_level, {"flow_schemas": {}, "reasons": {}})
        level["flow_schemas"][r.flow_schema] = level["flow_schemas"].get(r.flow_schema, 0.0) + r.count
        level["reasons"][r.reason] = level["reasons"].get(r.reason, 0.0) + r.count
    started = scrape.oldest_start()
    since = (
        f"since the apiserver replicas started (the oldest at {iso_utc(started)})"
        if started
        else "since the apiserver replicas started"
    )
    replicas = len(scrape.replicas)
    for priority, data in sorted(by_level.items()):
        rejected = int(sum(data["reasons"].values()))
        if rejected < t.min_rejected:
            continue
        critical = priority in t.critical_priority_levels
        schemas = ", ".join(f"{name} ({int(n):,})" for name, n in sorted(data["flow_schemas"].items()))
        reasons = ", ".join(f"{name} {int(n):,}" for name, n in sorted(data["reasons"].items()))
        impact = (
            "This level carries the cluster's own traffic: controllers can lose their leader leases and "
            "kubelets their node heartbeats, so nodes go NotReady and workloads restart."
            if critical
            else "Clients of this level get HTTP 429 and retry, so their work is delayed."
        )
        yield Problem(
            Severity.CRITICAL if critical else Severity.WARNING,
            f"priority-level/{priority}",
            f"API Priority and Fairness of cluster {snap.name} rejected {rejected:,} requests at priority level "
            f"{priority} {since}, counted over {replicas} replica{'s' if replicas != 1 else ''} "
            f"(flow schemas: {schemas}; reasons: {reasons}). {impact}",
            "Find the flow schemas above and the clients behind them (`kubectl get --raw "
            "/debug/api_priority_and_fairness/dump_priority_levels`); slow the noisy clients, or give the "
            "level more seats with a PriorityLevelConfiguration's nominalConcurrencyShares; on a busy cluster "
            "a Provisioned Control Plane tier adds seats.",
            {
                "priority_level": priority,
                "flow_schemas": sorted(data["flow_schemas"]),
                "reasons": {k: int(v) for k, v in sorted(data["reasons"].items())},
                "rejected": rejected,
                "counted_since": "apiserver_start",
                "replicas": replicas,
            },
            title=f"{snap.name}: APF dropped {rejected:,} requests at priority level {priority}",
        )


__all__ = ["CRITICAL_LEVELS", "FlowcontrolRejectionsThresholds", "apiserver_flowcontrol_rejections"]
