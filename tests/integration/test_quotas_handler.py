"""The quotas Lambda handler end to end: environment in, SNS messages and EMF metrics out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eksmon.sim.fleet import DEMO_NOW
from eksmon.sim.server import Simulator
from tests.integration.deployed import Deployed, deploy
from tests.integration.deployed import invoke as invoke_handler


@pytest.fixture
def lambda_env(demo_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    return deploy(demo_sim, monkeypatch)


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return invoke_handler("quotas", event)


def test_handler_alerts_per_region_and_cluster_and_publishes_the_quotas_half_full(lambda_env, capsys) -> None:
    deployed = lambda_env
    summary = invoke({"now": DEMO_NOW.isoformat()})
    assert summary["monitor"] == "quotas"
    assert summary["findings"] == 5 and summary["collection_errors"] == 0
    assert summary["by_severity"] == {"critical": 2, "warning": 3, "info": 0}

    messages = deployed.messages()
    where = {
        (m["MessageAttributes"]["region"]["Value"], m["MessageAttributes"]["cluster"]["Value"]): m
        for m in messages
    }
    assert summary["messages_published"] == len(messages) == 4
    east = where[("us-east-1", "-")]  # the account+region message: no cluster
    assert east["MessageAttributes"]["severity"]["Value"] == "critical"
    assert "EC2-VPC Elastic IPs" in east["Message"] and "29 of 30" in east["Message"]
    assert "request-service-quota-increase" in east["Message"]
    nodes = next(m for (region, cluster), m in where.items() if cluster == "payments-prod")
    assert "payments-workers" in nodes["Message"] and "437 of 450" in nodes["Message"]

    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    quota = [r for r in emf if "QuotaUtilization" in r]
    dims = {tuple(d) for r in quota for d in r["_aws"]["CloudWatchMetrics"][0]["Dimensions"]}
    assert all({"Account", "Region", "Service", "QuotaCode"} <= set(d) for d in dims)
    # the vCPU quotas have an AWS/Usage metric: the dashboard divides it by SERVICE_QUOTA(), not bought twice
    assert not [r for r in quota if r["QuotaCode"] == "L-1216C47A"]
    # one record per quota and region, under the same Service+QuotaCode: the Maximum statistic is the worst
    percent: dict[tuple[str, str], list[float]] = {}
    for r in quota:
        value = r["QuotaUtilization"]
        percent.setdefault((r["Service"], r["QuotaCode"]), []).extend(
            value if isinstance(value, list) else [value]
        )
    assert percent[("ec2", "L-0263D0A3")] == [
        96.67
    ]  # 29 of 30 in us-east-1; 2 of 5 in eu-west-1 is under 50 %
    assert max(percent[("eks", "L-BD136A63")]) == 97.11  # the fullest node group of each region
    assert ("iam", "L-FE177D64") not in percent  # 6.4 %: far from full, no series bought for it
    assert ("vpc", "L-F678F1CE") in percent  # 60 % in us-east-1: graphed from half full up
    assert all(r["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "EKSMonitor" for r in quota)
    units = {m["Unit"] for r in quota for m in r["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units == {"Percent"}
