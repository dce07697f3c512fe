"""The lifecycle Lambda handler end to end: environment in, SNS messages and EMF metrics out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eksmon.errors import ConfigError
from eksmon.sim.fleet import DEMO_FLEET, DEMO_NOW
from eksmon.sim.server import Simulator
from tests.integration.deployed import Deployed, deploy
from tests.integration.deployed import invoke as invoke_handler


@pytest.fixture
def lambda_env(demo_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    return deploy(demo_sim, monkeypatch)


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return invoke_handler("lifecycle", event)


def test_handler_publishes_one_message_per_cluster_with_findings(lambda_env, capsys) -> None:
    deployed = lambda_env
    summary = invoke({"now": DEMO_NOW.isoformat()})
    assert summary["clusters"] == len(DEMO_FLEET)
    assert summary["collection_errors"] == 0
    messages = deployed.messages()
    assert summary["messages_published"] == len(messages) == 6  # 9 clusters, 3 without findings
    by_cluster = {m["MessageAttributes"]["cluster"]["Value"]: m for m in messages}
    assert set(by_cluster) == {
        "payments-prod",
        "data-platform",
        "analytics-legacy",
        "ml-training",
        "search-staging",
        "checkout-prod",  # auth.break_glass
    }
    legacy = by_cluster["analytics-legacy"]
    assert legacy["MessageAttributes"]["severity"]["Value"] == "critical"
    assert legacy["MessageAttributes"]["region"]["Value"] == "eu-west-1"
    assert legacy["MessageAttributes"]["account"]["Value"] == "123456789012"
    assert "forced upgrade" in legacy["Subject"].lower() or "CRITICAL" in legacy["Subject"]
    assert "What to do:" in legacy["Message"] and "1.31" in legacy["Message"]

    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    days = {
        r["ClusterName"]: r["DaysToEndOfStandardSupport"] for r in emf if "DaysToEndOfStandardSupport" in r
    }
    assert days["payments-prod"] in (6, [6]) and days["checkout-prod"] in (121, [121])
    # two clusters of one name in two accounts or regions never share a series (SPEC "CloudWatch")
    record = next(r for r in emf if r.get("ClusterName") == "payments-prod")
    assert (record["Account"], record["Region"]) == ("123456789012", "us-east-1")
    assert set(record["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == {
        "service",
        "Account",
        "Region",
        "ClusterName",
        "Tier",  # the dashboard names each cluster's control-plane tier from it
    }
    tiers = {r["ClusterName"]: r["Tier"] for r in emf if "DaysToEndOfStandardSupport" in r}
    assert set(tiers.values()) <= {"standard", "tier-xl", "tier-2xl", "tier-4xl", "tier-8xl"}
    assert all(r["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "EKSMonitor" for r in emf)


def test_handler_rejects_a_bad_environment_naming_the_key(lambda_env, monkeypatch) -> None:
    monkeypatch.setenv("EKSMON_CONFIG", json.dumps({"regions": ["us-east-1"], "colour": "blue"}))
    with pytest.raises(ConfigError, match="colour: unknown key"):
        invoke({})
    monkeypatch.setenv("EKSMON_CONFIG", "{}")
    monkeypatch.setenv("TOPIC_ARN", "not-an-arn")
    with pytest.raises(ConfigError, match="TOPIC_ARN"):
        invoke({})


def test_handler_logs_no_credentials(lambda_env, capsys) -> None:
    invoke({"now": DEMO_NOW.isoformat()})
    out = capsys.readouterr()
    from eksmon.sim.server import SECRET_KEY

    assert SECRET_KEY not in out.out + out.err
