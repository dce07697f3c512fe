"""version.extended_support: a cluster runs in paid extended support, or is about to be force-upgraded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.checks._common import DEFAULT_EXTENDED_EXTRA_PER_HOUR, GONE, days_until, in_days, monthly, today
from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.cluster import VersionCalendar
from eksmon.registry import Thresholds, check
from eksmon.snapshot import ClusterSnapshot
from eksmon.versions import next_minor


class ExtendedSupportThresholds(Thresholds):
    critical_days: int = Field(
        30, ge=0, description="critical this many days or fewer before the forced upgrade"
    )
    extra_cost_per_cluster_hour_usd: float = Field(DEFAULT_EXTENDED_EXTRA_PER_HOUR, ge=0)


@check(
    id="version.extended_support",
    title="Cluster in paid EKS extended support",
    monitor="lifecycle",
    needs=(ClusterInfo, VersionCalendar),
    docs="https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
    severity_rules="warning while in extended support; critical <= 30 days before it ends (forced upgrade)",
    thresholds=ExtendedSupportThresholds,
    sources=("eks:DescribeCluster", "eks:DescribeClusterVersions"),
)
def extended_support(snap: ClusterSnapshot, t: ExtendedSupportThresholds, now: datetime) -> Iterator[Problem]:
    info = snap.get(ClusterInfo)
    if info.status in GONE or info.version is None or info.support_type == "STANDARD":
        return
    dates = snap.get(VersionCalendar).get(info.version)
    if dates is None or dates.end_of_standard is None or today(now) < dates.end_of_standard:
        return
    extra = monthly(t.extra_cost_per_cluster_hour_usd)
    target = next_minor(info.version) or "the next version"
    cost = (
        f"Extended support costs ${t.extra_cost_per_cluster_hour_usd:.2f} more per cluster-hour than standard, "
        f"about ${extra:,.0f} more a month for this cluster."
    )
    end = dates.end_of_extended
    days = days_until(end, now) if end else None
    if days is None:
        severity, outlook = Severity.WARNING, "The end of extended support is not published."
    elif days > 0:
        severity = Severity.CRITICAL if days <= t.critical_days else Severity.WARNING
        outlook = f"Extended support ends on {end} ({in_days(days)}); then AWS upgrades the control plane to {target} automatically."
    else:
        severity = Severity.CRITICAL
        outlook = f"Extended support ended on {end} ({in_days(days)}): AWS upgrades the control plane to {target} automatically, at any moment."
    yield Problem(
        severity=severity,
        resource=f"version/{info.version}",
        title=(
            f"Kubernetes {info.version} is in paid extended support"
            if days is None or days > t.critical_days
            else f"Kubernetes {info.version}: forced upgrade {in_days(days)}"
            if days > 0
            else f"Kubernetes {info.version}: extended support is over, forced upgrade due"
        ),
        message=f"Cluster {info.name} runs Kubernetes {info.version}, in extended support since "
        f"{dates.end_of_standard}. {cost} {outlook}",
        remediation=f"Upgrade the control plane to {target}, then node groups and add-ons; keep going until the "
        "cluster is on a version in standard support.",
        details={
            "version": info.version,
            "end_of_extended_support": end.isoformat() if end else None,
            "days_left": days,
            "extra_cost_per_month_usd": extra,
        },
    )
