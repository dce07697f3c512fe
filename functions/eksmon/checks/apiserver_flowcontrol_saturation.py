"""apiserver.flowcontrol_saturation: an API Priority and Fairness priority level running at its seat
limit, before it drops requests.

From the apiserver's ``/metrics``: ``apiserver_flowcontrol_priority_level_seat_utilization`` is a
time-weighted histogram of the seats a level has in use over its current limit, observed
continuously, so the share of time a level spent above 90 % of its limit is
``1 - bucket(le="0.9") / count``. The limit it is measured against is the level's current one,
borrowed seats included: a level that borrows (executes above its nominal limit) is judged by this
utilization, never against ``nominal_limit_seats``. ``exempt`` has no real limit and is never judged.
Each apiserver replica keeps its own histogram and its own limits, so replicas are judged one by one,
never summed; a level's finding names its worst replica. Deployed with its findings table, the share
is over the time since the previous run; otherwise since the replica started (the message says which).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from eksmon.models import Problem, Severity, iso_utc
from eksmon.parts.apf import ApfBaseline, seat_keys
from eksmon.parts.apiserver import ApiserverMetrics, ReplicaSample, SeatUtilization
from eksmon.registry import Thresholds, check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://kubernetes.io/docs/concepts/cluster-administration/flow-control/"
CRITICAL_LEVELS = ("leader-election", "system", "node-high")


class FlowcontrolSaturationThresholds(Thresholds):
    critical_priority_levels: list[str] = Field(
        default_factory=lambda: list(CRITICAL_LEVELS),
        description="levels whose saturation is critical: the cluster's own controllers and kubelets",
    )
    critical_percent: float = Field(
        1.0, ge=0, le=100, description="share of time above 90 % of the limit, at a critical level"
    )
    warning_percent: float = Field(
        10.0, ge=0, le=100, description="share of time above 90 % of the limit, at any other level"
    )
    ignored_priority_levels: list[str] = Field(
        default_factory=lambda: ["exempt"], description="levels never judged (exempt has no limit)"
    )


@dataclass(frozen=True, slots=True)
class Share:
    percent: float
    replica_started: float | None
    since_previous_scan: bool
    inqueue: float


def share_above_90(
    u: SeatUtilization, replica: ReplicaSample, previous: dict[str, float] | None
) -> Share | None:
    """The share of observed time above 90 %: since the previous scan when it saw this replica and
    level (and the histogram did not go back), else since the replica started."""
    below, observed = u.at_most_90, u.count
    since_previous = False
    if previous is not None:
        key_below, key_observed = seat_keys(replica.started_at, u.priority_level)
        if key_below in previous and key_observed in previous and observed > previous[key_observed]:
            below -= previous[key_below]
            observed -= previous[key_observed]
            since_previous = True
    if observed <= 0:
        return None
    percent = max(0.0, min(100.0, (1 - below / observed) * 100))
    return Share(percent, replica.started_at, since_previous, u.inqueue)


@check(
    id="apiserver.flowcontrol_saturation",
    title="API Priority and Fairness level at its seat limit",
    monitor="metrics",
    needs=(ApiserverMetrics,),
    uses=(ApfBaseline,),
    docs=DOCS,
    severity_rules="per priority level, on its worst apiserver replica: critical when leader-election, "
    "system or node-high spent more than 1 % of the time above 90 % of its seat limit; warning for any "
    "other level above 10 %; never exempt",
    thresholds=FlowcontrolSaturationThresholds,
    sources=("kube-apiserver /metrics apiserver_flowcontrol_priority_level_seat_utilization",),
)
def apiserver_flowcontrol_saturation(
    snap: ClusterSnapshot, t: FlowcontrolSaturationThresholds, now: datetime
) -> Iterator[Problem]:
    scrape = snap.get(ApiserverMetrics)
    if scrape.error is not None or not scrape.samples:
        return
    baseline = snap.get(ApfBaseline) if snap.has(ApfBaseline) else ApfBaseline()
    worst: dict[str, Share] = {}
    for replica in scrape.replicas:
        for u in replica.seat_utilization:
            if u.priority_level in t.ignored_priority_levels:
                continue
            share = share_above_90(u, replica, baseline.values)
            if share is not None and (
                u.priority_level not in worst or share.percent > worst[u.priority_level].percent
            ):
                worst[u.priority_level] = share
    for level, share in sorted(worst.items()):
        critical = level in t.critical_priority_levels
        limit = t.critical_percent if critical else t.warning_percent
        if share.percent <= limit:
            continue
        yield _problem(level, share, critical, limit, baseline, now)


def _problem(
    level: str, share: Share, critical: bool, limit: float, baseline: ApfBaseline, now: datetime
) -> Problem:
    if share.since_previous_scan and baseline.at is not None:
        since, counted_since = f"since the previous scan at {iso_utc(baseline.at)}", "previous_scan"
    elif share.replica_started:
        started = datetime.fromtimestamp(share.replica_started, now.tzinfo)
        since, counted_since = f"since that apiserver replica started at {iso_utc(started)}", "replica_start"
    else:
        since, counted_since = "since that apiserver replica started", "replica_start"
    who = (
        "the cluster's own controllers, leader elections and kubelets"
        if critical
        else "the clients whose flow schemas map to it"
    )
    queued = (
        f" {share.inqueue:g} request(s) were waiting in its queues at the scrape." if share.inqueue else ""
    )
    return Problem(
        Severity.CRITICAL if critical else Severity.WARNING,
        f"priority-level/{level}",
        f"Priority level {level} ran above 90 % of its seat limit for {share.percent:.1f} % of the time "
        f"{since} (more than {limit:g} %).{queued} When its seats and queues are full, API Priority and "
        f"Fairness rejects its requests with 429: {who} would be throttled first.",
        "Find the flows that fill it (apiserver_flowcontrol_current_executing_seats and "
        "apiserver_flowcontrol_dispatched_requests_total by flow_schema), cut their expensive LISTs "
        "(informers instead of polling, pagination, field and label selectors), or give the level more "
        "seats with its PriorityLevelConfiguration's nominalConcurrencyShares or lendablePercent; on a "
        "cluster that is short of seats overall, a larger Provisioned Control Plane tier.",
        {
            "priority_level": level,
            "percent_time_above_90": round(share.percent, 2),
            "threshold_percent": limit,
            "counted_since": counted_since,
            "inqueue_requests": share.inqueue,
        },
        title=f"APF priority level {level} at its seat limit {share.percent:.1f} % of the time",
    )
