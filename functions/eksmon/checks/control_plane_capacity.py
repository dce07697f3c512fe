"""control_plane.capacity: the control plane's peak load against what its tier guarantees.

On a Provisioned Control Plane tier: the peak seats in use (AWS/EKS
``apiserver_flowcontrol_current_executing_seats``, Maximum of 1-minute points) and the peak pods
scheduled per second (``scheduler_schedule_attempts_SCHEDULED``, Sum per minute / 60) since the
previous run (the run's window: a peak anywhere in it counts),
against the tier's API request concurrency and pod scheduling rate. In standard mode, an info hint
when the peaks reach what a tier would guarantee.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from pydantic import Field, model_validator

from eksmon.checks._tiers import cluster_tier
from eksmon.checks._window import RunWindowThresholds, run_window
from eksmon.models import Problem, Severity, Unevaluated
from eksmon.parts import ClusterInfo
from eksmon.parts.cloudwatch import SCHEDULED, SEATS, ControlPlaneCloudWatch
from eksmon.parts.cluster import VersionCalendar
from eksmon.registry import check
from eksmon.snapshot import ClusterSnapshot
from eksmon.tiers import (
    STANDARD_PODS_PER_SECOND_HINT,
    STANDARD_SEATS_HINT,
    TIER_NAMES,
    TierCapacity,
    smallest_covering,
)

DOCS = "https://docs.aws.amazon.com/eks/latest/userguide/eks-provisioned-control-plane.html"
LIVE = frozenset({"ACTIVE", "UPDATING"})


class ControlPlaneCapacityThresholds(RunWindowThresholds):
    warning_percent: float = Field(80.0, gt=0, le=100, description="of the tier's seats or scheduling rate")
    critical_percent: float = Field(95.0, gt=0, le=100)
    standard_seats: float = Field(
        STANDARD_SEATS_HINT, gt=0, description="standard mode: hint (info) at this many seats in use"
    )
    standard_pods_per_second: float = Field(
        STANDARD_PODS_PER_SECOND_HINT, gt=0, description="standard mode: hint (info) at this scheduling rate"
    )

    @model_validator(mode="after")
    def _order(self) -> ControlPlaneCapacityThresholds:
        if self.critical_percent < self.warning_percent:
            raise ValueError("critical_percent must not be below warning_percent")
        return self


def peaks(snap: ClusterSnapshot, now: datetime) -> tuple[float | None, float | None]:
    """(peak seats, peak pods/s) since the previous run; None where CloudWatch has no point.

    A SCHEDULED point is the Sum of its period (a minute; 5 minutes in a window over 3 hours, where the
    peak rate is then that of the busiest 5 minutes).
    """
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    window = run_window(cloudwatch, now)
    series = cloudwatch.cluster(snap.name)
    seats = window.points(series.series(SEATS) if series else None)
    scheduled_series = series.series(SCHEDULED) if series else None
    scheduled = window.points(scheduled_series)
    return (
        max(v for _, v in seats) if seats else None,
        max(v for _, v in scheduled) / scheduled_series.period if scheduled and scheduled_series else None,
    )


def _pct(value: float | None, capacity: float | None) -> float | None:
    if value is None or not capacity:
        return None
    return round(100.0 * value / capacity, 1)


@check(
    id="control_plane.capacity",
    title="Control plane near its tier's capacity",
    monitor="metrics",
    needs=(ClusterInfo, ControlPlaneCloudWatch),
    uses=(VersionCalendar,),
    docs=DOCS,
    severity_rules="Provisioned tier: warning >= 80 %, critical >= 95 % of the tier's seats or pod scheduling "
    "rate (peaks over the window); standard mode: info at >= 1,200 seats or >= 100 pods/s, naming the "
    "smallest tier that covers the peak; info for a tier name eksmon does not know",
    thresholds=ControlPlaneCapacityThresholds,
    sources=(
        "eks:DescribeCluster controlPlaneScalingConfig",
        "eks:DescribeClusterVersions controlPlaneScalingTiers",
        "cloudwatch:GetMetricData AWS/EKS apiserver_flowcontrol_current_executing_seats, "
        "scheduler_schedule_attempts_SCHEDULED",
    ),
)
def control_plane_capacity(
    snap: ClusterSnapshot, t: ControlPlaneCapacityThresholds, now: datetime
) -> Iterator[Problem | Unevaluated]:
    info = snap.get(ClusterInfo)
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    if info.status not in LIVE or cloudwatch.error is not None:
        return  # nothing to measure, or the failed read is already a collection error
    tier = cluster_tier(snap)
    if tier.capacity is None:
        yield _unknown_tier(snap.name, tier.name)
        return
    seats, pods = peaks(snap, now)
    minutes = run_window(cloudwatch, now).minutes
    if seats is None and pods is None:
        yield Unevaluated(
            f"CloudWatch has no {SEATS} or {SCHEDULED} point in the last {minutes} minutes "
            "(AWS/EKS vended metrics need Kubernetes 1.28+ on a recent platform version)"
        )
        return
    cap = tier.capacity
    details = {
        "tier": tier.name,
        "seats_peak": seats,
        "seats_capacity": cap.seats,
        "scheduling_peak_per_second": round(pods, 2) if pods is not None else None,
        "scheduling_capacity_per_second": cap.pods_per_second,
        "window_minutes": minutes,
    }
    if not cap.provisioned:
        yield from _standard_hint(snap.name, seats, pods, t, details, tier.api_tiers, minutes)
        return
    seats_pct, pods_pct = _pct(seats, cap.seats), _pct(pods, cap.pods_per_second)
    worst = max(p for p in (seats_pct, pods_pct, 0.0) if p is not None)
    if worst < t.warning_percent:
        return
    severity = Severity.CRITICAL if worst >= t.critical_percent else Severity.WARNING
    parts = []
    if seats_pct is not None:
        parts.append(f"{seats:,.0f} of its {cap.seats:,} seats ({seats_pct:g} %)")
    if pods_pct is not None and pods is not None:
        parts.append(f"{pods:,.1f} of its {cap.pods_per_second:g} pods scheduled per second ({pods_pct:g} %)")
    bigger = _next_tier(tier.name)
    yield Problem(
        severity,
        "control-plane",
        f"Cluster {snap.name} runs on Provisioned Control Plane {tier.name} and peaked at "
        f"{' and '.join(parts)} over the last {minutes} minutes. Past the tier's seats, API Priority "
        "and Fairness queues and then rejects requests (HTTP 429); past its scheduling rate, pods wait "
        "Pending.",
        (
            f"Move the cluster to {bigger} (UpdateClusterConfig controlPlaneScalingConfig.tier; no minimum "
            "time in a tier), or "
            if bigger
            else ""
        )
        + "find the clients that hold the seats (`apiserver_flowcontrol_current_executing_seats` by "
        "flow_schema on /metrics) and slow them: fewer LISTs without a resourceVersion, informers instead "
        "of polling.",
        {**details, "seats_percent": seats_pct, "scheduling_percent": pods_pct},
        title=f"{snap.name} at {worst:g} % of its {tier.name} control-plane capacity",
    )


def _standard_hint(
    cluster: str,
    seats: float | None,
    pods: float | None,
    t: ControlPlaneCapacityThresholds,
    details: Mapping[str, object],
    api: tuple[TierCapacity, ...],
    minutes: int,
) -> Iterator[Problem]:
    busy_seats = seats is not None and seats >= t.standard_seats
    busy_pods = pods is not None and pods >= t.standard_pods_per_second
    if not (busy_seats or busy_pods):
        return
    cover = smallest_covering(seats, pods, api)
    peak = " and ".join(
        p
        for p in (
            f"{seats:,.0f} seats in use" if seats is not None else "",
            f"{pods:,.1f} pods scheduled per second" if pods is not None else "",
        )
        if p
    )
    advice = (
        f"{cover.name} (guarantees {cover.seats:,} seats and {cover.pods_per_second:g} pods/s) would cover it"
        if cover is not None
        else "no tier's published capacity covers it"
    )
    yield Problem(
        Severity.INFO,
        "control-plane",
        f"Cluster {cluster} runs its control plane in standard mode, which scales on demand without a "
        f"guarantee, and peaked at {peak} over the last {minutes} minutes -- the load a "
        f"Provisioned Control Plane tier is sold for; {advice}.",
        "If the cluster cannot tolerate the control plane scaling up under load (large batch or AI "
        "jobs, scale events), consider a Provisioned Control Plane tier; otherwise no action is needed.",
        {**details, "suggested_tier": cover.name if cover else None},
        title=f"{cluster} peaks at a Provisioned Control Plane's load in standard mode",
    )


def _unknown_tier(cluster: str, name: str) -> Problem:
    return Problem(
        Severity.INFO,
        "control-plane",
        f"Cluster {cluster} reports control-plane tier {name!r}, which eksmon does not know (known: "
        f"{', '.join(TIER_NAMES)}) and DescribeClusterVersions gives no capacities for: its capacity "
        "cannot be judged.",
        "Upgrade eksmon; meanwhile its etcd size is judged against 16 GiB, the database size of every "
        "known tier.",
        {"tier": name},
        title=f"{cluster} runs on an unknown control-plane tier {name!r}",
    )


def _next_tier(name: str) -> str | None:
    names = list(TIER_NAMES)
    i = names.index(name) if name in names else -1
    return names[i + 1] if 0 <= i < len(names) - 1 else None


__all__ = ["ControlPlaneCapacityThresholds", "control_plane_capacity", "peaks"]
