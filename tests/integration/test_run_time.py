"""monitor.run_time against the simulator: a slow run warns once with its numbers, a normal one does not,
throttled answers are counted, and the deployed path tells it once and then resolves it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import botocore.exceptions
import pytest

from eksmon.aws import ApiCallCounter
from eksmon.runner import MonitorEnvironment, run_monitor
from eksmon.settings import Settings
from eksmon.sim.server import Simulator
from tests.conftest import utc
from tests.integration.alerting_env import Inbox, add_cluster, changes, make_inbox, told
from tests.integration.deployed import deploy, invoke
from tests.integration.test_faults import EAST, SETTINGS, errors, run_times, scan_json


def with_share(percent: float) -> str:
    """The fault tests' settings with this share, and answers that may take seconds (not a read timeout)."""
    settings = SETTINGS.replace("read_timeout: 1", "read_timeout: 30")
    return settings.replace("aws:\n", f"aws:\n  run_time_warning_percent: {percent}\n")


def test_a_normal_scan_has_no_run_time_finding(demo_sim: Simulator, tmp_path) -> None:
    # the demo fleet reads in about 2 s: far below 80 % of a 60 s budget
    code, doc, err, _ = scan_json(demo_sim, tmp_path, "--timeout", "60", settings=with_share(80))
    assert code == 0 and errors(doc) == [], err
    assert run_times(doc) == []


def test_a_scan_past_its_share_warns_once_with_the_seconds_and_the_slowest_source(
    demo_sim: Simulator, tmp_path
) -> None:
    # one add-on list answers after 3 s: more than 10 % of a 20 s budget, far from its deadline
    demo_sim.fault("eks", operation="GET /clusters/data-platform/addons", kind="hang", delay=3)
    code, doc, err, elapsed = scan_json(demo_sim, tmp_path, "--timeout", "20", settings=with_share(10))
    assert code == 0 and errors(doc) == [], err  # nothing was cut
    (run,) = run_times(doc)
    assert (run["severity"], run["resource"], run["cluster"]) == ("warning", "run/scan", None)
    details = run["details"]
    assert details["cut"] is False and details["budget_seconds"] == 20 and details["warning_percent"] == 10
    assert 3 <= details["duration_seconds"] <= elapsed and details["throttled_retries"] == 0
    assert abs(details["percent"] - 100 * details["duration_seconds"] / 20) <= 0.1 and details["percent"] > 10
    assert details["account_region_pairs"] == 2
    slowest = details["slowest_sources"]
    assert slowest[0]["source"] == "eks.addons" and slowest[0]["where"].endswith("/data-platform")
    assert slowest[0]["seconds"] >= 3 and slowest[0]["finished"] is True
    assert [s["seconds"] for s in slowest] == sorted((s["seconds"] for s in slowest), reverse=True)
    assert f"{details['duration_seconds']:.1f} s of the scan's 20.0 s budget" in run["message"]


def test_throttled_answers_the_retries_absorbed_are_counted(demo_sim: Simulator, tmp_path) -> None:
    demo_sim.fault(
        "eks", operation="GET /clusters", region=EAST, code="ThrottlingException", status=400, times=3
    )
    demo_sim.fault("servicequotas", code="TooManyRequestsException", status=400, times=2)
    # 1 % of 30 s: any scan that waits out five throttles is past it
    code, doc, err, _ = scan_json(demo_sim, tmp_path, "--timeout", "30", settings=with_share(1))
    assert code == 0 and errors(doc) == [], err  # every throttle was absorbed
    (run,) = run_times(doc)
    assert run["details"]["throttled_retries"] == 5
    assert "5 requests with a throttling error" in run["message"]


def test_the_counter_counts_throttling_answers_only(sim: Simulator) -> None:
    client = sim.session(EAST).client("eks", region_name=EAST)
    counter = ApiCallCounter()
    counter.attach(client)
    sim.fault("eks", operation="GET /clusters", code="ThrottlingException", status=400, times=2)
    assert client.list_clusters()["clusters"] == []  # botocore's retries absorb both
    assert (counter.throttled, counter.calls["eks.ListClusters"], counter.attempts) == (2, 1, 3)
    sim.fault("eks", operation="GET /clusters", code="AccessDeniedException", status=403, times=1)
    with pytest.raises(botocore.exceptions.ClientError):
        client.list_clusters()
    assert counter.throttled == 2  # a refusal is not throttling


# -- deployed: through the findings state, told once, then resolved -----------------------------------------
DAY = utc(2026, 6, 1, 6)


def env(inbox: Inbox, percent: float) -> MonitorEnvironment:
    settings = Settings.model_validate(
        {
            "regions": list(inbox.regions),
            "aws": {"run_time_warning_percent": percent, "publish_margin_seconds": 5},
        }
    )
    return MonitorEnvironment.model_validate(
        {
            "EKSMON_CONFIG": settings.to_json(),
            "TOPIC_ARN": inbox.topic_arn,
            "FINDINGS_TABLE": "eksmon-findings",
        }
    )


def run(inbox: Inbox, percent: float, hours: int) -> Any:
    # 25 s left in the invocation, 5 s kept to publish: a 20 s budget
    return run_monitor(
        "lifecycle",
        env(inbox, percent),
        {"now": (DAY + timedelta(hours=hours)).isoformat()},
        session_factory=inbox.session_factory,
        remaining_seconds=25,
    )


def run_time_messages(inbox: Inbox) -> list[tuple[list[str], dict[str, Any]]]:
    return [
        (changes(m), m)
        for m in inbox.messages()
        if any(check == "monitor.run_time" for _cluster, check, _resource in told(m))
    ]


def test_a_slow_run_is_told_once_and_resolved_when_runs_are_fast_again(sim: Simulator) -> None:
    add_cluster(sim, "prod", "1.35")
    inbox = make_inbox(sim)
    # every DescribeCluster answers after 0.5 s: more than 2 % of the 20 s budget, never near the deadline
    sim.fault("eks", operation="GET /clusters/prod", kind="hang", delay=0.5)

    run(inbox, 2, 0)
    ((kinds, message),) = run_time_messages(inbox)
    assert kinds == ["new"] and message["MessageAttributes"]["region"]["Value"] == "us-east-1"
    assert "20.0 s budget" in message["Message"]  # the invocation's time left minus the publish margin

    for hours in (1, 2):  # still slow: nothing new to say
        run(inbox, 2, hours)
        assert run_time_messages(inbox) == []

    run(inbox, 80, 3)  # the same run, now well under its share: resolved, once
    ((kinds, _),) = run_time_messages(inbox)
    assert kinds == ["resolved"]
    run(inbox, 80, 4)
    assert run_time_messages(inbox) == []


def test_the_lambda_handler_measures_against_its_remaining_time(demo_sim: Simulator, monkeypatch) -> None:
    from eksmon.demo import LambdaContextStandIn

    deployed = deploy(demo_sim, monkeypatch)
    settings = Settings.model_validate(
        {"regions": ["us-east-1"], "aws": {"run_time_warning_percent": 5, "publish_margin_seconds": 60}}
    )
    monkeypatch.setenv("EKSMON_CONFIG", settings.to_json())
    monkeypatch.setattr(LambdaContextStandIn, "get_remaining_time_in_millis", lambda self: 90_000)
    demo_sim.fault("eks", operation="GET /clusters/payments-prod", kind="hang", delay=2)
    # 90 s left, 60 s kept to publish: a 30 s budget; 2 s is past 5 % of it
    summary = invoke("lifecycle", {"now": DAY.isoformat()})
    assert summary["collection_errors"] == 0
    texts = [m["Message"] for m in deployed.messages() if "monitor.run_time" in m["Message"]]
    assert len(texts) == 1 and "of the scan's 30.0 s budget" in texts[0]
