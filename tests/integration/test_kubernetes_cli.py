"""`eksmon scan` reaches each cluster's Kubernetes API as the Lambda does: DescribeCluster + IAM token."""

from __future__ import annotations

import io
import json

import pytest

from eksmon.cli import main
from eksmon.sim.server import Simulator

from .test_kubernetes_scan import add_demo_cluster


def test_scan_reports_the_failing_webhook_by_name_and_fails_on_critical(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_demo_cluster(sim, "ml-training")
    add_demo_cluster(sim, "checkout-prod")
    for k, v in sim.environ("eu-west-1").items():
        monkeypatch.setenv(k, v)
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "scan",
            "--region",
            "eu-west-1",
            "--region",
            "us-east-1",
            "--check",
            "webhook.*",
            "--format",
            "json",
            "--fail-on",
            "critical",
            "--now",
            "2026-11-26T12:00:00Z",
        ],
        out=out,
        err=err,
    )
    assert code == 1, err.getvalue()
    doc = json.loads(out.getvalue())
    assert [(f["check"], f["cluster"], f["resource"]) for f in doc["findings"]] == [
        (
            "webhook.no_endpoints",
            "ml-training",
            "ValidatingWebhookConfiguration/kyverno-resource-validating-webhook-cfg",
        )
    ]
    assert doc["summary"]["clusters"] == 2 and doc["summary"]["collection_errors"] == 0
