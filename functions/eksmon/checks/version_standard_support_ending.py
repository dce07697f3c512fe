"""version.standard_support_ending: a cluster's Kubernetes version is about to leave standard support."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field, model_validator

from eksmon.checks._common import DEFAULT_EXTENDED_EXTRA_PER_HOUR, GONE, days_until, in_days, monthly
from eksmon.models import MetricPoint, Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.cluster import VersionCalendar
from eksmon.registry import Thresholds, check, metric_source
from eksmon.snapshot import ClusterSnapshot
from eksmon.versions import next_minor


class StandardSupportThresholds(Thresholds):
    warning_days: int = Field(90, ge=0, description="warn this many days or fewer before the end")
    critical_days: int = Field(30, ge=0)
    extra_cost_per_cluster_hour_usd: float = Field(DEFAULT_EXTENDED_EXTRA_PER_HOUR, ge=0)

    @model_validator(mode="after")
    def _order(self) -> StandardSupportThresholds:
        if self.critical_days > self.warning_days:
            raise ValueError("critical_days must not exceed warning_days")
        return self


@check(
    id="version.standard_support_ending",
    title="Kubernetes version leaving EKS standard support",
    monitor="lifecycle",
    needs=(ClusterInfo, VersionCalendar),
    docs="https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
    severity_rules="warning <= 90 days before the end of standard support, critical <= 30",
    thresholds=StandardSupportThresholds,
    sources=("eks:DescribeCluster", "eks:DescribeClusterVersions"),
)
def standard_support_ending(
    snap: ClusterSnapshot, t: StandardSupportThresholds, now: datetime
) -> Iterator[Problem]:
    info = snap.get(ClusterInfo)
    if info.status in GONE or info.version is None:
        return
    dates = snap.get(VersionCalendar).get(info.version)
    if dates is None or dates.end_of_standard is None:
        yield Problem(
            severity=Severity.INFO,
            resource=f"version/{info.version}",
            title=f"Support dates of Kubernetes {info.version} are unknown",
            message=f"Cluster {info.name} runs Kubernetes {info.version}, which the EKS version calendar "
            "does not list, so eksmon cannot say when its support ends.",
            remediation="Check the version with `aws eks describe-cluster-versions`; if EKS no longer lists it, "
            "upgrade the cluster.",
            details={
                "version": info.version,
                "end_of_standard_support": None,
                "days_left": None,
                "support_type": info.support_type,
            },
        )
        return
    end = dates.end_of_standard
    days = days_until(end, now)
    support = info.support_type or "EXTENDED"
    if support != "STANDARD" and days <= 0:
        return  # in extended support since 00:00 UTC on the end date: version.extended_support reports it
    if days > t.warning_days:
        return
    severity = Severity.CRITICAL if days <= t.critical_days else Severity.WARNING
    target = next_minor(info.version) or "the next version"
    if support == "STANDARD":
        if days > 0:
            consequence = (
                f"Its upgrade policy is STANDARD, so on {end} AWS upgrades the control plane to {target} "
                "automatically, whether or not its workloads, add-ons and node groups are ready."
            )
        else:
            consequence = (
                f"Standard support ended on {end} and its upgrade policy is STANDARD: AWS may upgrade the "
                f"control plane to {target} at any moment."
            )
    else:
        extra = monthly(t.extra_cost_per_cluster_hour_usd)
        consequence = (
            f"From {end} it runs in paid extended support: ${t.extra_cost_per_cluster_hour_usd:.2f} more per "
            f"cluster-hour, about ${extra:,.0f} more a month"
            + (
                f", until {dates.end_of_extended}, when AWS upgrades it automatically."
                if dates.end_of_extended
                else "."
            )
        )
    yield Problem(
        severity=severity,
        resource=f"version/{info.version}",
        title=_title(info.version, target, days, support),
        message=f"Cluster {info.name} runs Kubernetes {info.version}; standard support ends on {end} "
        f"({in_days(days)}). {consequence}",
        remediation=f"Upgrade the control plane to {target} (then node groups and add-ons) before {end}; "
        "check EKS upgrade insights first.",
        details={
            "version": info.version,
            "end_of_standard_support": end.isoformat(),
            "days_left": days,
            "support_type": support,
        },
    )


def _title(version: str, target: str, days: int, support: str) -> str:
    if support == "STANDARD":
        return f"Kubernetes {version}: forced upgrade to {target} {in_days(days) if days > 0 else 'due now'}"
    return f"Kubernetes {version} leaves EKS standard support {in_days(days)}"


@metric_source(monitor="lifecycle", needs=(ClusterInfo, VersionCalendar))
def days_to_end_of_standard_support(snap: ClusterSnapshot, now: datetime) -> Iterator[MetricPoint]:
    """One point a day per cluster. Its ``Tier`` dimension (the Provisioned Control Plane tier, or
    standard) lets the dashboard name each cluster's tier without a series of its own: a tier change
    starts a new series, prorated like any other."""
    info = snap.get(ClusterInfo)
    dates = snap.get(VersionCalendar).get(info.version)
    if info.status not in GONE and dates is not None and dates.end_of_standard is not None:
        yield MetricPoint(
            "DaysToEndOfStandardSupport",
            days_until(dates.end_of_standard, now),
            "Count",
            {"ClusterName": snap.name, "Tier": info.tier},
        )
