"""version.extended_support as a pure function: the monthly cost and the forced upgrade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eksmon.checks.version_extended_support import ExtendedSupportThresholds, extended_support
from eksmon.models import Severity

from .lifecycle_builders import calendar, dates, info, snapshot

EXT = ExtendedSupportThresholds()
# 1.34: standard support ends 2026-12-02, extended support 2027-12-02
END_134 = datetime(2026, 12, 2, tzinfo=UTC)


class TestExtendedSupport:
    def test_in_extended_support_warns_with_monthly_cost(self) -> None:
        snap = snapshot(info(version="1.32"), calendar())
        (f,) = extended_support(snap, EXT, datetime(2026, 11, 26, tzinfo=UTC))
        assert f.severity is Severity.WARNING
        assert f.details == {
            "version": "1.32",
            "end_of_extended_support": "2027-03-23",
            "days_left": 117,
            "extra_cost_per_month_usd": 365.0,
        }

    @pytest.mark.parametrize(
        ("days", "expected"),
        [(31, Severity.WARNING), (30, Severity.CRITICAL), (0, Severity.CRITICAL), (-5, Severity.CRITICAL)],
    )
    def test_critical_within_30_days_of_forced_upgrade(self, days: int, expected: Severity) -> None:
        end = datetime(2027, 3, 23, 6, tzinfo=UTC)
        snap = snapshot(info(version="1.32"), calendar())
        (f,) = extended_support(snap, EXT, end - timedelta(days=days))
        assert f.severity is expected and f.details["days_left"] == days
        assert "automatically" in f.message

    def test_configurable_rate(self) -> None:
        snap = snapshot(info(version="1.32"), calendar())
        (f,) = extended_support(
            snap,
            ExtendedSupportThresholds(extra_cost_per_cluster_hour_usd=1.0),
            datetime(2026, 11, 26, tzinfo=UTC),
        )
        assert f.details["extra_cost_per_month_usd"] == 730.0

    def test_quiet_in_standard_support_and_for_standard_policy(self) -> None:
        assert list(extended_support(snapshot(info(version="1.35"), calendar()), EXT, END_134)) == []
        snap = snapshot(info(version="1.32", support_type="STANDARD"), calendar())
        assert list(extended_support(snap, EXT, END_134)) == []

    def test_unpublished_end_of_extended_support(self) -> None:
        snap = snapshot(info(version="1.40"), calendar(dates("1.40", "2026-01-01", None)))
        (f,) = extended_support(snap, EXT, END_134)
        assert f.severity is Severity.WARNING and f.details["days_left"] is None
