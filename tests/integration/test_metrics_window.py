"""The window the metrics monitor reads, end to end: the schedule's period in the Lambda, --window on the CLI.

The demo fleet's ml-training answers 5xx from 11:52 to 12:00 UTC. A run at 12:26 reads the hour before
it (the default) and finds the burst, dated; a run that read only 15 minutes would not.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest

from eksmon.cli import main
from eksmon.engine import scan
from eksmon.settings import Schedules, Settings
from eksmon.sim.fleet import DEMO_NOW, DEMO_REGIONS
from eksmon.sim.server import Simulator
from tests.integration.deployed import deploy, invoke

LATER = "2026-11-26T12:26:00Z"  # 26 minutes after the burst ends


def cli(sim: Simulator, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    for k, v in sim.environ("us-east-1").items():
        monkeypatch.setenv(k, v)
    out, err = io.StringIO(), io.StringIO()
    code = main(["scan", "--region", "eu-west-1", *args], out=out, err=err)  # ml-training's region
    return code, out.getvalue(), err.getvalue()


def error_rate(document: str) -> list[dict[str, Any]]:
    return [f for f in json.loads(document)["findings"] if f["check"] == "apiserver.error_rate"]


def test_scan_reads_the_last_hour_by_default_and_dates_the_burst(demo_sim: Simulator, monkeypatch) -> None:
    code, out, err = cli(
        demo_sim, monkeypatch, "--check", "apiserver.error_rate", "--now", LATER, "--format", "json"
    )
    assert code == 0, err
    (finding,) = error_rate(out)
    assert finding["cluster"] == "ml-training" and finding["details"]["window_minutes"] == 60
    assert finding["details"]["from"] == "2026-11-26T11:26:00Z" and finding["details"]["to"] == LATER
    assert finding["details"]["worst_window_end"] == "2026-11-26T12:00:00Z"
    assert "between 11:45 and 12:00 UTC" in finding["message"]


def test_scan_window_sets_how_far_back_it_reads(demo_sim: Simulator, monkeypatch) -> None:
    args = ("--check", "apiserver.error_rate", "--now", LATER, "--format", "json")
    code, out, err = cli(demo_sim, monkeypatch, *args, "--window", "15")
    assert code == 0, err
    assert error_rate(out) == []  # 12:11-12:26 holds none of the burst
    code, out, err = cli(demo_sim, monkeypatch, *args, "--window", "30")
    assert [f["details"]["window_minutes"] for f in error_rate(out)] == [30]


@pytest.mark.parametrize("value", ["0", "-5", "1441", "1.5", "an hour"])
def test_a_bad_window_is_a_usage_error_naming_the_option(value: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["scan", "--window", value], out=io.StringIO(), err=io.StringIO())
    assert exit_.value.code == 2
    assert "--window" in capsys.readouterr().err


@pytest.mark.parametrize(("schedule", "found"), [("rate(1 hour)", True), ("rate(15 minutes)", False)])
def test_the_lambda_reads_its_schedules_period(
    demo_sim: Simulator, monkeypatch: pytest.MonkeyPatch, schedule: str, found: bool
) -> None:
    deployed = deploy(demo_sim, monkeypatch)
    settings = Settings(regions=list(DEMO_REGIONS), schedules=Schedules(metrics=schedule))
    monkeypatch.setenv("EKSMON_CONFIG", settings.to_json())
    invoke("metrics", {"now": LATER})
    ml = [
        m["Message"]
        for m in deployed.messages()
        if m["MessageAttributes"]["cluster"]["Value"] == "ml-training"
    ]
    assert any("failed with 5xx" in m for m in ml) is found


def _requests(sim: Simulator, window_minutes: int) -> list[dict[str, Any]]:
    """Every GetMetricData request (its queries and time range) one metrics scan sends."""
    sent: list[dict[str, Any]] = []

    def factory(**kwargs: Any) -> Any:
        session = sim.session_factory()(**kwargs)
        session.events.register(
            "provide-client-params.cloudwatch.GetMetricData", lambda params, **_: sent.append(params)
        )
        return session

    scan(
        Settings(regions=list(DEMO_REGIONS)),
        DEMO_NOW,
        monitor="metrics",
        session_factory=factory,
        window_minutes=window_minutes,
    )
    return sent


def test_a_longer_window_reads_the_same_metrics_in_as_many_calls(demo_sim: Simulator) -> None:
    """GetMetricData bills each metric requested: an hour, or a day at 5-minute points, costs what 15 minutes did."""
    by_window = {minutes: _requests(demo_sim, minutes) for minutes in (15, 60, 1440)}
    queries = {
        m: sorted(q["Id"] for r in sent for q in r["MetricDataQueries"]) for m, sent in by_window.items()
    }
    assert queries[15] == queries[60] == queries[1440]
    assert len(by_window[15]) == len(by_window[60]) == len(by_window[1440])
    periods = {
        m: {
            q["MetricStat"]["Period"] for r in sent for q in r["MetricDataQueries"] if q["Id"].startswith("w")
        }
        for m, sent in by_window.items()
    }
    assert periods == {15: {60}, 60: {60}, 1440: {300}}
    spans = {
        m: max(r["EndTime"] - r["StartTime"] for r in sent if r["MetricDataQueries"][0]["Id"].startswith("w"))
        for m, sent in by_window.items()
    }
    assert spans == {15: timedelta(minutes=15), 60: timedelta(hours=1), 1440: timedelta(days=1)}
