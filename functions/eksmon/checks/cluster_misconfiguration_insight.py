"""cluster.misconfiguration_insight: an EKS misconfiguration insight in ERROR."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.models import Problem, Severity
from eksmon.parts.cluster import Insights
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot


@check(
    id="cluster.misconfiguration_insight",
    title="EKS misconfiguration insight failing",
    monitor="lifecycle",
    needs=(Insights,),
    docs="https://docs.aws.amazon.com/eks/latest/userguide/cluster-insights.html",
    severity_rules="warning for a MISCONFIGURATION insight in ERROR (EKS found a setting that breaks part of "
    "the cluster); WARNING insights are left to the console",
    sources=("eks:ListInsights", "eks:DescribeInsight"),
)
def misconfiguration_insight(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    for insight in snap.get(Insights).items:
        if insight.category != "MISCONFIGURATION" or insight.status != "ERROR":
            continue
        reason = (insight.reason or insight.description or "see the insight").strip().rstrip(".")
        yield Problem(
            Severity.WARNING,
            f"insight/{insight.id}",
            f'EKS misconfiguration insight "{insight.name}" is ERROR on cluster {snap.name}: {reason}.',
            insight.recommendation
            or "Open the insight in the EKS console (Cluster insights) and fix what it lists.",
            {
                "insight": insight.name,
                "insight_id": insight.id,
                "status": insight.status,
                "reason": insight.reason,
                "description": insight.description,
            },
            title=f"Misconfiguration: {insight.name}",
        )
