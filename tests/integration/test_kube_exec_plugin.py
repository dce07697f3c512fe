"""Kubeconfig users whose credentials come from an exec plugin (what `aws eks update-kubeconfig` writes).

Given real kubeconfig files whose plugin is a small script (healthy, hanging, failing like an expired
AWS SSO session, printing something that is not JSON, or handing out tokens that expire within
minutes, each run counted in a file), `eksmon scan` bounds the plugin in time, turns its failure into
one collection error for that cluster naming the plugin (never a token), scans every other cluster
and context, and runs the plugin once per token, not once per request.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksmon.cli import main
from eksmon.kube import KubeClient, KubeconfigError, KubeCredentialError, KubeUnauthorized, cli_services
from eksmon.sim.fleet import DEMO_ACCOUNT
from eksmon.sim.kubernetes_api import KubernetesApi
from eksmon.sim.server import Simulator

from .test_kubernetes_scan import add_demo_cluster

REGION = "eu-west-1"
SECRET = "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9uPUdldENhbGxlcklkZW50aXR5"
PLUGIN = f"""
import json, sys, time
from datetime import datetime, timedelta, timezone
from pathlib import Path

mode, cluster, runs = sys.argv[1], sys.argv[2], Path(sys.argv[3])
with runs.open("a") as f:
    f.write("run\\n")
if mode == "hang":
    time.sleep(600)
if mode == "fail" or (mode == "fail-after-first" and len(runs.read_text().splitlines()) > 1):
    print("Error loading SSO Token: Token for my-sso does not exist", file=sys.stderr)
    print("cached token {SECRET} is stale", file=sys.stderr)
    sys.exit(1)
if mode == "junk":
    print("<html><body>proxy login</body></html>")
    sys.exit(0)
import boto3
from eksmon.kube import get_token

token = get_token(boto3.client("sts", region_name="{REGION}"), cluster)  # the simulator's STS
ttl = {{"near": 240, "brief": 30, "fail-after-first": 2}}.get(mode, 3600)
expiry = datetime.now(timezone.utc) + timedelta(seconds=ttl)
print(json.dumps({{
    "apiVersion": "client.authentication.k8s.io/v1beta1",
    "kind": "ExecCredential",
    "status": {{"token": token, "expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}},
}}))
"""
MODES = ("ok", "hang", "fail", "junk", "near", "brief", "fail-after-first")


def write_kubeconfig(sim: Simulator, tmp_path: Path, clusters: tuple[str, ...]) -> Path:
    """One context per (cluster, plugin mode), named ``<cluster>-<mode>``; runs counted in ``runs-<mode>``."""
    api: KubernetesApi = sim.extension(KubernetesApi)
    plugin = tmp_path / "get-token.py"
    plugin.write_text(PLUGIN)
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
    }
    for cluster in clusters:
        config["clusters"].append(
            {
                "name": cluster,
                "cluster": {
                    "server": api.endpoint(DEMO_ACCOUNT, REGION, cluster),
                    "certificate-authority-data": api.ca_b64,
                },
            }
        )
        for mode in MODES:
            name = f"{cluster}-{mode}"
            config["users"].append(
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": sys.executable,
                            "args": [str(plugin), mode, cluster, str(tmp_path / f"runs-{name}")],
                            "env": [{"name": "AWS_PROFILE_HINT", "value": "my-sso"}],
                            "interactiveMode": "Never",
                        }
                    },
                }
            )
            config["contexts"].append({"name": name, "context": {"cluster": cluster, "user": name}})
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    return path


def runs(tmp_path: Path, context: str) -> int:
    path = tmp_path / f"runs-{context}"
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.fixture
def two(sim: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """ml-training and search-staging in the simulated account, and a kubeconfig reaching both."""
    add_demo_cluster(sim, "ml-training")
    add_demo_cluster(sim, "search-staging")
    for k, v in sim.environ(REGION).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    return write_kubeconfig(sim, tmp_path, ("ml-training", "search-staging"))


def scan(kubeconfig: Path, ml_mode: str, *extra: str, settings: str = "") -> tuple[int, Any, str, float]:
    config = kubeconfig.parent / "eksmon.yaml"
    config.write_text(settings or "{}\n")
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    code = main(
        [
            "scan",
            "--region",
            REGION,
            "--now",
            "2026-11-26T12:00:00Z",
            "--format",
            "json",
            "--config",
            str(config),
            "--kubeconfig",
            str(kubeconfig),
            "--kube-context",
            f"ml-training=ml-training-{ml_mode}",
            "--kube-context",
            "search-staging=search-staging-ok",
            *extra,
        ],
        out=out,
        err=err,
    )
    elapsed = time.monotonic() - started
    return code, json.loads(out.getvalue()) if out.getvalue().strip() else None, err.getvalue(), elapsed


def findings(doc: Any) -> set[tuple[str | None, str, str]]:
    return {
        (f["cluster"], f["check"], f["resource"])
        for f in doc["findings"]
        if f["check"] not in ("monitor.collection_error", "monitor.run_time", "monitor.coverage")
    }


def collection_errors(doc: Any) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["check"] == "monitor.collection_error"]


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("fail", "exited with status 1: Error loading SSO Token: Token for my-sso does not exist"),
        ("junk", "printed something that is not JSON (38 bytes), not an ExecCredential"),
    ],
    ids=["sso-expired", "not-json"],
)
def test_a_failing_plugin_is_one_collection_error_and_every_other_context_is_scanned(
    two: Path, mode: str, said: str
) -> None:
    # Given both clusters reached through healthy plugins: the reference findings and exit code
    code_ok, healthy, err, _ = scan(two, "ok")
    assert collection_errors(healthy) == [], err
    kubernetes = {
        k for k in findings(healthy) if k[0] == "ml-training" and k[1].startswith(("webhook.", "pod."))
    }
    assert kubernetes and any(k[0] == "search-staging" for k in findings(healthy))

    # When ml-training's plugin fails (an expired SSO session) or prints something that is not JSON
    code, doc, err, _ = scan(two, mode)

    # Then the scan exits as usual, with one collection error for ml-training naming the plugin and
    # what it said (the token in its stderr redacted), and every other finding kept
    assert code == code_ok, err
    [error] = collection_errors(doc)
    assert (error["cluster"], error["resource"], error["details"]["error_code"]) == (
        "ml-training",
        "source/kubernetes",
        "KubeCredentialError",
    )
    assert "the credential plugin `python" in error["message"] and "get-token.py" in error["message"]
    assert "context ml-training-" in error["message"] and said in error["message"]
    assert (
        "access entry" not in error["message"]
        and "Run the credential plugin yourself" in error["remediation"]
    )
    assert "aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8" not in json.dumps(doc) + err
    assert (
        findings(doc) == findings(healthy) - kubernetes
    )  # ml-training's AWS findings and search-staging's all
    assert runs(two.parent, f"ml-training-{mode}") == 1  # not once per reader of the cluster


def test_a_hanging_plugin_is_stopped_at_its_timeout_and_named(two: Path) -> None:
    # Given ml-training's plugin hangs for 10 minutes and kubernetes.exec_timeout_seconds is 4
    settings = "kubernetes: {exec_timeout_seconds: 4}\n"

    # When the scan runs with a 20 s deadline
    code, doc, err, elapsed = scan(two, "hang", "--timeout", "20", settings=settings)

    # Then the plugin is stopped after 4 s, named in one collection error; no deadline finding blames
    # another source, and search-staging is scanned
    assert code == 0, err
    assert elapsed < 15
    errors = collection_errors(doc)
    assert len(errors) == 1, [e["message"] for e in errors]
    [error] = errors
    assert error["cluster"] == "ml-training" and error["details"]["error_code"] == "KubeCredentialError"
    assert "did not finish within kubernetes.exec_timeout_seconds (4 s) and was stopped" in error["message"]
    assert any(k[0] == "search-staging" and k[1].startswith("webhook.") for k in findings(doc))


def test_a_plugin_that_never_returns_cannot_outlive_the_scans_deadline(two: Path) -> None:
    # Given a plugin that never returns and the default plugin timeout (timeout_seconds + 5 = 15 s)
    # When the scan's deadline is 8 s
    code, doc, err, elapsed = scan(two, "hang", "--timeout", "8")

    # Then the scan ends at its deadline, not the plugin's, and the plugin (stopped a second before the
    # deadline) is what the cluster's collection error names, not the readers it held up
    assert elapsed < 12, err
    assert doc is not None and code == 0
    [error] = [e for e in collection_errors(doc) if e["cluster"] == "ml-training"]
    assert error["details"]["error_code"] == "KubeCredentialError"
    assert "did not finish before the scan's deadline" in error["message"]


@pytest.mark.parametrize("mode", ["near", "brief"], ids=["expires-in-4-minutes", "expires-in-30-seconds"])
def test_a_token_near_its_expiry_is_reused_not_fetched_for_every_request(two: Path, mode: str) -> None:
    # Given a plugin whose tokens expire in 4 minutes (within kubernetes' 5-minute refresh skew) or in
    # 30 s (within eksmon's own refresh margin, every time it is asked)
    client = KubeClient.from_kubeconfig(two, f"ml-training-{mode}", exec_timeout=30)

    # When 20 requests are made
    for _ in range(20):
        assert client.get("/version")["gitVersion"]

    # Then the plugin ran once: its token is used until it expires
    assert runs(two.parent, f"ml-training-{mode}") == 1
    client.close()


def test_a_refresh_that_fails_mid_scan_names_the_plugin_not_an_access_entry(two: Path) -> None:
    # Given a plugin whose first token expires in 2 s and whose next run fails (SSO session gone)
    client = KubeClient.from_kubeconfig(two, "ml-training-fail-after-first", exec_timeout=30)
    assert client.get("/version")["gitVersion"]

    # When the token has expired and the next request needs a new one
    time.sleep(2.5)
    with pytest.raises(KubeCredentialError) as failed:
        client.get("/version")

    # Then the error names the plugin and what it said, not a missing access entry, and no token
    message = str(failed.value)
    assert "credential plugin" in message and "Error loading SSO Token" in message
    assert "access entry" not in message and "aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8" not in message
    assert failed.value.cluster_wide
    assert runs(two.parent, "ml-training-fail-after-first") == 2
    client.close()


def test_a_token_the_cluster_refuses_names_the_plugin_after_one_fresh_try(sim: Simulator, two: Path) -> None:
    # Given a healthy plugin whose identity has no access entry on the cluster
    api: KubernetesApi = sim.extension(KubernetesApi)
    api.cluster(DEMO_ACCOUNT, REGION, "ml-training").access_entry = False
    client = KubeClient.from_kubeconfig(two, "ml-training-ok", exec_timeout=30)

    # When a request is refused with 401
    with pytest.raises(KubeUnauthorized) as refused:
        client.get("/version")

    # Then the plugin was asked once more for a fresh token, and the error names it
    assert runs(two.parent, "ml-training-ok") == 2
    assert "the token the credential plugin `python" in str(refused.value)
    assert "context ml-training-ok" in str(refused.value) and "access entry" in str(refused.value)
    client.close()


def test_a_kubeconfig_list_and_an_unusable_exec_section(two: Path, tmp_path: Path) -> None:
    # a KUBECONFIG-style list: the first file naming the context wins, a missing file is skipped
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "contexts": [], "users": []}))
    files = os.pathsep.join([str(tmp_path / "missing.yaml"), str(other), str(two)])
    client = KubeClient.from_kubeconfig(files, "ml-training-ok")
    assert client.get("/version")["gitVersion"] and client.plugin is not None
    client.close()

    # an exec section eksmon cannot run is a configuration error before the scan (exit 2), naming it
    broken = yaml.safe_load(two.read_text())
    broken["users"][0]["user"]["exec"]["apiVersion"] = "client.authentication.k8s.io/v1alpha1"
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    with pytest.raises(KubeconfigError, match=r"context ml-training-ok: exec: apiVersion must be one of"):
        cli_services(
            None, kubeconfig=str(tmp_path / "broken.yaml"), contexts={"ml-training": "ml-training-ok"}
        )
