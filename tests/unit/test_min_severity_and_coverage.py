"""notifications.min_severity keeps info findings out of inboxes; monitor.coverage gathers no-data results."""

from __future__ import annotations

import pytest

from eksmon.aws import ApiCallCounter
from eksmon.engine import COVERAGE, ScanResult, coverage_finding
from eksmon.errors import ConfigError
from eksmon.models import Severity
from eksmon.publish.changes import changes_without_state
from eksmon.runner import notifiable
from eksmon.settings import parse_settings
from eksmon.sim.fleet import DEMO_NOW
from tests.unit.alerting_builders import finding


def result(*findings) -> ScanResult:
    return ScanResult(list(findings), [], ApiCallCounter(), DEMO_NOW, 0.0, [])


SCAN = result(
    finding("etcd.db_size", Severity.CRITICAL, resource="etcd"),
    finding("auth.break_glass", Severity.WARNING, resource="access-entries"),
    finding("control_plane.capacity", Severity.INFO, resource="control-plane"),
    finding(COVERAGE, Severity.INFO, resource="coverage"),
)


def checks_sent(settings_doc: dict) -> list[str]:
    sent = notifiable(SCAN, parse_settings(settings_doc))
    return sorted(c.finding.check for c in changes_without_state(sent.findings))


def test_info_findings_are_not_sent_by_default() -> None:
    assert parse_settings({}).notifications.min_severity == "warning"
    assert checks_sent({}) == ["auth.break_glass", "etcd.db_size"]


def test_min_severity_info_sends_everything_and_critical_only_the_worst() -> None:
    everything = ["auth.break_glass", "control_plane.capacity", "etcd.db_size", COVERAGE]
    assert checks_sent({"notifications": {"min_severity": "info"}}) == sorted(everything)
    assert checks_sent({"notifications": {"min_severity": "critical"}}) == ["etcd.db_size"]


def test_the_scan_itself_keeps_every_finding() -> None:
    notifiable(SCAN, parse_settings({}))
    assert len(SCAN.findings) == 4  # reports, the dashboard and `eksmon scan` still show the infos


def test_a_bad_min_severity_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"notifications\.min_severity"):
        parse_settings({"notifications": {"min_severity": "debug"}})


def test_coverage_is_one_info_per_cluster_listing_each_check_and_reason() -> None:
    f = coverage_finding(
        "123456789012",
        "eu-west-1",
        "legacy",
        [("etcd.db_growth", "no etcd size series"), ("control_plane.capacity", "no seats series")],
        DEMO_NOW,
    )
    assert f.check == COVERAGE and f.severity is Severity.INFO and f.cluster == "legacy"
    assert f.resource == "coverage"
    assert f.details["unevaluated"] == [
        {"check": "etcd.db_growth", "reason": "no etcd size series"},
        {"check": "control_plane.capacity", "reason": "no seats series"},
    ]
    assert "control_plane.capacity, etcd.db_growth" in f.message and "2 checks" in f.title


def test_eksmon_checks_lists_the_new_ids_with_their_thresholds() -> None:
    import io
    import json

    from eksmon.cli import main

    out = io.StringIO()
    assert main(["checks", "--format", "json"], out=out, err=io.StringIO()) == 0
    rows = {r["id"]: r for r in json.loads(out.getvalue())}
    assert rows["control_plane.capacity"]["thresholds"]["warning_percent"] == 80.0
    assert rows["control_plane.capacity"]["thresholds"]["standard_seats"] == 1200
    prices = rows["control_plane.tier_oversized"]["thresholds"]["tier_prices_usd_per_hour"]
    assert prices == {"standard": 0.0, "tier-xl": 1.65, "tier-2xl": 3.4, "tier-4xl": 6.9, "tier-8xl": 13.9}
    assert rows["apiserver.flowcontrol_rejections"]["thresholds"]["critical_priority_levels"] == [
        "system",
        "leader-election",
        "node-high",
    ]
    assert "eks:ListAssociatedAccessPolicies" in rows["auth.break_glass"]["iam_actions"]
    assert rows["etcd.db_size"]["thresholds"]["quota_bytes"] is None  # the cluster's own limit
