"""scheduler.backlog: the scheduler's active queue never drains -- the control plane is not keeping up.

From AWS/EKS ``scheduler_pending_pods_ACTIVEQ`` (1-minute points, the Minimum of each period: pods that
were waiting the whole period). A scale-out fills the queue and the scheduler drains it in seconds to
minutes; a queue that stays non-empty for a quarter of an hour means pods arrive faster than the
scheduler places them (its pod scheduling rate, or the apiserver behind it, is the bottleneck). Pods held
by ``schedulingGates`` are in their own series (``_GATED``) and never read; unschedulable pods (no node
fits) wait in another queue, and the cluster autoscaler, not the control plane, is their answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field

from eksmon.checks._window import RunWindowThresholds, run_window, span
from eksmon.models import Problem, Severity, iso_utc
from eksmon.parts import ClusterInfo
from eksmon.parts.cloudwatch import PENDING_ACTIVE, ControlPlaneCloudWatch, Point, Stretch
from eksmon.registry import check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/scale-control-plane.html"


class SchedulerBacklogThresholds(RunWindowThresholds):
    min_pods: int = Field(1, ge=1, description="a minute counts as backlogged with this many pods waiting")
    min_minutes: int = Field(
        15,
        ge=2,
        le=1440,
        description="warn when the active queue stays backlogged this many minutes in a row",
    )


@dataclass(frozen=True, slots=True)
class Backlog:
    start: datetime  # first backlogged point
    end: datetime  # end of the last backlogged point's period
    minutes: int
    peak: float
    ongoing: bool  # still backlogged at the window's last point


def longest_backlog(points: Sequence[Point], period_seconds: int, min_pods: float) -> Backlog | None:
    """The longest run of consecutive points (no gap) with at least ``min_pods`` waiting."""
    step = timedelta(seconds=period_seconds)
    best: Backlog | None = None
    run: list[Point] = []
    for ts, value in points:
        if value >= min_pods and (not run or ts - run[-1][0] <= step):
            run.append((ts, value))
        else:
            run = [(ts, value)] if value >= min_pods else []
        if run:
            found = Backlog(
                run[0][0],
                run[-1][0] + step,
                len(run) * period_seconds // 60,
                max(v for _, v in run),
                ongoing=False,
            )
            if best is None or found.minutes > best.minutes:
                best = found
    if best is not None and points and best.end >= points[-1][0] + step:
        best = Backlog(best.start, best.end, best.minutes, best.peak, ongoing=True)
    return best


@check(
    id="scheduler.backlog",
    title="Scheduler's active queue does not drain",
    monitor="metrics",
    needs=(ControlPlaneCloudWatch,),
    uses=(ClusterInfo,),
    docs=DOCS,
    severity_rules="warning when the active queue (scheduler_pending_pods_ACTIVEQ) holds at least one pod "
    "for 15 consecutive minutes or more in the window; gated pods never count, a burst that drained is "
    "not a finding",
    thresholds=SchedulerBacklogThresholds,
    sources=("cloudwatch:GetMetricData AWS/EKS scheduler_pending_pods_ACTIVEQ",),
)
def scheduler_backlog(
    snap: ClusterSnapshot, t: SchedulerBacklogThresholds, now: datetime
) -> Iterator[Problem]:
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    series = cloudwatch.cluster(snap.name)
    pending = series.series(PENDING_ACTIVE) if series else None
    if pending is None:
        return
    window = run_window(cloudwatch, now)
    backlog = longest_backlog(window.points(pending), pending.period, t.min_pods)
    if backlog is None or backlog.minutes < t.min_minutes:
        return
    stretch: Stretch[float] = Stretch(backlog.peak, backlog.start, backlog.end, ())
    when = "and still is" if backlog.ongoing else span(stretch, window)
    yield Problem(
        Severity.WARNING,
        "scheduler/active-queue",
        f"The scheduler of cluster {snap.name} had pods waiting in its active queue for {backlog.minutes} "
        f"minutes in a row {when} (up to {backlog.peak:,.0f} pods), in the last {window.minutes} minutes. "
        "Pods that can be placed are arriving faster than the scheduler places them: new pods start late, "
        "and a scale-out or a node replacement takes longer than it should.",
        "Check the scheduling rate (AWS/EKS scheduler_schedule_attempts_SCHEDULED) against what the control "
        "plane allows: a Provisioned Control Plane tier guarantees a pod scheduling rate (control_plane."
        "capacity names it); slow apiserver writes (apiserver.latency) and webhooks on pod creation "
        "(admission.webhook_latency) slow every binding. Spread large rollouts (maxSurge, Job parallelism).",
        {
            "backlog_minutes": backlog.minutes,
            "peak_pending_pods": backlog.peak,
            "backlog_start": iso_utc(backlog.start),
            "backlog_end": iso_utc(backlog.end),
            "ongoing": backlog.ongoing,
            "min_minutes": t.min_minutes,
            **window.details,
        },
        title=f"Scheduler of {snap.name} backlogged {backlog.minutes} minutes in a row",
    )


__all__ = ["SchedulerBacklogThresholds", "longest_backlog", "scheduler_backlog"]
