"""apiserver.error_rate as a pure function of CloudWatch series."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eksmon.checks.apiserver_error_rate import ApiserverErrorRateThresholds, apiserver_error_rate
from eksmon.collectors.control_plane_metrics import (
    REQUESTS,
    REQUESTS_5XX,
    aligned_points,
)
from eksmon.errors import ConfigError
from eksmon.models import Severity
from eksmon.settings import parse_settings
from tests.unit.metrics_builders import NOW, cloudwatch, per_minute, scraped, series, snapshot

E = ApiserverErrorRateThresholds()


def snap(*window, **kwargs):
    return snapshot(cloudwatch(*window, **kwargs), scraped())


@pytest.mark.parametrize(
    ("errors_per_minute", "severity"),
    [
        (0, None),
        (9.9, None),
        (10, Severity.WARNING),
        (49.9, Severity.WARNING),
        (50, Severity.CRITICAL),
        (1000, Severity.CRITICAL),
    ],
)
def test_error_rate_severity_at_1_and_5_percent(errors_per_minute, severity) -> None:
    s = snap(per_minute(REQUESTS, 1000), per_minute(REQUESTS_5XX, errors_per_minute))
    found = list(apiserver_error_rate(s, E, NOW))
    assert [p.severity for p in found] == ([severity] if severity else [])


def test_error_rate_finding_has_the_numbers_of_the_window() -> None:
    s = snap(per_minute(REQUESTS, 4000), series(REQUESTS_5XX, [0] * 7 + [500] * 8))
    (p,) = apiserver_error_rate(s, E, NOW)
    assert p.details["errors_5xx"] == 4000 and p.details["requests"] == 60000
    assert p.details["percent"] == 6.67 and p.details["peak_5xx_per_minute"] == 500
    assert p.details["from"] == "2026-11-26T11:45:00Z" and p.details["to"] == "2026-11-26T12:00:00Z"
    assert p.resource == "apiserver/5xx" and "6.67 %" in p.message and "4,000 of 60,000" in p.message


def test_error_rate_counts_only_the_window() -> None:
    # a burst 50 minutes ago is outside a 15-minute window, inside an hour's
    requests, errors = per_minute(REQUESTS, 1000, 60), series(REQUESTS_5XX, [900] * 10 + [0] * 50)
    assert list(apiserver_error_rate(snap(requests, errors), E, NOW)) == []
    assert list(apiserver_error_rate(snap(requests, errors, window_minutes=60), E, NOW))


def test_error_rate_needs_enough_requests() -> None:
    s = snap(per_minute(REQUESTS, 5), per_minute(REQUESTS_5XX, 5))  # 75 requests, all 5xx
    assert list(apiserver_error_rate(s, E, NOW)) == []
    assert list(apiserver_error_rate(s, ApiserverErrorRateThresholds(min_requests=50), NOW))


def test_error_rate_partial_answer_never_inflates_the_rate() -> None:
    # CloudWatch returned the 5xx series but only 3 minutes of the request totals
    s = snap(
        series(REQUESTS, [2000] * 3),
        per_minute(REQUESTS_5XX, 10),
    )
    assert list(apiserver_error_rate(s, E, NOW)) == []
    counts = aligned_points(
        per_minute(REQUESTS_5XX, 10), series(REQUESTS, [2000] * 3), NOW - timedelta(minutes=15), NOW
    )
    assert [v for _, v in counts] == [(10, 2000)] * 3


@pytest.mark.parametrize(
    "window",
    [
        (),
        (per_minute(REQUESTS, 1000),),
        (per_minute(REQUESTS_5XX, 10),),
        (series(REQUESTS, []), series(REQUESTS_5XX, [])),
    ],
)
def test_error_rate_is_silent_on_missing_or_empty_series(window) -> None:
    assert list(apiserver_error_rate(snap(*window), E, NOW)) == []


def test_error_rate_is_silent_for_a_cluster_cloudwatch_does_not_know() -> None:
    assert list(apiserver_error_rate(snap(present=False), E, NOW)) == []


def test_error_rate_thresholds_validated() -> None:
    with pytest.raises(ConfigError, match=r"apiserver\.error_rate.*critical_percent"):
        parse_settings({"checks": {"thresholds": {"apiserver.error_rate": {"warning_percent": 6}}}})
    with pytest.raises(ConfigError, match=r"apiserver\.error_rate\.burst_minutes"):
        parse_settings({"checks": {"thresholds": {"apiserver.error_rate": {"burst_minutes": 0}}}})
