"""version.upgrade_insight as a pure function: insight categories, deprecated APIs and their callers."""

from __future__ import annotations

from datetime import UTC, datetime

from eksmon.checks.version_upgrade_insight import upgrade_insight
from eksmon.collectors.eks import ClientStat, Deprecation
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .lifecycle_builders import insight, insights, snapshot

NONE = NoThresholds()
# 1.34: standard support ends 2026-12-02, extended support 2027-12-02
END_134 = datetime(2026, 12, 2, tzinfo=UTC)


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
