"""apiserver.flowcontrol_saturation: the share of time a priority level spent above 90 % of its seats,
per replica, since the previous scan or the replica's start; and what must never raise it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from eksmon.checks.apiserver_flowcontrol_saturation import (
    FlowcontrolSaturationThresholds,
    apiserver_flowcontrol_saturation,
)
from eksmon.collectors.apf_baseline import ApfBaseline, current_values
from eksmon.collectors.apiserver_scrape import FAMILIES, SeatUtilization, sample_of
from eksmon.prometheus import parse
from eksmon.sim.control_plane_metrics import apiserver_metrics

from .metrics_builders import replica, scraped, snapshot

NOW = datetime(2026, 12, 5, tzinfo=UTC)
T = FlowcontrolSaturationThresholds()


def seats(level: str, above: float, observed: float = 1e11, inqueue: float = 0.0) -> SeatUtilization:
    """A level that spent ``above`` of ``observed`` time above 90 % of its limit."""
    return SeatUtilization(level, observed * (1 - above), observed, inqueue)


def at(started: float, *levels: SeatUtilization) -> Any:
    return replace(replica(started), seat_utilization=levels)


def findings(
    *replicas: Any, baseline: ApfBaseline | None = None, t: FlowcontrolSaturationThresholds = T
) -> list[Any]:
    snap = snapshot(scrape=scraped(*replicas))
    if baseline is not None:
        snap.parts[ApfBaseline] = baseline
    return list(apiserver_flowcontrol_saturation(snap, t, NOW))


def test_leader_election_above_one_percent_is_critical() -> None:
    [p] = findings(at(1.7e9, seats("leader-election", 0.02, inqueue=4)))
    assert p.severity.value == "critical" and p.resource == "priority-level/leader-election"
    assert p.details["percent_time_above_90"] == 2.0 and p.details["counted_since"] == "replica_start"
    assert "4 request(s) were waiting" in p.message and "since that apiserver replica started" in p.message


def test_a_workload_level_above_ten_percent_is_a_warning() -> None:
    [p] = findings(at(1.7e9, seats("workload-low", 0.25)))
    assert p.severity.value == "warning" and p.details["threshold_percent"] == 10.0


def test_replicas_are_judged_one_by_one_and_the_worst_is_named() -> None:
    # 30 % on one replica, 0 % on a replica that has seen 9x as much time: summed it would be 3 %
    busy = at(1.7e9, seats("workload-low", 0.30, observed=1e10))
    idle = at(1.8e9, seats("workload-low", 0.0, observed=9e10))
    [p] = findings(busy, idle)
    assert p.details["percent_time_above_90"] == 30.0


def test_the_share_since_the_previous_scan_replaces_the_share_since_start() -> None:
    previous = current_values(scraped(at(1.7e9, seats("system", 0.0, observed=1e11))))
    # since then 1e11 more observed, 2e9 of it above 90 %: 2 %, though 1 % since the start
    now_replica = at(1.7e9, SeatUtilization("system", 1e11 + 0.98e11, 2e11))
    [p] = findings(now_replica, baseline=ApfBaseline(previous, NOW))
    assert p.details["counted_since"] == "previous_scan" and p.details["percent_time_above_90"] == 2.0
    assert "since the previous scan" in p.message


def test_a_replica_restarted_since_the_previous_scan_counts_from_its_start() -> None:
    previous = current_values(scraped(at(1.6e9, seats("system", 0.0))))
    [p] = findings(at(1.7e9, seats("system", 0.05)), baseline=ApfBaseline(previous, NOW))
    assert p.details["counted_since"] == "replica_start"


def test_thresholds_are_configurable() -> None:
    t = FlowcontrolSaturationThresholds(warning_percent=30.0, critical_priority_levels=["workload-low"])
    [p] = findings(at(1.7e9, seats("workload-low", 0.02), seats("global-default", 0.25)), t=t)
    assert p.resource == "priority-level/workload-low" and p.severity.value == "critical"


# -- near misses --------------------------------------------------------------------------------------
def test_exempt_is_never_judged() -> None:
    assert findings(at(1.7e9, seats("exempt", 1.0))) == []


def test_just_under_the_thresholds_is_healthy() -> None:
    assert findings(at(1.7e9, seats("leader-election", 0.009), seats("global-default", 0.099))) == []


def test_a_busy_past_that_calmed_since_the_previous_scan_is_healthy() -> None:
    previous = current_values(scraped(at(1.7e9, SeatUtilization("system", 0.5e11, 1e11))))  # 50 % then
    calm = at(1.7e9, SeatUtilization("system", 0.5e11 + 1e11, 2e11))  # every new moment below 90 %
    assert findings(calm, baseline=ApfBaseline(previous, NOW)) == []


def test_no_time_observed_is_not_judged() -> None:
    assert findings(at(1.7e9, SeatUtilization("system", 0.0, 0.0))) == []


def test_a_failed_scrape_raises_nothing() -> None:
    snap = snapshot(scrape=scraped(error="403"))
    assert list(apiserver_flowcontrol_saturation(snap, T, NOW)) == []


# -- reading /metrics ---------------------------------------------------------------------------------
def test_the_real_dump_gives_every_level_and_the_simulator_saturates_one() -> None:
    body = apiserver_metrics("1.31", seat_saturation={"workload-low": 0.25})
    sample = sample_of(parse([body], FAMILIES))
    levels = {u.priority_level: u for u in sample.seat_utilization}
    assert {"exempt", "system", "leader-election", "workload-low", "catch-all"} <= set(levels)
    low = levels["workload-low"]
    assert round(1 - low.at_most_90 / low.count, 2) == 0.25
    assert levels["catch-all"].at_most_90 == levels["catch-all"].count  # the dump's own: never above
