"""The metrics Lambda end to end on the demo fleet: environment in; SNS messages, EMF metrics out.

Also the command line the issue names: ``eksmon scan --check 'etcd.*' --check 'apiserver.*'
--check 'admission.*'`` against the simulator.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from eksmon.cli import main
from eksmon.sim.fleet import DEMO_FLEET, DEMO_NOW, DEMO_REGIONS
from eksmon.sim.server import Simulator
from tests.integration.deployed import Deployed, deploy
from tests.integration.deployed import invoke as invoke_handler

GIB = 1024**3


@pytest.fixture
def lambda_env(demo_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    return deploy(demo_sim, monkeypatch)


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return invoke_handler("metrics", event)


def test_metrics_lambda_alerts_per_cluster_and_publishes_etcd_size(lambda_env, capsys) -> None:
    deployed = lambda_env
    summary = invoke({"now": DEMO_NOW.isoformat()})
    assert summary["monitor"] == "metrics" and summary["clusters"] == len(DEMO_FLEET)
    assert summary["collection_errors"] == 0
    # 2 ListClusters, 9 DescribeCluster, 5 GetMetricData, STS, DescribeClusterVersions (the tiers; the
    # simulator pages it by 3)
    assert summary["api_calls"] <= 30

    messages = deployed.messages()
    by_cluster = {m["MessageAttributes"]["cluster"]["Value"]: m for m in messages}
    # info findings (payments-prod's capacity hint, analytics-legacy's coverage) stay out of inboxes
    assert set(by_cluster) == {
        "payments-prod",
        "data-platform",
        "ml-training",
        "analytics-legacy",
        "render-farm",
    }
    assert "check: control_plane.capacity" not in by_cluster["payments-prod"]["Message"]
    assert "could not be evaluated" not in by_cluster["analytics-legacy"]["Message"]
    assert "tier-xl" in by_cluster["render-farm"]["Message"]
    assert by_cluster["payments-prod"]["MessageAttributes"]["severity"]["Value"] == "critical"
    assert "96" in by_cluster["payments-prod"]["Message"] and "etcd" in by_cluster["payments-prod"]["Message"]
    assert by_cluster["ml-training"]["MessageAttributes"]["severity"]["Value"] == "critical"
    assert "validate.kyverno.svc-fail" in by_cluster["ml-training"]["Message"]
    assert "flowcontrol.apiserver.k8s.io/v1beta3" in by_cluster["analytics-legacy"]["Message"]

    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    # AWS/EKS vends the etcd size of every other cluster for free, and analytics-legacy's (read from
    # /metrics) is under half full: no etcd series is bought. Per run: open findings by severity only.
    names = {m["Name"] for r in emf for m in r["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"OpenFindings"}
    severities = {r["Severity"]: _one(r["OpenFindings"]) for r in emf}
    assert set(severities) == {"critical", "warning"}
    assert severities == {s: summary["by_severity"][s] for s in severities}  # what the run found, no errors
    assert all(r["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "EKSMonitor" for r in emf)


def test_scan_command_reports_the_seeded_problems(demo_sim: Simulator, monkeypatch) -> None:
    for k, v in demo_sim.environ("us-east-1").items():
        monkeypatch.setenv(k, v)
    out, err = io.StringIO(), io.StringIO()
    args = ["scan", "--check", "etcd.*", "--check", "apiserver.*", "--check", "admission.*"]
    args += [a for r in DEMO_REGIONS for a in ("--region", r)]
    code = main(
        [*args, "--now", "2026-11-26T12:00:00Z", "--format", "json", "--fail-on", "critical"],
        out=out,
        err=err,
    )
    assert code == 1, err.getvalue()  # critical findings: etcd at 96 %, 5xx at 8 %
    doc = json.loads(out.getvalue())
    found = {(f["check"], f["cluster"]): f for f in doc["findings"]}
    assert set(found) == {
        ("etcd.db_size", "payments-prod"),
        ("etcd.db_growth", "data-platform"),
        ("monitor.coverage", "analytics-legacy"),  # no etcd history: no trend
        ("apiserver.flowcontrol_rejections", "ml-training"),
        ("apiserver.error_rate", "ml-training"),
        ("apiserver.throttling", "ml-training"),
        ("apiserver.latency", "ml-training"),
        ("admission.webhook_rejections", "ml-training"),
        ("admission.webhook_latency", "ml-training"),
        ("apiserver.flowcontrol_saturation", "ml-training"),
        ("apiserver.aggregated_api_unavailable", "search-staging"),
        ("etcd.object_counts", "data-platform"),
    }
    assert found[("etcd.db_size", "payments-prod")]["details"]["bytes"] == pytest.approx(
        0.96 * 8 * GIB, rel=0.003
    )
    assert found[("etcd.db_growth", "data-platform")]["details"]["days_to_quota"] == pytest.approx(
        1.83, abs=0.1
    )
    growth = found[("etcd.db_growth", "data-platform")]
    assert growth["details"]["top_resources"][0] == {"resource": "events", "count": 64_800}
    assert "The most objects are events 64,800" in growth["message"]
    saturated = [f for f in doc["findings"] if f["check"] == "apiserver.flowcontrol_saturation"]
    assert {f["details"]["priority_level"]: f["severity"] for f in saturated} == {
        "leader-election": "critical",
        "workload-low": "warning",
    }  # global-default at 8 % and exempt are near misses
    assert doc["summary"]["collection_errors"] == 0


def _one(value: Any) -> float:
    return float(value[0] if isinstance(value, list) else value)


def test_scheduler_backlog_fires_on_a_queue_that_stays_and_not_on_a_burst_that_drained(
    demo_sim: Simulator, monkeypatch
) -> None:
    for k, v in demo_sim.environ("us-east-1").items():
        monkeypatch.setenv(k, v)
    out, err = io.StringIO(), io.StringIO()
    args = ["scan", "--check", "scheduler.backlog", "--now", "2026-11-26T12:00:00Z", "--format", "json"]
    code = main([*args, *[a for r in DEMO_REGIONS for a in ("--region", r)]], out=out, err=err)
    assert code == 0, err.getvalue()
    doc = json.loads(out.getvalue())
    # payments-prod: 35 pods for 22 minutes; checkout-prod: 300 pods that drained in 12 (the near miss)
    [backlog] = doc["findings"]
    assert backlog["cluster"] == "payments-prod" and backlog["details"]["backlog_minutes"] == 22
    assert backlog["details"]["peak_pending_pods"] == 35
