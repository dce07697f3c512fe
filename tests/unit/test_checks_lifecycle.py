"""The version-lifecycle checks as pure functions: boundaries, missing data, every status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from eksmon.checks.auth_config_map_only import config_map_only
from eksmon.checks.cluster_control_plane_logging import control_plane_logging
from eksmon.checks.cluster_health_issue import health_issue
from eksmon.checks.version_addon_incompatible import addon_incompatible
from eksmon.checks.version_extended_support import ExtendedSupportThresholds, extended_support
from eksmon.checks.version_nodegroup_skew import nodegroup_skew
from eksmon.checks.version_standard_support_ending import (
    StandardSupportThresholds,
    days_to_end_of_standard_support,
    standard_support_ending,
)
from eksmon.checks.version_upgrade_insight import upgrade_insight
from eksmon.collectors.eks import Addon, ClientStat, Deprecation
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .lifecycle_builders import addons, calendar, dates, health, info, insight, insights, nodegroups, snapshot

STD = StandardSupportThresholds()
EXT = ExtendedSupportThresholds()
NONE = NoThresholds()
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


class TestNodegroupSkew:
    @pytest.mark.parametrize(
        ("plane", "nodes", "expected"),
        [
            ("1.34", "1.34", None),
            ("1.34", "1.33", Severity.WARNING),
            ("1.34", "1.32", Severity.WARNING),
            ("1.34", "1.31", Severity.WARNING),  # 3 is allowed from 1.28 on
            ("1.34", "1.30", Severity.CRITICAL),
            ("1.27", "1.25", Severity.WARNING),  # 2 allowed before 1.28
            ("1.27", "1.24", Severity.CRITICAL),
            ("1.33", "1.34", Severity.CRITICAL),  # kubelet newer than the apiserver
        ],
    )
    def test_skew_policy(self, plane: str, nodes: str, expected: Severity | None) -> None:
        snap = snapshot(info(version=plane), nodegroups(("ng-1", nodes)))
        found = list(nodegroup_skew(snap, NONE, END_134))
        assert [f.severity for f in found] == ([expected] if expected else [])
        if found:
            assert found[0].resource == "nodegroup/ng-1"
            assert found[0].details["skew"] == int(plane.split(".")[1]) - int(nodes.split(".")[1])

    def test_at_the_limit_says_the_control_plane_cannot_move(self) -> None:
        (f,) = nodegroup_skew(snapshot(info(version="1.34"), nodegroups(("ng", "1.31"))), NONE, END_134)
        assert "cannot be upgraded again" in f.message

    def test_deleting_and_unversioned_node_groups_are_ignored(self) -> None:
        snap = snapshot(info(version="1.34"), nodegroups(("gone", "1.30"), status="DELETING"))
        assert list(nodegroup_skew(snap, NONE, END_134)) == []
        assert list(nodegroup_skew(snapshot(info(), nodegroups(("x", None))), NONE, END_134)) == []

    def test_one_finding_per_node_group(self) -> None:
        snap = snapshot(info(version="1.34"), nodegroups(("a", "1.34"), ("b", "1.33"), ("c", "1.29")))
        assert sorted(f.resource for f in nodegroup_skew(snap, NONE, END_134)) == [
            "nodegroup/b",
            "nodegroup/c",
        ]


class TestAddons:
    def test_incompatible_addon_warns_with_the_version_to_move_to(self) -> None:
        snap = snapshot(
            info(),
            addons(
                Addon("vpc-cni", "v1.18.3", "ACTIVE", "1.35", False, "v1.21.1"),
                Addon("coredns", "v1.12", "ACTIVE", "1.35", True, "v1.13"),
                Addon("custom", "v0", "ACTIVE", "1.35", None, None),
            ),
        )
        (f,) = addon_incompatible(snap, NONE, END_134)
        assert f.resource == "addon/vpc-cni" and f.severity is Severity.WARNING
        assert f.details["next_version"] == "1.35" and "v1.21.1" in f.remediation


class TestUpgradeInsight:
    def test_error_is_critical_and_names_deprecated_api_and_callers(self) -> None:
        dep = Deprecation(
            "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas",
            "/apis/.../v1",
            "1.32",
            (ClientStat("kube-prometheus-stack/v0.65", 1433, None),),
        )
        snap = snapshot(
            insights(insight("ERROR", deprecations=(dep,)), insight("PASSING"), insight("UNKNOWN"))
        )
        (f,) = upgrade_insight(snap, NONE, END_134)
        assert f.severity is Severity.CRITICAL
        assert "flowcontrol" in f.message and "kube-prometheus-stack" in f.message
        assert f.details["deprecated_apis"][0]["clients"][0]["requests_last_30_days"] == 1433

    def test_warning_and_unknown_categories(self) -> None:
        snap = snapshot(
            insights(
                insight("WARNING"),
                insight("ERROR", category="MISCONFIGURATION"),
                insight("ERROR", category="SOMETHING_NEW"),
            )
        )
        assert [f.severity for f in upgrade_insight(snap, NONE, END_134)] == [Severity.WARNING]


class TestClusterChecks:
    def test_logging_off_is_info_listing_the_types(self) -> None:
        (f,) = control_plane_logging(snapshot(info(logging_enabled=frozenset({"api"}))), NONE, END_134)
        assert f.severity is Severity.INFO
        assert f.details["disabled"] == ["audit", "authenticator", "controllerManager", "scheduler"]
        assert list(control_plane_logging(snapshot(info()), NONE, END_134)) == []
        assert list(control_plane_logging(snapshot(info(logging_enabled=None)), NONE, END_134)) == []

    def test_one_critical_per_health_issue_code(self) -> None:
        snap = snapshot(
            info(health_issues=health("Ec2SubnetNotFound", "Ec2SubnetNotFound", "IamRoleNotFound"))
        )
        found = list(health_issue(snap, NONE, END_134))
        assert [f.resource for f in found] == ["health/Ec2SubnetNotFound", "health/IamRoleNotFound"]
        assert all(f.severity is Severity.CRITICAL for f in found)
        assert found[0].details["resource_ids"] == ["res-0", "res-1"]

    @pytest.mark.parametrize(
        ("mode", "fires"),
        [("CONFIG_MAP", True), ("API_AND_CONFIG_MAP", False), ("API", False), (None, False)],
    )
    def test_config_map_only(self, mode: str | None, fires: bool) -> None:
        found = list(config_map_only(snapshot(info(authentication_mode=mode)), NONE, END_134))
        assert bool(found) is fires
        if fires:
            assert found[0].severity is Severity.WARNING and "locks" in found[0].message
