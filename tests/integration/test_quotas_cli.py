"""`eksmon scan --check 'quota.*'` and `eksmon checks` as a user runs them, against the simulator."""

from __future__ import annotations

import io
import json

import pytest

from eksmon.cli import main
from eksmon.sim.fleet import DEMO_REGIONS
from eksmon.sim.server import Simulator

ARGS = [*(a for r in DEMO_REGIONS for a in ("--region", r)), "--now", "2026-11-26T12:00:00Z"]


def cli(sim: Simulator, *args: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    for k, v in sim.environ("us-east-1").items():
        monkeypatch.setenv(k, v)
    out, err = io.StringIO(), io.StringIO()
    return main(list(args), out=out, err=err), out.getvalue(), err.getvalue()


def test_scan_reports_the_seeded_quotas_with_their_percentages(demo_sim, monkeypatch) -> None:
    code, out, err = cli(
        demo_sim,
        "scan",
        *ARGS,
        "--check",
        "quota.*",
        "--format",
        "json",
        "--fail-on",
        "critical",
        monkeypatch=monkeypatch,
    )
    assert code == 1, err  # two quotas are critical
    doc = json.loads(out)
    got = sorted(
        (f["region"], f["cluster"] or "", f["details"]["quota_code"], f["details"]["percent"], f["severity"])
        for f in doc["findings"]
    )
    assert got == [
        ("eu-west-1", "", "L-53DA6B97", 85.0, "warning"),
        ("eu-west-1", "ml-training", "L-33415657", 90.0, "warning"),
        ("us-east-1", "", "L-0263D0A3", 96.7, "critical"),
        ("us-east-1", "", "L-1216C47A", 85.0, "warning"),
        ("us-east-1", "payments-prod", "L-BD136A63", 97.1, "critical"),
    ]
    assert doc["summary"]["collection_errors"] == 0


def test_table_output_shows_where_each_quota_runs_out(demo_sim, monkeypatch) -> None:
    code, out, _ = cli(demo_sim, "scan", *ARGS, "--check", "quota.utilization", monkeypatch=monkeypatch)
    assert code == 0
    assert "EC2-VPC Elastic IPs: 96.7 % of the quota used" in out
    assert "Node group payments-workers: 437 of 450 nodes (97.1 %)" in out
    # grouped: a header per cluster, and per account+region for the quotas of no cluster
    assert "cluster payments-prod · us-east-1 · 123456789012" in out
    assert "account 123456789012 · eu-west-1" in out


def test_checks_lists_the_quota_check_with_its_permissions(capsys) -> None:
    assert main(["checks", "--format", "json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r["id"] == "quota.utilization"]
    assert {r["thresholds"]["warning_percent"] for r in rows} == {80.0}
    assert {r["thresholds"]["critical_percent"] for r in rows} == {95.0}
    actions = {a for r in rows for a in r["iam_actions"]}
    assert {
        "servicequotas:ListServiceQuotas",
        "cloudwatch:GetMetricData",
        "eks:ListFargateProfiles",
    } <= actions
