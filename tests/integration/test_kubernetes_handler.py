"""The Kubernetes Lambda handler end to end: environment in, SNS messages and EMF metrics out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eksmon.demo import available_monitors
from eksmon.sim.fleet import DEMO_FLEET, DEMO_NOW
from eksmon.sim.server import SECRET_KEY, Simulator
from tests.integration.deployed import Deployed, deploy
from tests.integration.deployed import invoke as invoke_handler


@pytest.fixture
def lambda_env(demo_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    return deploy(demo_sim, monkeypatch)


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return invoke_handler("kubernetes", event)


def test_the_hourly_lambda_alerts_on_the_clusters_with_hazards_only(lambda_env, capsys) -> None:
    deployed = lambda_env
    summary = invoke({"now": DEMO_NOW.isoformat()})
    assert summary["monitor"] == "kubernetes"
    assert summary["clusters"] == len(DEMO_FLEET)
    assert summary["collection_errors"] == 0
    assert (
        summary["by_severity"]["critical"] == 5
    )  # webhooks 3, aws-auth, metrics-server with a namespace stuck on it
    messages = deployed.messages()
    by_cluster = {m["MessageAttributes"]["cluster"]["Value"]: m for m in messages}
    assert set(by_cluster) == {"search-staging", "ml-training"}
    staging = by_cluster["search-staging"]
    assert staging["MessageAttributes"]["severity"]["Value"] == "critical"
    assert "gatekeeper-validating-webhook-configuration" in staging["Message"]
    assert "aws-auth" in staging["Message"]
    assert "v1beta1.metrics.k8s.io" in staging["Message"]
    assert "validate.kyverno.svc-fail" in by_cluster["ml-training"]["Message"]
    out = capsys.readouterr()
    assert SECRET_KEY not in out.out + out.err and "k8s-aws-v1." not in out.out + out.err
    emf = [json.loads(line) for line in out.out.splitlines() if '"_aws"' in line]
    assert emf and all(r["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "EKSMonitor" for r in emf)


def test_the_demo_runs_the_kubernetes_lambda() -> None:
    assert "kubernetes" in available_monitors()
