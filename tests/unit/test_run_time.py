"""monitor.run_time: a run that reads for longer than its share of the time budget warns once, by itself."""

from __future__ import annotations

from typing import Any

import pytest

from eksmon.cli import _exit_code
from eksmon.engine import RUN_TIME, ScanResult, run_time_finding
from eksmon.errors import ConfigError
from eksmon.models import Finding, Severity
from eksmon.publish.metrics import generic_points
from eksmon.settings import parse_settings
from eksmon.sim.fleet import DEMO_NOW

ACCOUNT, REGION = "111122223333", "eu-west-1"


def run_time(used: float, budget: float = 100.0, percent: float = 80.0, **kw: Any) -> Finding | None:
    args: dict[str, Any] = {
        "monitor": "lifecycle",
        "account": ACCOUNT,
        "region": REGION,
        "used_seconds": used,
        "budget_seconds": budget,
        "warning_percent": percent,
        "cut": False,
        "throttled": 0,
        "pairs": 4,
        "slowest": [],
        "now": DEMO_NOW,
        **kw,
    }
    return run_time_finding(**args)


@pytest.mark.parametrize(
    ("used", "budget", "percent", "warns"),
    [
        (79.9, 100, 80, False),  # just under the default share
        (80.0, 100, 80, False),  # at it: "more than" the share
        (80.1, 100, 80, True),  # just over
        (192.0, 240, 80, False),  # a 5-minute Lambda: 240 s to read, 192 s is exactly 80 %
        (193.0, 240, 80, True),
        (30.0, 60, 50, False),  # a custom share
        (30.1, 60, 50, True),
        (99.9, 100, 100, False),  # 100 %: only a run the deadline cut warns
    ],
)
def test_the_warning_starts_above_the_share(used: float, budget: float, percent: float, warns: bool) -> None:
    assert (run_time(used, budget, percent) is not None) is warns


def test_a_cut_run_always_warns_even_at_100_percent() -> None:
    found = run_time(100.2, 100, 100, cut=True)
    assert found is not None and found.details["cut"] is True
    assert found.title == "The lifecycle monitor's run was cut at its 100 s deadline"
    assert "not checked" in found.message and "source/deadline" in found.message


def test_the_finding_says_how_long_what_for_and_what_to_do() -> None:
    slowest = [
        {"source": "eks.addons", "seconds": 80.0, "where": f"{ACCOUNT}/{REGION}/prod", "finished": True}
    ]
    found = run_time(210.0, 240, 80, throttled=37, slowest=slowest)
    assert found is not None
    assert (found.check, found.severity, found.cluster) == (RUN_TIME, Severity.WARNING, None)
    assert (found.account, found.region, found.resource) == (ACCOUNT, REGION, "run/lifecycle")
    assert found.title == "The lifecycle monitor's run took 88 % of its time budget"
    assert found.details == {
        "duration_seconds": 210.0,
        "budget_seconds": 240.0,
        "percent": 87.5,
        "warning_percent": 80,
        "cut": False,
        "throttled_retries": 37,
        "account_region_pairs": 4,
        "slowest_sources": slowest,
    }
    # the numbers, the consequence, and the fixes
    for text in ("210 s", "240 s", "88 %", "80 %", "37 requests with a throttling error", "4 account+region"):
        assert text in found.message, text
    assert "cut at the deadline" in found.message and "monitor.collection_error" in found.message
    for fix in ("timeout", "memory", "fanout.max_targets_per_invocation", "--timeout"):
        assert fix in found.remediation, fix
    assert found.docs.endswith("#when-a-run-nears-its-time-budget")


def test_one_fingerprint_per_monitor_and_partition_stable_across_runs() -> None:
    first, later = run_time(90.0), run_time(99.0, throttled=5)
    assert first is not None and later is not None and first.fingerprint == later.fingerprint
    other_monitor = run_time(90.0, monitor="quotas")
    other_partition = run_time(90.0, account="444455556666")
    cli = run_time(90.0, monitor=None)
    assert other_monitor is not None and other_partition is not None and cli is not None
    assert (
        len({first.fingerprint, other_monitor.fingerprint, other_partition.fingerprint, cli.fingerprint}) == 4
    )
    assert cli.resource == "run/scan" and cli.title.startswith("This scan took")


def test_the_share_is_a_setting_with_a_clear_error() -> None:
    assert parse_settings({}).aws.run_time_warning_percent == 80
    assert parse_settings({"aws": {"run_time_warning_percent": 65}}).aws.run_time_warning_percent == 65
    for bad in (0, 0.5, 100.1, 250):
        with pytest.raises(ConfigError) as err:
            parse_settings({"aws": {"run_time_warning_percent": bad}}, source="eksmon.yaml")
        assert str(err.value).startswith("eksmon.yaml: aws.run_time_warning_percent: ")
        assert "is not a percent in 1..100" in str(err.value)


def _result(*findings: Finding) -> ScanResult:
    from eksmon.aws import ApiCallCounter

    return ScanResult(list(findings), [], ApiCallCounter(), DEMO_NOW, 1.0, [])


def test_it_fails_no_ci_job_and_counts_in_no_open_findings_series() -> None:
    found = run_time(95.0)
    assert found is not None
    assert _exit_code([found], "warning") == 0
    points = {p.dimensions["Severity"]: p.value for p in generic_points("lifecycle", _result(found))}
    assert points == {"critical": 0, "warning": 0}
