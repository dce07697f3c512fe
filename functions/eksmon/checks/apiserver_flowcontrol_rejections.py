"""apiserver.flowcontrol_rejections: requests API Priority and Fairness dropped, per priority level.

From the apiserver's ``/metrics`` (``apiserver_flowcontrol_rejected_requests_total``; not vended to
CloudWatch). A drop at ``system``, ``leader-election`` or ``node-high`` hits the cluster itself
(controllers losing leases, kubelets failing to report), so it is critical; elsewhere a warning.
Deployed with its findings table, the monitor keeps the counters it read and reports the increase
since its previous run; otherwise (``eksmon scan``, a first run, a replica not seen before) the counts
run since the apiserver replica started. The message says which.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.models import Problem, Severity, iso_utc
from eksmon.parts import ClusterInfo
from eksmon.parts.apf import ApfBaseline, counter_key
from eksmon.parts.apiserver import ApiserverMetrics
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
    uses=(ApfBaseline,),
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
    baseline = snap.get(ApfBaseline) if snap.has(ApfBaseline) else ApfBaseline()
    previous = baseline.values
    known = {key.split("|", 1)[0] for key in previous or {}}
    by_level: dict[str, dict[str, dict[str, float]]] = {}
    from_start = False  # some count runs since a replica started, not since the previous run
    for replica in scrape.replicas:
        seen = previous is not None and f"{replica.started_at or 0:.0f}" in known
        for r in replica.apf_rejections:
            if previous is not None and seen:
                key = counter_key(replica.started_at, r.priority_level, r.flow_schema, r.reason)
                count = max(0.0, r.count - previous.get(key, 0.0))  # a counter only falls on restart
            else:
                count, from_start = r.count, True
            if count <= 0:
                continue
            level = by_level.setdefault(r.priority_level, {"flow_schemas": {}, "reasons": {}})
            level["flow_schemas"][r.flow_schema] = level["flow_schemas"].get(r.flow_schema, 0.0) + count
            level["reasons"][r.reason] = level["reasons"].get(r.reason, 0.0) + count
    started = scrape.oldest_start()
    if previous is not None and baseline.at is not None and not from_start:
        since, counted_since = f"since the previous scan at {iso_utc(baseline.at)}", "previous_scan"
    else:
        since = (
            f"since the apiserver replicas started (the oldest at {iso_utc(started)})"
            if started
            else "since the apiserver replicas started"
        )
        if previous is not None:
            since += "; a replica not sampled before counts from its start"
        counted_since = "apiserver_start"
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
                "counted_since": counted_since,
                "replicas": replicas,
            },
            title=f"{snap.name}: APF dropped {rejected:,} requests at priority level {priority}",
        )


__all__ = ["CRITICAL_LEVELS", "FlowcontrolRejectionsThresholds", "apiserver_flowcontrol_rejections"]
