"""The product under AWS faults, driven only through `eksmon scan --format json` as a CI job drives it.

Each test injects one fault into the simulator and asserts the exit code, a wall-time bound, the
exact set of findings kept, one collection error per root cause, and unique fingerprints. Budgets and
timeouts are short (tests/integration/faults.yaml style settings written per test) so the module stays
quick. Kubernetes-side faults belong to the Kubernetes access tests.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from eksmon.cli import main
from eksmon.collectors.eks import Addons
from eksmon.parts import ClusterInfo
from eksmon.registry import load
from eksmon.sim.fleet import DEMO_FLEET, DEMO_REGIONS
from eksmon.sim.server import Simulator

EAST, WEST = DEMO_REGIONS
ARGS = ["--region", EAST, "--region", WEST, "--now", "2026-11-26T12:00:00Z", "--format", "json"]
# short budgets: every fault is over in seconds, not minutes
SETTINGS = """\
kubernetes: {enabled: false}
aws:
  connect_timeout: 1
  read_timeout: 1
  max_pages: 20
"""
Key = tuple[str, str, str | None, str]  # (region, check, cluster, resource)


def scan_json(
    sim: Simulator, tmp_path: Path, *extra: str, settings: str = SETTINGS
) -> tuple[int, Any, str, float]:
    config = tmp_path / "eksmon.yaml"
    config.write_text(settings)
    saved = dict(os.environ)
    os.environ.update(sim.environ(EAST))
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    try:
        code = main(["scan", *ARGS, "--config", str(config), *extra], out=out, err=err)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    elapsed = time.monotonic() - started
    doc = json.loads(out.getvalue()) if out.getvalue().strip() else None
    return code, doc, err.getvalue(), elapsed


def kept(doc: Any) -> set[Key]:
    """The findings about the fleet (not the monitor's own: a source it could not read, its run time)."""
    return {
        (f["region"], f["check"], f["cluster"], f["resource"])
        for f in doc["findings"]
        if f["check"] not in ("monitor.collection_error", "monitor.run_time")
    }


def run_times(doc: Any) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["check"] == "monitor.run_time"]


def errors(doc: Any) -> list[tuple[str, str | None, str, str]]:
    return sorted(
        (f["region"], f["cluster"], f["resource"], f["details"]["error_code"])
        for f in doc["findings"]
        if f["check"] == "monitor.collection_error"
    )


def unique_fingerprints(doc: Any) -> bool:
    prints = [f["fingerprint"] for f in doc["findings"]]
    return len(prints) == len(set(prints))


@pytest.fixture(scope="module")
def calm(simulator: Simulator, tmp_path_factory: pytest.TempPathFactory) -> set[Key]:
    """The findings of the demo fleet without any fault (the reference every fault test compares to)."""
    simulator.reset()
    simulator.seed_demo()
    code, doc, err, _ = scan_json(simulator, tmp_path_factory.mktemp("calm"))
    assert code == 0 and errors(doc) == [] and run_times(doc) == [], err
    found = kept(doc)
    assert len(found) > 20 and unique_fingerprints(doc)
    return found


def without(found: set[Key], check_prefix: str | tuple[str, ...], cluster: str | None = None) -> set[Key]:
    return {k for k in found if not (k[1].startswith(check_prefix) and (cluster is None or k[2] == cluster))}


# -- 1. a throttling burst is absorbed ----------------------------------------------------------------
def test_a_throttling_burst_slows_the_scan_and_loses_nothing(demo_sim: Simulator, calm, tmp_path) -> None:
    demo_sim.fault("eks", code="ThrottlingException", status=400, times=30)
    demo_sim.fault("servicequotas", code="TooManyRequestsException", status=400, times=30)
    code, doc, err, elapsed = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert kept(doc) == calm
    assert errors(doc) == []
    assert unique_fingerprints(doc)
    assert elapsed < 45  # botocore's adaptive limiter sends one throttled ListClusters every 2 s: ~35 s


def test_two_throttles_per_operation_and_region_cost_seconds_not_a_minute(
    demo_sim: Simulator, calm, tmp_path
) -> None:
    for region in DEMO_REGIONS:
        for operation in ("GET /clusters", "ListServiceQuotas", "GetMetricData"):
            service = {"GetMetricData": "monitoring", "ListServiceQuotas": "servicequotas"}.get(
                operation, "eks"
            )
            demo_sim.fault(
                service, operation=operation, region=region, code="ThrottlingException", status=400, times=2
            )
    code, doc, err, elapsed = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert kept(doc) == calm and errors(doc) == [] and unique_fingerprints(doc)
    assert elapsed < 20


# -- 2. a hung call is bounded ---------------------------------------------------------------------------
def test_a_hung_get_metric_data_is_retried_and_reported(demo_sim: Simulator, calm, tmp_path) -> None:
    demo_sim.fault("monitoring", operation="GetMetricData", region=WEST, kind="hang")
    code, doc, err, elapsed = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    # read timeout 1 s, tried aws.max_attempts (3) times: both CloudWatch readers of the region fail;
    # one root cause, one error
    assert errors(doc) == [(WEST, None, "source/cloudwatch:GetMetricData", "ReadTimeoutError")]
    # the control-plane metrics of the region are lost; its quotas are counted instead of read from AWS/Usage
    # (and with them the coverage notes that said which series a cluster lacks)
    metric_checks = ("etcd.", "apiserver.", "admission.", "control_plane.", "monitor.coverage")
    west_metrics = {k for k in calm if k[0] == WEST and k[1].startswith(metric_checks)}
    assert west_metrics and kept(doc) == calm - west_metrics
    assert unique_fingerprints(doc)
    assert elapsed < 15


def test_the_deadline_stops_a_scan_and_keeps_what_was_read(demo_sim: Simulator, calm, tmp_path) -> None:
    demo_sim.fault("eks", operation="GET /clusters/data-platform/addons", kind="hang")
    settings = SETTINGS.replace("read_timeout: 1", "read_timeout: 60")
    # the calm scan takes about 2 s: 10 s leave the rest of the fleet time to finish on a busy machine
    code, doc, err, elapsed = scan_json(demo_sim, tmp_path, "--timeout", "10", settings=settings)
    assert code == 0, err
    assert 10 <= elapsed < 12
    (error,) = [f for f in doc["findings"] if f["check"] == "monitor.collection_error"]
    assert (error["cluster"], error["resource"], error["details"]["error_code"]) == (
        "data-platform",
        "source/deadline",
        "DeadlineExceeded",
    )
    # the update history waits for the add-on names, so it is left unread with them
    assert error["details"]["unfinished"] == ["eks.addons", "eks_updates.updates"]
    # what the add-ons hold is lost for data-platform: their compatibility and their health
    lost_addons = without(calm, "version.addon_incompatible", "data-platform")
    assert kept(doc) == without(lost_addons, "cluster.addon_health", "data-platform")
    assert unique_fingerprints(doc)
    # the run says it was cut, how long it took, and which source held it up
    (run,) = run_times(doc)
    assert (run["severity"], run["resource"], run["cluster"]) == ("warning", "run/scan", None)
    details = run["details"]
    assert details["cut"] is True and details["budget_seconds"] == 10 and details["percent"] >= 99.9
    assert 9.99 <= details["duration_seconds"] < 12 and details["throttled_retries"] == 0
    slowest = details["slowest_sources"][0]  # hung since data-platform's DescribeCluster answered
    assert (slowest["source"], slowest["finished"]) == ("eks.addons", False)
    assert (
        slowest["where"].endswith("/data-platform") and 0 < slowest["seconds"] <= details["duration_seconds"]
    )
    assert "was cut at its 10.0 s deadline" in run["title"]


def test_ctrl_c_stops_within_two_seconds_without_a_traceback(demo_sim: Simulator, tmp_path) -> None:
    demo_sim.fault("eks", operation="GET /clusters", kind="hang")
    config = tmp_path / "eksmon.yaml"
    config.write_text(SETTINGS.replace("read_timeout: 1", "read_timeout: 60"))
    env = {**os.environ, **demo_sim.environ(EAST), "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "eksmon", "scan", *ARGS, "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(demo_sim.calls("eks")) < 2 and time.monotonic() < deadline:  # both regions are listing
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - interrupted < 2
    assert proc.returncode == 130
    assert "Traceback" not in err and err.strip() == "eksmon: interrupted"
    assert out == ""


# -- 3. endless pagination ends --------------------------------------------------------------------------
def test_an_endless_next_token_is_a_collection_error_after_max_pages(
    demo_sim: Simulator, calm, tmp_path
) -> None:
    demo_sim.fault("eks", operation="GET /clusters/payments-prod/node-groups", kind="endless_token")
    code, doc, err, elapsed = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert errors(doc) == [(EAST, "payments-prod", "source/eks:ListNodegroups", "EndlessPagination")]
    calls = [c for c in demo_sim.calls("eks") if c[2] == "GET /clusters/payments-prod/node-groups"]
    assert len(calls) == 21  # aws.max_pages (20) and the one that proves it goes on
    lost = {
        k
        for k in calm
        if k[2] == "payments-prod"
        and (k[1] == "version.nodegroup_skew" or "L-BD136A63" in k[3] or "L-6D54EA21" in k[3])
    }
    assert lost and kept(doc) == calm - lost
    assert unique_fingerprints(doc) and elapsed < 15


# -- 4. a corrupt answer is reported -------------------------------------------------------------------
def test_a_truncated_answer_is_a_collection_error_naming_the_source(
    demo_sim: Simulator, calm, tmp_path
) -> None:
    demo_sim.fault("eks", operation="GET /addons/supported-versions", kind="truncate")
    code, doc, err, elapsed = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert errors(doc) == [
        (WEST, None, "source/eks:DescribeAddonVersions", "BrokenAnswer"),
        (EAST, None, "source/eks:DescribeAddonVersions", "BrokenAnswer"),
    ]
    error = next(f for f in doc["findings"] if f["check"] == "monitor.collection_error")
    assert "not valid JSON" in error["message"]
    assert kept(doc) == without(calm, "version.addon_incompatible")
    assert unique_fingerprints(doc) and elapsed < 15


def test_a_truncated_cloudwatch_answer_says_it_is_not_valid_json(demo_sim: Simulator, calm, tmp_path) -> None:
    # CloudWatch's model names CBOR first, but botocore speaks JSON to it: its bodies are checked as JSON
    demo_sim.fault("monitoring", operation="GetMetricData", region=WEST, kind="truncate")
    code, doc, err, _ = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert errors(doc) == [(WEST, None, "source/cloudwatch:GetMetricData", "BrokenAnswer")]
    error = next(f for f in doc["findings"] if f["check"] == "monitor.collection_error")
    assert "not valid JSON" in error["message"], error["message"]
    assert unique_fingerprints(doc)


# -- 5. no collateral loss -------------------------------------------------------------------------------
def test_describe_cluster_denied_loses_only_what_needs_it(demo_sim: Simulator, calm, tmp_path) -> None:
    demo_sim.fault("eks", operation="GET /clusters/payments-prod", code="AccessDeniedException", status=403)
    code, doc, err, _ = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert errors(doc) == [(EAST, "payments-prod", "source/eks:DescribeCluster", "AccessDeniedException")]
    # only the checks that need DescribeCluster itself lose the cluster (etcd's limit depends on its tier);
    # the apiserver metrics come from CloudWatch by cluster name, node groups and quotas are listed by name
    checks = load().checks
    # (the add-ons are read against the cluster's version, so what reads them is lost with it)
    lost = {k for k in calm if k[2] == "payments-prod" and {ClusterInfo, Addons} & set(checks[k[1]].needs)}
    assert lost and any(k[2] == "payments-prod" for k in calm - lost)
    assert kept(doc) == calm - lost
    assert unique_fingerprints(doc)


# -- 6. unique fingerprints -------------------------------------------------------------------------------
def test_get_metric_data_failing_in_a_region_is_one_error(demo_sim: Simulator, calm, tmp_path) -> None:
    demo_sim.fault("monitoring", operation="GetMetricData", region=WEST, code="InternalFailure", status=500)
    code, doc, err, elapsed = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert errors(doc) == [(WEST, None, "source/cloudwatch:GetMetricData", "InternalFailure")]
    assert unique_fingerprints(doc) and elapsed < 15


# -- 7. one line, never a traceback -------------------------------------------------------------------------
def test_an_endpoint_that_refuses_connections_exits_3_in_one_line(tmp_path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "eksmon.yaml"
    config.write_text(SETTINGS)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "AKIAEKSMONTEST000000",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": EAST,
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "eksmon", "scan", *ARGS, "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "cannot reach AWS STS" in proc.stderr and proc.stdout == ""
    assert time.monotonic() - started < 20


def test_a_configuration_that_is_not_utf8_exits_2_naming_the_file(sim: Simulator, tmp_path) -> None:
    config = tmp_path / "latin1.yaml"
    config.write_bytes("regions: [us-east-1]  # région\n".encode("latin-1"))
    saved = dict(os.environ)
    os.environ.update(sim.environ(EAST))
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(["scan", "--config", str(config)], out=out, err=err)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert code == 2
    assert err.getvalue().count("\n") == 1 and str(config) in err.getvalue() and "UTF-8" in err.getvalue()


def test_an_unexpected_error_is_one_line_and_the_traceback_only_with_debug(
    sim: Simulator, monkeypatch, tmp_path
) -> None:
    import eksmon.engine

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("something nobody expected\nsecond line")

    monkeypatch.setattr(eksmon.engine, "scan", broken)
    for k, v in sim.environ(EAST).items():
        monkeypatch.setenv(k, v)
    out, err = io.StringIO(), io.StringIO()
    assert main(["scan", "--region", EAST], out=out, err=err) == 3
    assert err.getvalue() == (
        "eksmon: unexpected error: RuntimeError: something nobody expected (--debug shows the traceback)\n"
    )
    out, err = io.StringIO(), io.StringIO()
    assert main(["scan", "--region", EAST, "--debug"], out=out, err=err) == 3
    assert "Traceback" in err.getvalue() and "something nobody expected" in err.getvalue()


def test_a_lambda_stops_reading_before_its_timeout_and_keeps_what_it_read(demo_sim: Simulator) -> None:
    from eksmon.runner import MonitorEnvironment, run_monitor
    from eksmon.settings import parse_settings

    demo_sim.fault("eks", operation="GET /clusters/data-platform", kind="hang")
    settings = parse_settings(
        {
            "regions": list(DEMO_REGIONS),
            "aws": {"read_timeout": 60, "publish_margin_seconds": 2},
        }
    )
    env = MonitorEnvironment.model_validate({"EKSMON_CONFIG": settings.to_json()})
    started = time.monotonic()
    # 10 s left in the invocation, 2 s kept to publish: the scan stops reading after 8 s
    summary = run_monitor(
        "lifecycle",
        env,
        {"now": "2026-11-26T12:00:00Z"},
        session_factory=demo_sim.session_factory(),
        remaining_seconds=10,
    )
    assert 8 <= time.monotonic() - started < 10
    assert summary.collection_errors == 1  # data-platform: its sources cut off by the deadline
    assert (
        summary.clusters == len(DEMO_FLEET) and summary.findings > 10
    )  # every other cluster was scanned and reported


def test_describe_cluster_denied_keeps_what_a_kubeconfig_context_reads(demo_sim: Simulator, tmp_path) -> None:
    from eksmon.sim.kubernetes_api import KubernetesApi
    from tests.integration.test_kube_access import write_kubeconfig

    path = write_kubeconfig(tmp_path, demo_sim.extension(KubernetesApi), demo_sim, "search-staging", WEST)
    with_kube = SETTINGS.replace("kubernetes: {enabled: false}", "kubernetes: {enabled: true}")
    context = ["--kubeconfig", str(path), "--kube-context", "search-staging=via-token"]
    code, doc, err, _ = scan_json(demo_sim, tmp_path, *context, settings=with_kube)
    assert code == 0 and errors(doc) == [], err
    before = kept(doc)
    assert any(k[2] == "search-staging" and k[1].startswith("webhook.") for k in before)

    demo_sim.fault("eks", operation="GET /clusters/search-staging", code="AccessDeniedException", status=403)
    code, doc, err, _ = scan_json(demo_sim, tmp_path, *context, settings=with_kube)
    assert code == 0, err
    assert errors(doc) == [(WEST, "search-staging", "source/eks:DescribeCluster", "AccessDeniedException")]
    # only the checks that need DescribeCluster itself lose search-staging's findings; the Kubernetes API,
    # reached through the context, still gives its webhook, kube-proxy and CNI findings, its unsafe sysctls
    # (judged for the version the API server's /version gives) and its broken aws-auth (mode unknown)
    checks = load().checks
    lost = {k for k in before if k[2] == "search-staging" and ClusterInfo in checks[k[1]].needs}
    assert lost and kept(doc) == before - lost
    for check in ("pod.unsafe_sysctls", "auth.aws_auth_invalid"):
        assert any(k[1] == check and k[2] == "search-staging" for k in kept(doc)), check
    [auth] = [f for f in doc["findings"] if f["check"] == "auth.aws_auth_invalid"]
    assert auth["details"]["authentication_mode"] == "unknown"
    sysctls = [f for f in doc["findings"] if f["check"] == "pod.unsafe_sysctls"]
    assert sysctls and all("Kubernetes 1.35" in f["message"] for f in sysctls)
    assert unique_fingerprints(doc)
