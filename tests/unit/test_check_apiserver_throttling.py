"""apiserver.throttling as a pure function of CloudWatch series."""

from __future__ import annotations

from eksmon.checks.apiserver_throttling import ApiserverThrottlingThresholds, apiserver_throttling
from eksmon.collectors.control_plane_metrics import (
    REQUESTS,
    REQUESTS_429,
)
from eksmon.models import Severity
from tests.unit.metrics_builders import NOW, cloudwatch, per_minute, scraped, series, snapshot

TH = ApiserverThrottlingThresholds()


def snap(*window, **kwargs):
    return snapshot(cloudwatch(*window, **kwargs), scraped())


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
