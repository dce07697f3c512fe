"""`eksmon scan` reaches each cluster's Kubernetes API as the Lambda does: DescribeCluster + IAM token."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest
import yaml

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


PLUGIN = """
import json, sys
from pathlib import Path

import boto3

from eksmon.kube import get_token

runs = Path(sys.argv[2])
runs.write_text(runs.read_text() + "run\\n" if runs.exists() else "run\\n")
if sys.argv[1] == "fail":
    print("SSO session expired: run aws sso login", file=sys.stderr)
    sys.exit(1)
sts = boto3.client("sts", region_name="eu-west-1")  # the simulator's, through AWS_ENDPOINT_URL
print(json.dumps({
    "apiVersion": "client.authentication.k8s.io/v1beta1",
    "kind": "ExecCredential",
    "status": {"token": get_token(sts, sys.argv[1]), "expirationTimestamp": "2999-01-01T00:00:00Z"},
}))
"""


def kubeconfig_with_exec_plugin(sim: Simulator, tmp_path: Path, cluster: str) -> Path:
    """A kubeconfig as `aws eks update-kubeconfig` writes it: the user is an exec credential plugin."""
    from eksmon.sim.fleet import DEMO_ACCOUNT
    from eksmon.sim.kubernetes_api import KubernetesApi

    api: KubernetesApi = sim.extension(KubernetesApi)
    plugin = tmp_path / "get-token.py"
    plugin.write_text(PLUGIN)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "ml",
        "clusters": [
            {
                "name": "ml",
                "cluster": {
                    "server": api.endpoint(DEMO_ACCOUNT, "eu-west-1", cluster),
                    "certificate-authority-data": api.ca_b64,
                },
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": sys.executable,
                        "args": [str(plugin), arg, str(tmp_path / "runs")],
                        "interactiveMode": "Never",
                    }
                },
            }
            for user, arg in (("sso", cluster), ("expired", "fail"))
        ],
        "contexts": [
            {"name": "ml", "context": {"cluster": "ml", "user": "sso"}},
            {"name": "ml-expired", "context": {"cluster": "ml", "user": "expired"}},
        ],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    return path


def test_scan_through_a_kubeconfig_whose_user_is_an_exec_plugin(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a kubeconfig whose user runs a credential plugin printing an ExecCredential
    stand_in = add_demo_cluster(sim, "ml-training")
    for k, v in sim.environ("eu-west-1").items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    path = kubeconfig_with_exec_plugin(sim, tmp_path, "ml-training")

    # When `eksmon scan` reaches the cluster through that context
    out, err = io.StringIO(), io.StringIO()
    args = ["scan", "--region", "eu-west-1", "--check", "webhook.*", "--format", "json"]
    code = main(
        [
            *args,
            "--now",
            "2026-11-26T12:00:00Z",
            "--kubeconfig",
            str(path),
            "--kube-context",
            "ml-training=ml",
        ],
        out=out,
        err=err,
    )

    # Then the plugin's token is accepted, the webhook finding comes out, and the plugin ran once
    assert code == 0, err.getvalue()
    doc = json.loads(out.getvalue())
    assert [(f["check"], f["cluster"]) for f in doc["findings"]] == [("webhook.no_endpoints", "ml-training")]
    assert doc["summary"]["collection_errors"] == 0
    assert (tmp_path / "runs").read_text() == "run\n"  # its token is reused until it expires
    assert stand_in.requests and all(r.status == 200 for r in stand_in.requests)

    # And a plugin that fails is not a configuration error: the scan runs, with one collection error
    # for the cluster naming the plugin and what it said
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [*args, "--kubeconfig", str(path), "--kube-context", "ml-training=ml-expired"], out=out, err=err
    )
    assert code == 0, err.getvalue()
    [error] = json.loads(out.getvalue())["findings"]
    assert error["check"] == "monitor.collection_error" and error["cluster"] == "ml-training"
    assert "context ml-expired" in error["message"] and "aws sso login" in error["message"]
