"""scheduler.backlog: an active queue that stays non-empty for 15 minutes in a row, and the bursts that
drain, the gaps that break a run and the gated pods that never count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from eksmon.checks.scheduler_backlog import SchedulerBacklogThresholds, scheduler_backlog
from eksmon.collectors.control_plane_metrics import PENDING_ACTIVE, Series

from .metrics_builders import NOW, cloudwatch, series, snapshot

T = SchedulerBacklogThresholds()


def queue(values: list[float], step: timedelta = timedelta(minutes=1)) -> Series:
    return series(PENDING_ACTIVE, values, stat="Minimum", step=step)


def findings(pending: Series | None, t: SchedulerBacklogThresholds = T, minutes: int = 60) -> list[Any]:
    window = (pending,) if pending is not None else ()
    snap = snapshot(cloudwatch(*window, window_minutes=minutes))
    return list(scheduler_backlog(snap, t, NOW))


def test_fifteen_minutes_in_a_row_is_a_warning_dated_in_the_window() -> None:
    values = [0.0] * 20 + [40.0] * 15 + [0.0] * 25
    [p] = findings(queue(values))
    assert p.severity.value == "warning" and p.resource == "scheduler/active-queue"
    assert p.details["backlog_minutes"] == 15 and p.details["peak_pending_pods"] == 40.0
    assert p.details["ongoing"] is False
    assert p.details["backlog_start"] == (NOW - timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "15 minutes in a row between" in p.message


def test_a_backlog_still_going_at_the_end_of_the_window_says_so() -> None:
    [p] = findings(queue([0.0] * 30 + [3.0] * 30))
    assert p.details["ongoing"] is True and "and still is" in p.message and p.details["backlog_minutes"] == 30


def test_five_minute_points_count_their_whole_period() -> None:
    [p] = findings(queue([0.0, 5.0, 5.0, 5.0, 0.0], step=timedelta(minutes=5)), minutes=25)
    assert p.details["backlog_minutes"] == 15


def test_thresholds_are_configurable() -> None:
    t = SchedulerBacklogThresholds(min_minutes=5, min_pods=10)
    assert findings(queue([0.0] * 10 + [9.0] * 20), t) == []  # under 10 pods
    assert len(findings(queue([0.0] * 10 + [10.0] * 5 + [0.0] * 5), t)) == 1


# -- near misses --------------------------------------------------------------------------------------
def test_fourteen_minutes_is_a_burst_that_drained() -> None:
    assert findings(queue([0.0] * 20 + [300.0] * 14 + [0.0] * 26)) == []


def test_a_queue_that_empties_for_a_minute_starts_again() -> None:
    assert findings(queue([5.0] * 10 + [0.0] + [5.0] * 10)) == []


def test_a_missing_point_breaks_the_run() -> None:
    points = queue([5.0] * 30).points
    gapped = Series("AWS/EKS", PENDING_ACTIVE, "Minimum", 60, points[:10] + points[11:])
    [p] = findings(gapped)
    assert p.details["backlog_minutes"] == 19


def test_no_series_no_finding() -> None:
    assert findings(None) == []
