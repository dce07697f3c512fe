"""PodDisruptionBudgets and what their status allows: the drains of node-group updates, Karpenter and
EKS Auto Mode evict through them.

Every PDB of the cluster is listed (they are few: one per workload at most); only the numbers the
check reads are kept.
"""

from __future__ import annotations

from typing import Any

from eksmon.collectors.kubernetes_common import (
    BadObject,
    Parsed,
    Skips,
    integer,
    mapping,
    metadata,
    parse_each,
    relisted,
)
from eksmon.context import CollectContext
from eksmon.kube import kube_client
from eksmon.parts import ClusterInfo
from eksmon.parts.kubernetes import (
    DisruptionBudget,
    DisruptionBudgets,
)
from eksmon.registry import KubePermission, collector

PDBS = KubePermission("policy", "poddisruptionbudgets", ("list",))


def disruption_budget(obj: Any) -> DisruptionBudget | None:
    """The numbers of one PDB; None while the disruption controller has not filled its status."""
    namespace, name = metadata(obj, "PodDisruptionBudget")
    spec = mapping(obj.get("spec"), "spec")
    status = mapping(obj.get("status"), "status")
    expected = integer(status.get("expectedPods"), "status.expectedPods")
    desired = integer(status.get("desiredHealthy"), "status.desiredHealthy")
    if expected is None or desired is None:
        return None
    return DisruptionBudget(
        namespace=namespace,
        name=name,
        expected_pods=expected,
        desired_healthy=desired,
        current_healthy=integer(status.get("currentHealthy"), "status.currentHealthy", 0) or 0,
        disruptions_allowed=integer(status.get("disruptionsAllowed"), "status.disruptionsAllowed", 0) or 0,
        min_available=_int_or_percent(spec.get("minAvailable"), "spec.minAvailable"),
        max_unavailable=_int_or_percent(spec.get("maxUnavailable"), "spec.maxUnavailable"),
    )


def _int_or_percent(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadObject(f"{field} is a {type(value).__name__}, not an integer or a percentage")
    return str(value)


@collector(provides=DisruptionBudgets, uses=(ClusterInfo,), kube=(PDBS,))
def disruption_budgets(ctx: CollectContext) -> DisruptionBudgets:
    client = kube_client(ctx)

    def read() -> tuple[Parsed[DisruptionBudget], Skips]:
        skips = Skips("poddisruptionbudgets")
        path = "/apis/policy/v1/poddisruptionbudgets"
        return parse_each(client.list(path), "PodDisruptionBudget", disruption_budget, skips, Parsed()), skips

    budgets, skips = relisted(read)
    skips.report(ctx, "kubernetes:poddisruptionbudgets", total=budgets.read)
    # a budget parsed to nothing has no status yet: the disruption controller has not computed it
    return DisruptionBudgets(tuple(budgets.kept), budgets.empty, skips.count)
