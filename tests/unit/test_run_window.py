"""The CloudWatch checks read all the time since the previous run, and a burst anywhere in it is found.

The metrics monitor runs hourly: a check that judged only the last 15 minutes of the hour never saw a
burst in the other 45. Each window-based check now judges the whole window (the collector's
``window_start`` to ``now``) and its worst 15 minutes, and says when those were.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eksmon.checks._window import REPLACED_WINDOW
from eksmon.checks.admission_webhook_latency import WebhookLatencyThresholds, webhook_latency
from eksmon.checks.apiserver_error_rate import ApiserverErrorRateThresholds, apiserver_error_rate
from eksmon.checks.apiserver_latency import ApiserverLatencyThresholds, apiserver_latency
from eksmon.checks.apiserver_throttling import ApiserverThrottlingThresholds, apiserver_throttling
from eksmon.checks.control_plane_capacity import ControlPlaneCapacityThresholds, control_plane_capacity
from eksmon.collectors.control_plane_metrics import (
    LATENCY_METRICS,
    REQUESTS,
    REQUESTS_5XX,
    REQUESTS_429,
    SCHEDULED,
    SEATS,
    WEBHOOK_DURATION,
    mean,
    total,
    window_period,
    worst_stretch,
)
from eksmon.errors import ConfigError
from eksmon.models import Severity
from eksmon.settings import parse_settings, rate_minutes
from tests.unit.metrics_builders import NOW, cloudwatch, per_minute, scraped, series, snapshot

E = ApiserverErrorRateThresholds()
HOUR = 60


def hourly(*window, minutes: int = HOUR, **info):
    """The part an hourly run reads: the last ``minutes`` before NOW (12:00 UTC)."""
    return snapshot(cloudwatch(*window, window_minutes=minutes), scraped(), **info)


def burst(metric: str, value: float, *, length: int = 15, ends_before_now: int = 26, stat: str = "Sum"):
    """An hour of points, ``value`` for ``length`` minutes that end ``ends_before_now`` minutes before NOW."""
    after = ends_before_now
    before = HOUR - length - after
    return series(metric, [0.0] * before + [value] * length + [0.0] * after, stat=stat)


# -- the case: a 15-minute 5xx burst that ends 26 minutes before an hourly run ---------------
def test_a_burst_that_ends_26_minutes_before_the_run_is_found_and_dated() -> None:
    requests = per_minute(REQUESTS, 1000, HOUR)
    errors = burst(REQUESTS_5XX, 30)  # 3 % for 15 minutes, 0.75 % over the hour
    (p,) = apiserver_error_rate(hourly(requests, errors), E, NOW)
    assert p.severity is Severity.WARNING
    assert p.details["worst_window_start"] == "2026-11-26T11:19:00Z"
    assert p.details["worst_window_end"] == "2026-11-26T11:34:00Z"
    assert p.details["worst_window_percent"] == 3.0 and p.details["window_percent"] == 0.75
    assert p.details["percent"] == 3.0 and p.details["window_minutes"] == HOUR
    assert p.details["from"] == "2026-11-26T11:00:00Z" and p.details["to"] == "2026-11-26T12:00:00Z"
    assert "between 11:19 and 11:34 UTC" in p.message and "the worst 15 minutes of the last 60" in p.message
    assert "450 of 15,000" in p.message and "0.75 % over the whole window" in p.message


def test_the_old_15_minute_window_missed_that_burst() -> None:
    # what an hourly run read before: only the last 15 minutes, which hold none of the burst
    requests = per_minute(REQUESTS, 1000, HOUR)
    assert list(apiserver_error_rate(hourly(requests, burst(REQUESTS_5XX, 30), minutes=15), E, NOW)) == []


def test_the_healthy_near_miss_of_that_burst_is_not_a_finding() -> None:
    requests = per_minute(REQUESTS, 1000, HOUR)
    assert list(apiserver_error_rate(hourly(requests, burst(REQUESTS_5XX, 9.9)), E, NOW)) == []


@pytest.mark.parametrize(("per_minute_5xx", "severity"), [(49.9, Severity.WARNING), (50, Severity.CRITICAL)])
def test_a_burst_takes_the_severity_of_its_own_rate(per_minute_5xx: float, severity: Severity) -> None:
    requests = per_minute(REQUESTS, 1000, HOUR)
    (p,) = apiserver_error_rate(hourly(requests, burst(REQUESTS_5XX, per_minute_5xx)), E, NOW)
    assert p.severity is severity


@pytest.mark.parametrize("ends_before_now", [0, 10, 26, 45])
def test_a_burst_is_found_wherever_it_falls_in_the_hour(ends_before_now: int) -> None:
    requests = per_minute(REQUESTS, 1000, HOUR)
    errors = burst(REQUESTS_5XX, 30, ends_before_now=ends_before_now)
    (p,) = apiserver_error_rate(hourly(requests, errors), E, NOW)
    end = NOW - timedelta(minutes=ends_before_now)
    assert p.details["worst_window_end"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_burst_half_outside_the_window_counts_only_its_inside_half() -> None:
    # 16 minutes at 2 %, of which the last 8 are in a 60-minute window: 8 x 20 / 15,000 = 1.07 %
    requests = per_minute(REQUESTS, 1000, 90)
    errors = series(REQUESTS_5XX, [0.0] * 22 + [20.0] * 16 + [0.0] * 52)
    (p,) = apiserver_error_rate(hourly(requests, errors), E, NOW)
    assert p.details["worst_window_start"] == "2026-11-26T11:00:00Z" and p.details["percent"] == 1.07
    half = series(REQUESTS_5XX, [0.0] * 22 + [18.0] * 16 + [0.0] * 52)  # 0.96 %: a near miss
    assert list(apiserver_error_rate(hourly(requests, half), E, NOW)) == []


def test_a_short_spike_is_judged_over_15_minutes_not_alone() -> None:
    # 3 minutes at 5 % are 1 % of the 15 minutes around them: a warning, never a critical
    requests = per_minute(REQUESTS, 1000, HOUR)
    (p,) = apiserver_error_rate(hourly(requests, burst(REQUESTS_5XX, 50, length=3)), E, NOW)
    assert p.severity is Severity.WARNING and p.details["percent"] == 1.0
    quieter = burst(REQUESTS_5XX, 49, length=3)  # 0.98 %
    assert list(apiserver_error_rate(hourly(requests, quieter), E, NOW)) == []


def test_the_stretch_length_is_configurable() -> None:
    requests = per_minute(REQUESTS, 1000, HOUR)
    spike = burst(REQUESTS_5XX, 50, length=5)  # 1.67 % over 15 minutes, 5 % over 5
    five = ApiserverErrorRateThresholds(burst_minutes=5)
    (p,) = apiserver_error_rate(hourly(requests, spike), five, NOW)
    assert p.severity is Severity.CRITICAL and p.details["burst_minutes"] == 5


def test_a_quiet_cluster_is_judged_over_the_whole_window_when_no_stretch_has_enough_requests() -> None:
    # 5 requests a minute: 75 in any 15 minutes (under min_requests, 100), 300 in the hour, 5 of them 5xx
    requests = per_minute(REQUESTS, 5, HOUR)
    errors = burst(REQUESTS_5XX, 5, length=1)
    (p,) = apiserver_error_rate(hourly(requests, errors), E, NOW)
    assert p.details["percent"] == 1.67 and p.details["worst_window_percent"] is None
    assert p.details["worst_window_start"] is None and "5 of 300 requests" in p.message
    assert "(1.67 %) in the last 60 minutes" in p.message
    few = ApiserverErrorRateThresholds(min_requests=301)
    assert list(apiserver_error_rate(hourly(requests, errors), few, NOW)) == []


def test_the_old_window_threshold_is_refused_with_what_replaced_it() -> None:
    with pytest.raises(ConfigError, match="no longer set per check") as raised:
        parse_settings({"checks": {"thresholds": {"apiserver.latency": {"window_minutes": 60}}}})
    assert "eksmon scan --window" in str(raised.value) and "burst_minutes" in str(raised.value)
    with pytest.raises(ConfigError, match=r"control_plane\.capacity: window_minutes"):
        parse_settings({"checks": {"thresholds": {"control_plane.capacity": {"window_minutes": 15}}}})
    assert "schedules.metrics" in REPLACED_WINDOW


# -- the other window checks --------------------------------------------------------------------------
def test_throttling_between_runs_is_found_and_dated() -> None:
    throttled = burst(REQUESTS_429, 20, length=10, ends_before_now=40)
    (p,) = apiserver_throttling(hourly(per_minute(REQUESTS, 1000, HOUR), throttled), TH, NOW)
    assert p.details["requests_429"] == 200 and p.details["worst_window_429"] == 200
    # the burst is 11:10-11:20; of the 15-minute stretches that hold all of it, the latest is named
    assert p.details["window_minutes"] == HOUR and p.details["worst_window_start"] == "2026-11-26T11:10:00Z"
    assert list(apiserver_throttling(hourly(throttled, minutes=15), TH, NOW)) == []


TH = ApiserverThrottlingThresholds()


def test_throttling_names_the_worst_stretch_when_429s_are_spread() -> None:
    spread = series(REQUESTS_429, [1.0] * 30 + [40.0] * 5 + [1.0] * 25)
    (p,) = apiserver_throttling(hourly(spread), TH, NOW)
    assert p.details["requests_429"] == 255 and p.details["worst_window_429"] == 210
    assert "the most, 210, between" in p.message


def test_latency_burst_between_runs_is_found_against_its_slo() -> None:
    slow = burst(LATENCY_METRICS["GET"], 1.5, stat="Average")
    (p,) = apiserver_latency(hourly(slow), ApiserverLatencyThresholds(), NOW)
    assert p.details["p99_seconds"] == 1.5 and p.details["window_p99_seconds"] == 0.375
    assert p.details["worst_window_start"] == "2026-11-26T11:19:00Z"
    assert list(apiserver_latency(hourly(slow, minutes=15), ApiserverLatencyThresholds(), NOW)) == []
    near = burst(LATENCY_METRICS["GET"], 0.99, stat="Average")
    assert list(apiserver_latency(hourly(near), ApiserverLatencyThresholds(), NOW)) == []


def test_webhook_latency_burst_between_runs_is_found_from_aws_eks_alone() -> None:
    slow = burst(WEBHOOK_DURATION, 2.0, stat="Average")
    (p,) = webhook_latency(hourly(slow), WebhookLatencyThresholds(), NOW)
    assert p.details["p99_seconds"] == 2.0 and p.details["worst_window_end"] == "2026-11-26T11:34:00Z"
    assert "between 11:19 and 11:34 UTC" in p.message
    assert list(webhook_latency(hourly(slow, minutes=15), WebhookLatencyThresholds(), NOW)) == []
    near = burst(WEBHOOK_DURATION, 0.99, stat="Average")
    assert list(webhook_latency(hourly(near), WebhookLatencyThresholds(), NOW)) == []


def test_capacity_peak_between_runs_is_found() -> None:
    # tier-xl guarantees 1,700 seats: a 1,650-seat peak 40 minutes before the run is 97 %
    seats = series(SEATS, [400.0] * 19 + [1650.0] + [400.0] * 40, stat="Maximum")
    found = list(control_plane_capacity(hourly(seats, tier="tier-xl"), ControlPlaneCapacityThresholds(), NOW))
    assert [p.severity for p in found] == [Severity.CRITICAL]  # type: ignore[union-attr]
    assert found[0].details["window_minutes"] == HOUR  # type: ignore[union-attr]
    old_window = hourly(seats, minutes=15, tier="tier-xl")
    assert list(control_plane_capacity(old_window, ControlPlaneCapacityThresholds(), NOW)) == []


def test_capacity_reads_pods_per_second_from_the_points_period() -> None:
    # past 3 hours the window's points are 5-minute Sums: 30,000 pods in 5 minutes is 100 pods/s
    scheduled = series(SCHEDULED, [30_000.0] + [0.0] * 47, step=timedelta(minutes=5))
    found = list(
        control_plane_capacity(hourly(scheduled, minutes=240), ControlPlaneCapacityThresholds(), NOW)
    )
    assert found and found[0].details["scheduling_peak_per_second"] == 100.0  # type: ignore[union-attr]


# -- the stretch arithmetic -------------------------------------------------------------------------
T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def pts(values: list[float], step: int = 60) -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(seconds=step * i), v) for i, v in enumerate(values)]


def test_worst_stretch_slides_over_every_start_and_keeps_only_whole_stretches() -> None:
    found = worst_stretch(pts([0, 0, 9, 9, 0, 0, 0, 5]), 3, 60, total)
    # [0, 9, 9] and [9, 9, 0] tie: the later one is named
    assert found is not None and found.score == 18 and found.start == T0 + timedelta(minutes=2)
    assert found.end == T0 + timedelta(minutes=5)
    # the last point alone (5) is not a 3-minute stretch: never judged on its own
    assert worst_stretch(pts([0, 0, 0, 0, 0, 9]), 3, 60, mean).score == 3.0  # type: ignore[union-attr]


def test_worst_stretch_of_a_window_shorter_than_the_stretch_is_the_window() -> None:
    found = worst_stretch(pts([1, 2]), 15, 60, total)
    assert found is not None and found.score == 3 and found.end == T0 + timedelta(minutes=2)
    assert worst_stretch([], 15, 60, total) is None


def test_worst_stretch_ties_go_to_the_latest_and_unscored_stretches_are_skipped() -> None:
    found = worst_stretch(pts([4, 0, 4]), 1, 60, total)
    assert found is not None and found.start == T0 + timedelta(minutes=2)
    assert worst_stretch(pts([1, 2, 3]), 1, 60, lambda p: None) is None


def test_worst_stretch_with_gaps_counts_time_not_points() -> None:
    gappy = [(T0, 5.0), (T0 + timedelta(minutes=10), 5.0), (T0 + timedelta(minutes=30), 1.0)]
    found = worst_stretch(gappy, 15, 60, total)
    assert found is not None and found.score == 10.0


def test_worst_stretch_at_5_minute_points_is_at_least_one_point() -> None:
    found = worst_stretch(pts([1, 7, 1, 1], step=300), 2, 300, total)
    assert found is not None and found.score == 7 and found.end - found.start == timedelta(minutes=5)


def test_window_period_is_1_minute_up_to_3_hours_then_5() -> None:
    assert window_period(15) == window_period(60) == window_period(180) == 60
    assert window_period(181) == window_period(1440) == 300


# -- the window of a scheduled run ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "minutes"),
    [
        ("rate(1 minute)", 1),
        ("rate(15 minutes)", 15),
        ("rate(1 hour)", 60),
        ("rate(6 hours)", 360),
        ("rate(1 day)", 1440),
        ("cron(0 * * * ? *)", None),
    ],
)
def test_rate_minutes(expression: str, minutes: int | None) -> None:
    assert rate_minutes(expression) == minutes


@pytest.mark.parametrize(
    ("schedules", "window"),
    [
        ({}, 60),
        ({"metrics": "rate(15 minutes)"}, 15),
        ({"metrics": "rate(1 day)"}, 1440),
        ({"metrics": "cron(0/20 * * * ? *)", "window_minutes": 20}, 20),
        ({"metrics": "rate(15 minutes)", "window_minutes": 30}, 30),  # overlapping runs: allowed
    ],
)
def test_a_scheduled_run_reads_its_schedules_period(schedules: dict[str, object], window: int) -> None:
    assert parse_settings({"schedules": schedules}).schedules.metrics_window() == window


@pytest.mark.parametrize(
    ("schedules", "message"),
    [
        ({"metrics": "cron(0 9-17 ? * MON-FRI *)"}, r"schedules: metrics: cron\(.*\) has no fixed period.*"),
        ({"metrics": "rate(2 days)"}, r"runs less often than daily.*1440 minutes"),
        (
            {"metrics": "rate(1 hour)", "window_minutes": 15},
            r"window_minutes: 15 is shorter than the period of metrics.*45 minutes of each period",
        ),
        ({"window_minutes": 0}, r"schedules\.window_minutes"),
        ({"window_minutes": 1441}, r"schedules\.window_minutes"),
    ],
)
def test_a_schedule_that_would_leave_a_blind_spot_is_refused(
    schedules: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings({"schedules": schedules})
