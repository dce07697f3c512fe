"""version.rollback_insight: an EKS rollback-readiness insight in ERROR -- the rollback to the previous
version is blocked while the 7-day window after the upgrade runs out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import Field

from eksmon.checks._common import in_days
from eksmon.models import Problem, Severity, iso_utc
from eksmon.parts.cluster import Insights, Updates
from eksmon.registry import Thresholds, check
from eksmon.snapshot import ClusterSnapshot


class RollbackInsightThresholds(Thresholds):
    window_days: int = Field(default=7, ge=1)  # the rollback window after an upgrade (EKS user guide)


@check(
    id="version.rollback_insight",
    title="EKS rollback blocked",
    monitor="lifecycle",
    needs=(Insights,),
    uses=(Updates,),
    docs="https://docs.aws.amazon.com/eks/latest/userguide/rollback-cluster.html",
    severity_rules="warning for a ROLLBACK_READINESS insight in ERROR (it blocks the rollback to the previous "
    "version), with the days left of the 7-day window when the update history says when the upgrade was",
    thresholds=RollbackInsightThresholds,
    sources=("eks:ListInsights", "eks:DescribeInsight", "eks:ListUpdates", "eks:DescribeUpdate"),
)
def rollback_insight(snap: ClusterSnapshot, t: RollbackInsightThresholds, now: datetime) -> Iterator[Problem]:
    blocking = [
        i for i in snap.get(Insights).items if i.category == "ROLLBACK_READINESS" and i.status == "ERROR"
    ]
    if not blocking:
        return
    closes = _window_closes(snap, t, now)
    window = (
        f" The rollback window closes {in_days((closes.date() - now.date()).days)} ({iso_utc(closes)})."
        if closes is not None
        else ""
    )
    for insight in blocking:
        reason = (insight.reason or insight.description or "see the insight").strip().rstrip(".")
        yield Problem(
            Severity.WARNING,
            f"insight/{insight.id}",
            f'EKS rollback-readiness insight "{insight.name}" is ERROR on cluster {snap.name}: {reason}. '
            f"Until it is resolved the control plane cannot be rolled back to the previous version "
            f"(except with --force, which skips every insight check).{window}",
            insight.recommendation
            or "Fix what the insight lists (API usage, kubelet or kube-proxy skew, add-on versions) while the "
            "window is open, or accept that this upgrade cannot be undone.",
            {
                "insight": insight.name,
                "insight_id": insight.id,
                "status": insight.status,
                "reason": insight.reason,
                "kubernetes_version": insight.kubernetes_version,
                "rollback_window_closes": iso_utc(closes) if closes else None,
                "days_left": (closes - now).days if closes else None,
            },
            title=f"Rollback blocked: {insight.name}",
        )


def _window_closes(snap: ClusterSnapshot, t: RollbackInsightThresholds, now: datetime) -> datetime | None:
    """When the window of the latest successful version upgrade of the control plane closes (if read)."""
    if not snap.has(Updates):
        return None
    upgrades = [
        u.created_at
        for u in snap.get(Updates).items
        if u.kind == "cluster" and u.type == "VersionUpdate" and u.status == "Successful" and u.created_at
    ]
    if not upgrades:
        return None
    closes = max(upgrades) + timedelta(days=t.window_days)
    return closes if closes > now else None
