"""version.pdb_blocks_drain: a PodDisruptionBudget that by its spec can never allow an eviction.

A node-group update drains its nodes through the eviction API; an eviction the budget refuses is
retried until EKS gives up after 15 minutes with ``PodEvictionFailure``, and Karpenter and Auto Mode
drains wait forever. The budget is judged by its status: ``desiredHealthy ≥ expectedPods ≥ 1`` means
no pod may ever leave (``maxUnavailable: 0``, ``minAvailable`` equal to the replicas or ``100%``). A
budget at zero only because a pod is unhealthy now (``desiredHealthy < expectedPods``) clears by
itself, and one that selects no pod blocks nothing: neither is a finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.models import Problem, Severity
from eksmon.parts.kubernetes import DisruptionBudget, DisruptionBudgets
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html"


def blocks_every_eviction(pdb: DisruptionBudget) -> bool:
    return pdb.expected_pods >= 1 and pdb.desired_healthy >= pdb.expected_pods


def _spec(pdb: DisruptionBudget) -> str:
    if pdb.max_unavailable is not None:
        return f"maxUnavailable: {pdb.max_unavailable}"
    if pdb.min_available is not None:
        return f"minAvailable: {pdb.min_available}"
    return "its spec"


@check(
    id="version.pdb_blocks_drain",
    title="PodDisruptionBudget blocks every drain",
    monitor="kubernetes",
    needs=(DisruptionBudgets,),
    docs=DOCS,
    severity_rules="warning when status.expectedPods ≥ 1 and status.desiredHealthy ≥ status.expectedPods "
    "(no eviction is ever allowed); never for a budget at zero only because a pod is unhealthy now, nor "
    "for one that selects no pod",
    sources=("Kubernetes: poddisruptionbudgets (policy/v1)",),
)
def pdb_blocks_drain(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    for pdb in snap.get(DisruptionBudgets).items:
        if not blocks_every_eviction(pdb):
            continue
        ref = f"{pdb.namespace}/{pdb.name}"
        yield Problem(
            Severity.WARNING,
            f"PodDisruptionBudget/{ref}",
            f"PodDisruptionBudget {ref} ({_spec(pdb)}) keeps {pdb.desired_healthy} of its "
            f"{pdb.expected_pods} pod(s) healthy at all times, so it can never allow an eviction. A managed "
            "node group update that drains a node running one of them fails with PodEvictionFailure after "
            "15 minutes; Karpenter and EKS Auto Mode drains wait on it indefinitely, and the nodes stay on "
            "their old version.",
            f"Let at least one pod go: set maxUnavailable: 1 (or minAvailable below the replica count) on "
            f"{ref}, or run more replicas than minAvailable. Check with `kubectl get pdb -n {pdb.namespace} "
            f"{pdb.name}` that ALLOWED DISRUPTIONS is at least 1 when every pod is healthy.",
            {
                "namespace": pdb.namespace,
                "name": pdb.name,
                "expected_pods": pdb.expected_pods,
                "desired_healthy": pdb.desired_healthy,
                "current_healthy": pdb.current_healthy,
                "disruptions_allowed": pdb.disruptions_allowed,
                "min_available": pdb.min_available,
                "max_unavailable": pdb.max_unavailable,
            },
            title=f"PodDisruptionBudget {ref} blocks every drain",
        )
