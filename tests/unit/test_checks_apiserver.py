"""apiserver.error_rate, apiserver.throttling and apiserver.latency as pure functions of CloudWatch series."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eksmon.checks.apiserver_error_rate import ApiserverErrorRateThresholds, apiserver_error_rate
from eksmon.checks.apiserver_latency import (
    SLO_LIST,
    SLO_SINGLE,
    ApiserverLatencyThresholds,
    apiserver_latency,
)
from eksmon.checks.apiserver_throttling import ApiserverThrottlingThresholds, apiserver_throttling
from eksmon.collectors.control_plane_metrics import (
    LATENCY_METRICS,
    REQUESTS,
    REQUESTS_5XX,
    REQUESTS_429,
    aligned_points,
)
from eksmon.errors import ConfigError
from eksmon.models import Severity
from eksmon.settings import parse_settings
from tests.unit.metrics_builders import NOW, cloudwatch, per_minute, scraped, series, snapshot

E = ApiserverErrorRateThresholds()
TH = ApiserverThrottlingThresholds()
L = ApiserverLatencyThresholds()


def snap(*window, **kwargs):
    return snapshot(cloudwatch(*window, **kwargs), scraped())


# -- error rate -----------------------------------------------------------------------------------
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


# -- throttling -----------------------------------------------------------------------------------
def test_throttling_warns_on_any_429_in_the_window() -> None:
    s = snap(per_minute(REQUESTS, 2000), series(REQUESTS_429, [0] * 14 + [3]))
    (p,) = apiserver_throttling(s, TH, NOW)
    assert p.severity is Severity.WARNING and p.resource == "apiserver/429"
    assert p.details["requests_429"] == 3 and p.details["requests"] == 30000 and p.details["percent"] == 0.01
    assert "429 Too Many Requests" in p.message


def test_throttling_silent_without_429_or_outside_the_window() -> None:
    assert list(apiserver_throttling(snap(per_minute(REQUESTS_429, 0)), TH, NOW)) == []
    old = series(REQUESTS_429, [400] * 5 + [0] * 25)
    assert list(apiserver_throttling(snap(old), TH, NOW)) == []
    assert list(apiserver_throttling(snap(), TH, NOW)) == []


def test_throttling_minimum_is_configurable_and_works_without_request_totals() -> None:
    s = snap(per_minute(REQUESTS_429, 2))
    assert list(apiserver_throttling(s, ApiserverThrottlingThresholds(min_throttled=31), NOW)) == []
    (p,) = apiserver_throttling(s, ApiserverThrottlingThresholds(min_throttled=30), NOW)
    assert p.details["percent"] is None and p.details["requests"] is None


# -- latency --------------------------------------------------------------------------------------
def lat(verb: str, values) -> object:
    return series(LATENCY_METRICS[verb], values, stat="Average")


@pytest.mark.parametrize(
    ("seconds", "severity"),
    [(0.99, None), (1.0, Severity.WARNING), (3.99, Severity.WARNING), (4.0, Severity.CRITICAL)],
)
def test_latency_severity_at_1_and_4_seconds(seconds, severity) -> None:
    found = list(apiserver_latency(snap(lat("GET", [seconds] * 15)), L, NOW))
    assert [p.severity for p in found] == ([severity] if severity else [])


def test_latency_is_the_window_average_of_p99_so_one_spike_does_not_alarm() -> None:
    spiky = lat("GET", [0.05] * 14 + [9.0])
    assert list(apiserver_latency(snap(spiky), L, NOW)) == []
    sustained = lat("GET", [0.05] * 7 + [2.0] * 8)
    (p,) = apiserver_latency(snap(sustained), L, NOW)
    assert p.details["p99_seconds"] == pytest.approx((0.35 + 16) / 15, abs=0.001)
    assert p.details["peak_p99_seconds"] == 2.0 and p.details["verb"] == "GET"


def test_latency_one_finding_per_slow_verb() -> None:
    s = snap(lat("PUT", [5.0] * 15), lat("POST", [1.5] * 15), lat("GET", [0.1] * 15))
    found = {p.resource: p.severity for p in apiserver_latency(s, L, NOW)}
    assert found == {"apiserver/latency/PUT": Severity.CRITICAL, "apiserver/latency/POST": Severity.WARNING}


def test_latency_verbs_can_be_narrowed_and_are_validated() -> None:
    s = snap(lat("DELETE", [5.0] * 15))
    assert list(apiserver_latency(s, ApiserverLatencyThresholds(verbs=["get", "post"]), NOW)) == []
    with pytest.raises(ConfigError, match=r"apiserver\.latency\.verbs.*WATCH"):
        parse_settings({"checks": {"thresholds": {"apiserver.latency": {"verbs": ["GET", "WATCH"]}}}})


def test_latency_ignores_points_outside_the_window_and_after_now() -> None:
    old = series(LATENCY_METRICS["PUT"], [9.0] * 10 + [0.1] * 20, stat="Average")
    assert list(apiserver_latency(snap(old), L, NOW)) == []
    future = series(LATENCY_METRICS["PUT"], [9.0] * 5, stat="Average", end=NOW + timedelta(minutes=6))
    assert list(apiserver_latency(snap(future), L, NOW)) == []


# -- latency against the upstream SLOs ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seconds", "severity"),
    [(2.6, None), (5.0, None), (29.99, None), (30.0, Severity.WARNING), (59.0, Severity.WARNING)],
)
def test_list_is_judged_against_its_30_second_slo(seconds, severity) -> None:
    found = list(apiserver_latency(snap(lat("LIST", [seconds] * 15)), L, NOW))
    assert [p.severity for p in found] == ([severity] if severity else [])


def test_a_slow_list_says_which_slo_it_is_judged_against() -> None:
    (p,) = apiserver_latency(snap(lat("LIST", [31.0] * 15)), L, NOW)
    assert p.details["slo"] == SLO_LIST and p.details["slo_seconds"] == 30.0
    assert p.details["warning_seconds"] == 30.0 and p.details["critical_seconds"] is None
    assert "LIST calls at namespace or cluster scope: p99 <= 30 s" in p.message and "(SLO 30 s)" in p.title


@pytest.mark.parametrize("verb", ["GET", "PUT", "PATCH", "POST", "DELETE"])
def test_get_and_mutating_verbs_keep_the_1_second_slo(verb) -> None:
    (p,) = apiserver_latency(snap(lat(verb, [1.0] * 15)), L, NOW)
    assert p.details["slo"] == SLO_SINGLE and p.details["slo_seconds"] == 1.0
    assert "mutating API calls and reads of a single object: p99 <= 1 s" in p.message
    assert list(apiserver_latency(snap(lat(verb, [0.99] * 15)), L, NOW)) == []


def test_a_list_of_a_few_seconds_beside_a_slow_get_gives_only_the_get() -> None:
    s = snap(lat("LIST", [4.5] * 15), lat("GET", [1.2] * 15))
    assert [p.resource for p in apiserver_latency(s, L, NOW)] == ["apiserver/latency/GET"]


def test_list_thresholds_are_configurable_and_ordered() -> None:
    strict = ApiserverLatencyThresholds(list_warning_seconds=5, list_critical_seconds=20)
    s = snap(lat("LIST", [20.0] * 15))
    (p,) = apiserver_latency(s, strict, NOW)
    assert p.severity is Severity.CRITICAL and p.details["slo"] == SLO_LIST
    (p,) = apiserver_latency(snap(lat("LIST", [19.9] * 15)), strict, NOW)
    assert p.severity is Severity.WARNING
    with pytest.raises(ConfigError, match=r"apiserver\.latency.*list_critical_seconds"):
        parse_settings({"checks": {"thresholds": {"apiserver.latency": {"list_critical_seconds": 10}}}})
    # the GET thresholds do not move LIST's
    loose = ApiserverLatencyThresholds(warning_seconds=60, critical_seconds=60)
    assert list(apiserver_latency(snap(lat("GET", [30.0] * 15)), loose, NOW)) == []
    assert list(apiserver_latency(snap(lat("LIST", [30.0] * 15)), loose, NOW))
