"""version.standard_support_ending as a pure function: days left, support policies, the calendar, every status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from eksmon.checks.version_extended_support import ExtendedSupportThresholds, extended_support
from eksmon.checks.version_standard_support_ending import (
    StandardSupportThresholds,
    days_to_end_of_standard_support,
    standard_support_ending,
)
from eksmon.models import Severity

from .lifecycle_builders import calendar, info, snapshot

STD = StandardSupportThresholds()
EXT = ExtendedSupportThresholds()
# 1.34: standard support ends 2026-12-02, extended support 2027-12-02
END_134 = datetime(2026, 12, 2, tzinfo=UTC)


def at_days_before(days: int, hour: int = 12) -> datetime:
    return END_134 - timedelta(days=days) + timedelta(hours=hour)


def standard(days: int, **cluster: object) -> list:
    snap = snapshot(info(**cluster), calendar())
    return list(standard_support_ending(snap, STD, at_days_before(days)))


class TestStandardSupportEnding:
    @pytest.mark.parametrize(
        ("days", "expected"),
        [
            (120, None),
            (91, None),
            (90, Severity.WARNING),
            (31, Severity.WARNING),
            (30, Severity.CRITICAL),
            (1, Severity.CRITICAL),
        ],
    )
    def test_severity_by_days_left(self, days: int, expected: Severity | None) -> None:
        found = standard(days)
        assert [f.severity for f in found] == ([expected] if expected else [])
        if expected:
            assert found[0].details["days_left"] == days
            assert found[0].details["end_of_standard_support"] == "2026-12-02"

    def test_extended_policy_hands_over_on_the_end_date_itself(self) -> None:
        # Given an EXTENDED cluster on the end-of-standard date (billing starts 00:00 UTC that day)
        # Then this check is quiet and version.extended_support reports instead
        assert standard(0) == []
        ext = list(extended_support(snapshot(info(), calendar()), EXT, at_days_before(0)))
        assert len(ext) == 1 and ext[0].severity is Severity.WARNING

    def test_the_day_changes_at_midnight_utc_not_local_time(self) -> None:
        # 23:59 UTC on Dec 1 is one day left; the same instant written in UTC+2 is still Dec 1 in UTC
        late = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
        found = list(standard_support_ending(snapshot(info(), calendar()), STD, late))
        assert found[0].details["days_left"] == 1
        plus_two = late.astimezone(timezone(timedelta(hours=2)))  # 2026-12-02 01:59 local
        found = list(standard_support_ending(snapshot(info(), calendar()), STD, plus_two))
        assert found[0].details["days_left"] == 1
        assert (
            list(standard_support_ending(snapshot(info(), calendar()), STD, late + timedelta(minutes=1)))
            == []
        )

    def test_message_names_paid_extended_support_and_its_cost(self) -> None:
        (f,) = standard(10)
        assert "extended support" in f.message and "$365" in f.message and "2027-12-02" in f.message
        assert f.details["support_type"] == "EXTENDED"
        assert "1.35" in f.remediation

    def test_standard_policy_means_forced_upgrade_even_after_the_date(self) -> None:
        (f,) = standard(10, support_type="STANDARD")
        assert "automatically" in f.message and "forced upgrade" in (f.title or "")
        (late,) = standard(-3, support_type="STANDARD")
        assert late.severity is Severity.CRITICAL and late.details["days_left"] == -3

    def test_unknown_support_type_is_treated_as_the_default_extended(self) -> None:
        (f,) = standard(10, support_type=None)
        assert f.details["support_type"] == "EXTENDED"

    def test_version_missing_from_the_calendar_is_said_not_skipped(self) -> None:
        snap = snapshot(info(version="1.99"), calendar())
        (f,) = standard_support_ending(snap, STD, END_134)
        assert f.severity is Severity.INFO and f.details["days_left"] is None and "1.99" in f.message

    @pytest.mark.parametrize("status", ["CREATING", "UPDATING", "FAILED", "PENDING"])
    def test_clusters_not_being_deleted_are_still_warned(self, status: str) -> None:
        assert len(standard(10, status=status)) == 1

    def test_deleting_cluster_is_not_warned(self) -> None:
        assert standard(10, status="DELETING") == []

    def test_thresholds_are_configurable_and_validated(self) -> None:
        snap = snapshot(info(), calendar())
        t = StandardSupportThresholds(warning_days=200, critical_days=5)
        (f,) = standard_support_ending(snap, t, at_days_before(100))
        assert f.severity is Severity.WARNING
        with pytest.raises(ValueError, match="critical_days"):
            StandardSupportThresholds(warning_days=10, critical_days=20)

    def test_metric_days_to_end_per_cluster(self) -> None:
        (p,) = days_to_end_of_standard_support(snapshot(info(), calendar()), at_days_before(42))
        assert (
            p.name == "DaysToEndOfStandardSupport"
            and p.value == 42
            and p.dimensions == {"ClusterName": "prod", "Tier": "standard"}
        )
        (tiered,) = days_to_end_of_standard_support(
            snapshot(info(tier="tier-xl"), calendar()), at_days_before(42)
        )
        assert tiered.dimensions["Tier"] == "tier-xl"  # the dashboard names the tier from it
