"""etcd.object_counts: object counts near the limits Kubernetes is tested to and the EKS guide states.

From the apiserver's ``/metrics`` (``apiserver_resource_objects`` from 1.34, else
``apiserver_storage_objects``; -1, a count the apiserver could not make, is left out), the largest
count any replica reports. Past these counts lists get slow, watches heavy and etcd large: Secrets
10,000 (EKS Best Practices Guide, scale workloads), Services 10,000, Pods 150,000, Namespaces 10,000,
Nodes 5,000 (Kubernetes sig-scalability thresholds). Each limit is configurable.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.checks._objects import top_resources
from eksmon.models import Problem, Severity
from eksmon.parts.apiserver import ApiserverMetrics
from eksmon.registry import Thresholds, check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/scale-workloads.html"
LIMITS = {"secrets": 10_000, "services": 10_000, "pods": 150_000, "namespaces": 10_000, "nodes": 5_000}
WHY = {
    "secrets": "every Secret is watched by the kubelets and controllers that mount it",
    "services": "every node's kube-proxy and the EndpointSlice controller rework their rules on each change",
    "pods": "every pod LIST and watch, and the scheduler's and controllers' caches, grow with it",
    "namespaces": "namespace-wide controllers and RBAC evaluation grow with it",
    "nodes": "every node renews a lease and reports status, and DaemonSets grow with it",
}


class ObjectCountsThresholds(Thresholds):
    limits: dict[str, int] = Field(
        default_factory=lambda: dict(LIMITS),
        description="objects per resource (core resources by name, others as name.group)",
    )
    warning_percent: float = Field(80.0, gt=0, description="warn at this share of a limit")
    critical_percent: float = Field(100.0, gt=0, description="critical at this share of a limit")


@check(
    id="etcd.object_counts",
    title="Object count near its scalability limit",
    monitor="metrics",
    needs=(ApiserverMetrics,),
    docs=DOCS,
    severity_rules="warning ≥ 80 %, critical ≥ 100 % of: Secrets 10,000, Services 10,000, Pods 150,000, "
    "Namespaces 10,000, Nodes 5,000 (largest count any apiserver replica reports)",
    thresholds=ObjectCountsThresholds,
    sources=("kube-apiserver /metrics apiserver_resource_objects or apiserver_storage_objects",),
)
def etcd_object_counts(snap: ClusterSnapshot, t: ObjectCountsThresholds, _now: datetime) -> Iterator[Problem]:
    scrape = snap.get(ApiserverMetrics)
    if scrape.error is not None or not scrape.samples:
        return
    counts = scrape.object_counts()
    for resource, limit in sorted(t.limits.items()):
        found = counts.get(resource)
        if found is None or limit <= 0:
            continue
        percent = found.count / limit * 100
        if percent < t.warning_percent:
            continue
        critical = percent >= t.critical_percent
        why = WHY.get(resource, "lists, watches and etcd grow with it")
        yield Problem(
            Severity.CRITICAL if critical else Severity.WARNING,
            f"objects/{resource}",
            f"The cluster stores {found.count:,} {resource}, {percent:.0f} % of the {limit:,} Kubernetes is "
            f"tested to: {why}. Past it, API latency, etcd size and control-plane memory grow faster than "
            "the count.",
            f"Find what creates them (kubectl get {resource} -A --no-headers | awk '{{print $1}}' | sort | "
            "uniq -c | sort -rn | head), remove the ones no longer used (completed Jobs' pods, Helm release "
            "Secrets beyond --history-max, orphaned Services), or split the workload across clusters.",
            {
                "resource": resource,
                "count": found.count,
                "limit": limit,
                "percent": round(percent, 1),
                "top_resources": top_resources(counts),
            },
            title=f"{found.count:,} {resource}: {percent:.0f} % of the {limit:,} limit",
        )
