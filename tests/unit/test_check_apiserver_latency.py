"""apiserver.latency as a pure function of CloudWatch series: verbs, SLOs, the window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eksmon.checks.apiserver_latency import (
    SLO_LIST,
    SLO_SINGLE,
    ApiserverLatencyThresholds,
    apiserver_latency,
)
from eksmon.collectors.control_plane_metrics import LATENCY_METRICS
from eksmon.errors import ConfigError
from eksmon.models import Severity
from eksmon.settings import parse_settings
from tests.unit.metrics_builders import NOW, cloudwatch, scraped, series, snapshot

L = ApiserverLatencyThresholds()


def snap(*window, **kwargs):
    return snapshot(cloudwatch(*window, **kwargs), scraped())


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
