"""etcd.db_growth as a pure function: the trend, history, the tier's own limit, and bad data."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from eksmon.checks.etcd_db_growth import EtcdDbGrowthThresholds, etcd_db_growth, linear_trend
from eksmon.errors import ConfigError
from eksmon.models import Severity, Unevaluated
from eksmon.settings import parse_settings
from tests.unit.metrics_builders import GIB, NOW, QUOTA, cloudwatch, cw, scraped, series, snapshot

SIZE = "etcd_mvcc_db_total_size_in_use_in_bytes"
G = EtcdDbGrowthThresholds()


def history(per_day: float, now_bytes: float, hours: float = 24, step_minutes: int = 5, **kwargs):
    n = int(hours * 60 / step_minutes)
    step = timedelta(minutes=step_minutes)
    values = [now_bytes - per_day * ((n - 1 - i) * step_minutes / 1440) for i in range(n)]
    return series(SIZE, values, step=step, stat="Maximum", end=NOW + step, **kwargs)


def growth(size_series, t=G, **kwargs):
    return list(etcd_db_growth(snapshot(cloudwatch(size=size_series), scraped(), **kwargs), t, NOW))


def test_linear_trend_recovers_slope_and_value_at_now() -> None:
    points = [(NOW - timedelta(hours=h), 1000.0 - 10 * h) for h in range(10, -1, -1)]
    slope, at_now = linear_trend(points, NOW)
    assert math.isclose(slope * 3600, 10) and math.isclose(at_now, 1000)
    flat = [(NOW, 5.0), (NOW, 7.0)]
    assert linear_trend(flat, NOW) == (0.0, 6.0)


@pytest.mark.parametrize(
    ("days_left", "severity"),
    [
        (20, None),
        (14.2, None),
        (13.8, Severity.WARNING),
        (2, Severity.WARNING),
        (1.05, Severity.WARNING),
        (0.9, Severity.CRITICAL),
    ],
)
def test_growth_severity_by_days_to_quota(days_left, severity) -> None:
    now_bytes = 6 * GIB
    per_day = (QUOTA - now_bytes) / days_left
    found = growth(history(per_day, now_bytes))
    assert [p.severity for p in found] == ([severity] if severity else [])
    if found:
        assert math.isclose(found[0].details["days_to_quota"], days_left, rel_tol=0.01)
        assert math.isclose(found[0].details["bytes_per_day"], per_day, rel_tol=0.001)


def test_growth_finding_says_when_the_quota_is_reached() -> None:
    (p,) = growth(history(1.2 * GIB, 5.8 * GIB))
    assert p.severity is Severity.WARNING
    assert p.details["days_to_quota"] == pytest.approx(1.83, abs=0.01)
    assert p.details["quota_reached_at"] == "2026-11-28T08:00:00Z"
    assert "1.20 GiB a day" in p.message and "5.80 GiB" in p.message and "NOSPACE" in p.message
    assert p.details["points"] == 288 and p.details["lookback_hours"] == 24


def test_growth_counts_from_the_last_point_not_from_now() -> None:
    # the series stopped 12 hours ago at 1.5 days from the quota: 1 day is left now
    s = history(GIB, QUOTA - 1.5 * GIB)
    shifted = type(s)(
        s.namespace, s.metric, s.stat, s.period, tuple((t - timedelta(hours=12), v) for t, v in s.points)
    )
    (p,) = growth(shifted, EtcdDbGrowthThresholds(lookback_hours=36))
    assert p.details["days_to_quota"] == pytest.approx(1.0, abs=0.01)


def test_growth_past_the_quota_is_critical_now() -> None:
    (p,) = growth(history(0.5 * GIB, QUOTA + GIB))
    assert p.severity is Severity.CRITICAL and p.details["days_to_quota"] == 0


@pytest.mark.parametrize("per_day", [0.0, -0.3 * GIB])
def test_no_growth_or_shrinking_is_silent(per_day) -> None:
    assert growth(history(per_day, 7.9 * GIB)) == []


def test_growth_is_fitted_only_to_the_configured_look_back() -> None:
    # steep growth 2 days ago, flat for the last 24 h: the default look-back sees no growth
    old = [
        (NOW - timedelta(hours=48) + timedelta(minutes=5 * i), 1 * GIB + i * 0.01 * GIB) for i in range(288)
    ]
    recent = [(NOW - timedelta(hours=24) + timedelta(minutes=5 * i), 4 * GIB) for i in range(288)]
    s = series(
        SIZE,
        [v for _, v in old + recent],
        step=timedelta(minutes=5),
        stat="Maximum",
        end=NOW + timedelta(minutes=5),
    )
    assert growth(s) == []
    assert growth(s, EtcdDbGrowthThresholds(lookback_hours=48))[0].severity is Severity.WARNING


def test_growth_with_too_little_history_is_unevaluated_not_an_alarm() -> None:
    steep = history(50 * GIB, 7 * GIB, hours=2)  # only 2 h of a 24 h look-back
    (p,) = growth(steep)
    assert isinstance(p, Unevaluated)
    assert "24 points over 1.9 h" in p.reason
    (few,) = growth(history(50 * GIB, 7 * GIB, hours=24, step_minutes=300))
    assert isinstance(few, Unevaluated) and "only 4 points" in few.reason


def test_growth_without_any_cloudwatch_series_is_unevaluated() -> None:
    (p,) = list(etcd_db_growth(snapshot(cloudwatch(), scraped()), G, NOW))
    assert isinstance(p, Unevaluated) and "no etcd size series" in p.reason


@pytest.mark.parametrize("status", ["CREATING", "DELETING", "FAILED"])
def test_growth_ignores_clusters_without_a_running_control_plane(status) -> None:
    assert list(etcd_db_growth(snapshot(cloudwatch(), scraped(), status=status), G, NOW)) == []


def test_growth_is_silent_when_cloudwatch_could_not_be_read() -> None:
    assert list(etcd_db_growth(snapshot(cloudwatch(error="AccessDenied"), scraped()), G, NOW)) == []


def test_growth_ignores_future_points_clock_skew() -> None:
    s = history(0.0, 4 * GIB)
    skewed = type(s)(
        s.namespace, s.metric, s.stat, s.period, (*s.points, (NOW + timedelta(hours=2), 8 * GIB))
    )
    assert growth(skewed) == []


def test_growth_on_partial_data_says_so() -> None:
    (p,) = growth(history(1.5 * GIB, 6 * GIB, partial=True))
    assert p.details["partial"] is True


def test_growth_thresholds_validated() -> None:
    with pytest.raises(ConfigError, match=r"etcd\.db_growth.*critical_days"):
        parse_settings(
            {"checks": {"thresholds": {"etcd.db_growth": {"warning_days": 1, "critical_days": 2}}}}
        )
    with pytest.raises(ConfigError, match=r"etcd\.db_growth\.lookback_hours"):
        parse_settings({"checks": {"thresholds": {"etcd.db_growth": {"lookback_hours": 0}}}})


def test_etcd_growth_counts_down_to_the_tiers_limit() -> None:
    step = timedelta(minutes=5)
    values = [9 * GIB + i * (0.25 * GIB / 288) for i in range(288)]  # +0.25 GiB/day: 16 GiB in ~27 days
    size = series(SIZE, values, step=step, stat="Maximum")
    assert list(etcd_db_growth(snapshot(cw(size=size), tier="tier-xl"), EtcdDbGrowthThresholds(), NOW)) == []
    (p,) = etcd_db_growth(snapshot(cw(size=size), tier="standard"), EtcdDbGrowthThresholds(), NOW)
    assert p.severity is Severity.CRITICAL  # already past 8 GiB
    (fast,) = etcd_db_growth(  # 2 GiB/day from 9 GiB: 16 GiB in ~3 days
        snapshot(
            cw(
                size=series(
                    SIZE, [9 * GIB + i * (2 * GIB / 288) for i in range(288)], step=step, stat="Maximum"
                )
            ),
            tier="tier-xl",
        ),
        EtcdDbGrowthThresholds(),
        NOW,
    )
    assert fast.severity is Severity.WARNING and fast.details["limit_bytes"] == 16 * GIB
