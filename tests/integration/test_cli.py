"""The command line as a user runs it: formats, exit codes, --now, bad config, no credentials."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eksmon.cli import main
from eksmon.sim.fleet import DEMO_REGIONS
from eksmon.sim.server import Simulator


def cli(sim: Simulator, *args: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    for k, v in sim.environ("us-east-1").items():
        monkeypatch.setenv(k, v)
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


REGIONS = [a for r in DEMO_REGIONS for a in ("--region", r)]
NOW = ["--now", "2026-11-26T12:00:00Z"]


def test_json_output_is_the_documented_document(demo_sim, monkeypatch) -> None:
    code, out, err = cli(demo_sim, "scan", *REGIONS, *NOW, "--format", "json", monkeypatch=monkeypatch)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "eksmon.scan/v1" and doc["generated_at"] == "2026-11-26T12:00:00Z"
    assert doc["summary"]["clusters"] == 9 and doc["summary"]["findings"] == len(doc["findings"])
    f = doc["findings"][0]
    assert set(f) == {
        "check",
        "severity",
        "title",
        "message",
        "remediation",
        "docs",
        "account",
        "region",
        "cluster",
        "resource",
        "fingerprint",
        "details",
        "observed_at",
    }
    assert f["severity"] == "critical"


def test_now_moves_every_date(demo_sim, monkeypatch) -> None:
    _, out, _ = cli(
        demo_sim,
        "scan",
        *REGIONS,
        "--now",
        "2026-06-01T00:00:00Z",
        "--format",
        "json",
        "--check",
        "version.standard_support_ending",
        monkeypatch=monkeypatch,
    )
    findings = json.loads(out)["findings"]
    # on 2026-06-01, 1.34 has 184 days left (quiet) and 1.32 is already in extended support (quiet here)
    assert {f["cluster"] for f in findings} == set()
    _, out, _ = cli(
        demo_sim,
        "scan",
        *REGIONS,
        "--now",
        "2026-10-01T00:00:00Z",
        "--format",
        "json",
        "--check",
        "version.standard_support_ending",
        monkeypatch=monkeypatch,
    )
    days = {f["cluster"]: f["details"]["days_left"] for f in json.loads(out)["findings"]}
    assert days == {"payments-prod": 62, "ml-training": 62}


@pytest.mark.parametrize(("fail_on", "code"), [("never", 0), ("critical", 1), ("warning", 1)])
def test_fail_on(demo_sim, monkeypatch, fail_on: str, code: int) -> None:
    got, _, _ = cli(demo_sim, "scan", *REGIONS, *NOW, "--fail-on", fail_on, monkeypatch=monkeypatch)
    assert got == code


def test_fail_on_counts_only_the_selected_checks(demo_sim, monkeypatch) -> None:
    got, out, _ = cli(
        demo_sim,
        "scan",
        *REGIONS,
        *NOW,
        "--check",
        "cluster.control_plane_logging",
        "--fail-on",
        "warning",
        monkeypatch=monkeypatch,
    )
    assert got == 0 and "control-plane log types off" in out


def test_table_and_markdown(demo_sim, monkeypatch) -> None:
    _, table, _ = cli(
        demo_sim, "scan", *REGIONS, *NOW, "--cluster", "analytics-legacy", monkeypatch=monkeypatch
    )
    assert "CRIT" in table and "analytics-legacy" in table and "payments-prod" not in table
    assert "in 1 clusters" in table
    _, md, _ = cli(
        demo_sim,
        "scan",
        *REGIONS,
        *NOW,
        "--format",
        "markdown",
        "--check",
        "version.*",
        monkeypatch=monkeypatch,
    )
    assert md.startswith("# eksmon scan") and "| critical | `version." in md


def test_bad_config_exits_2_naming_the_key(sim, monkeypatch, tmp_path: Path) -> None:
    cfg = tmp_path / "eksmon.yaml"
    cfg.write_text(
        "regions: [us-east-1]\nchecks:\n  thresholds:\n    version.extended_support:\n      critical_dayz: 3\n"
    )
    code, _, err = cli(sim, "scan", "--config", str(cfg), monkeypatch=monkeypatch)
    assert code == 2 and "checks.thresholds.version.extended_support.critical_dayz: unknown key" in err


def test_unknown_check_pattern_exits_2(sim, monkeypatch) -> None:
    code, _, err = cli(sim, "scan", "--check", "nothing.*", monkeypatch=monkeypatch)
    assert code == 2 and "matches no check" in err


def test_bad_usage_exits_2() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["scan", "--now", "yesterday"], out=io.StringIO(), err=io.StringIO())
    assert exit_.value.code == 2


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
    )
    env.update(extra)
    return env


def test_no_credentials_exits_3() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "eksmon", "scan", "--region", "us-east-1"],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    assert "no AWS credentials" in proc.stderr


def test_no_region_exits_3(sim) -> None:
    env = _clean_env(
        **{k: v for k, v in sim.environ().items() if k not in {"AWS_REGION", "AWS_DEFAULT_REGION"}}
    )
    proc = subprocess.run(
        [sys.executable, "-m", "eksmon", "scan"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 3 and "no AWS region" in proc.stderr


def test_scan_a_plain_moto_server_through_aws_endpoint_url() -> None:
    # Given an unmodified moto server holding an EKS cluster, reached only through AWS_ENDPOINT_URL
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        env = _clean_env(
            AWS_ENDPOINT_URL=f"http://{host}:{port}",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-west-2",
        )
        eks = boto3.client(
            "eks",
            region_name="us-west-2",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        eks.create_cluster(
            name="old-one",
            version="1.29",
            roleArn="arn:aws:iam::123456789012:role/eks",
            resourcesVpcConfig={},
        )
        proc = subprocess.run(
            [sys.executable, "-m", "eksmon", "scan", "--format", "json", *NOW],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    by_check = {f["check"]: f for f in doc["findings"]}
    # moto lacks DescribeClusterVersions and insights: the bundled calendar is used, and the scan says so
    sources = {f["details"]["source"] for f in doc["findings"] if f["check"] == "monitor.collection_error"}
    assert "eks:DescribeClusterVersions" in sources
    ext = by_check["version.extended_support"]
    assert ext["cluster"] == "old-one" and ext["severity"] == "critical" and ext["details"]["days_left"] < 0


def test_checks_catalogue(capsys) -> None:
    assert main(["checks", "--format", "json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    std = rows["version.standard_support_ending"]
    assert std["thresholds"]["warning_days"] == 90 and "eks:DescribeClusterVersions" in std["iam_actions"]
    assert std["docs"].startswith("https://docs.aws.amazon.com/eks/")
    assert main(["checks"]) == 0
    assert "version.nodegroup_skew" in capsys.readouterr().out
    # the monitor's own ids are listed too, without thresholds or permissions of their own
    for own in ("monitor.collection_error", "monitor.coverage", "monitor.run_time", "monitor.notify_test"):
        assert rows[own]["thresholds"] == {} and rows[own]["iam_actions"] == [] and rows[own]["severity"]
    assert rows["monitor.coverage"]["severity"].startswith("info")
    run_time = rows["monitor.run_time"]
    assert (
        run_time["severity"].startswith("warning") and "aws.run_time_warning_percent" in run_time["severity"]
    )
    assert run_time["docs"].endswith("#when-a-run-nears-its-time-budget")


def test_checks_piped_into_a_reader_that_stops_early_is_not_an_error(tmp_path: Path) -> None:
    # `true` exits without reading, so eksmon's first write meets a closed pipe; pipefail keeps its exit code
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{sys.executable} -m eksmon checks | true"],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def _demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`eksmon demo` as a user runs it, in an empty folder (where it writes its HTML report)."""
    return subprocess.run(
        [sys.executable, "-m", "eksmon", "demo", *args],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )


def test_demo_leads_with_the_fleet_and_writes_nothing_unasked(tmp_path: Path) -> None:
    proc = _demo(tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # the fleet's findings first, then one line per Lambda run and per message
    assert out.index("cluster payments-prod") < out.index("Lambda eksmon-lifecycle:")
    assert "Kubernetes 1.34 leaves EKS standard support in 6 days" in out
    assert "AWS API calls" in out
    assert "Second run of every Lambda: 0 SNS messages (0 received)" in out  # the findings state at work
    assert "[eksmon] CRITICAL" in out  # each message's subject, one line each ...
    assert "-- Slack ----" not in out and "--show-alerts" in out  # ... in full only when asked
    assert list(tmp_path.iterdir()) == []  # no report file unless --html names one
    assert proc.stderr == ""  # no log line


def test_demo_shows_the_alerts_and_writes_the_report_where_asked(tmp_path: Path) -> None:
    # a path longer than the terminal is wide: printed whole, never broken across lines to fit
    where = tmp_path / ("reports-" + "x" * 100)
    where.mkdir()
    proc = _demo(tmp_path, "--show-alerts", "--html", str(where / "fleet.html"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "-- Slack ----" in out and ":red_circle:" in out  # the Slack form of each message
    assert "Subject: [eksmon] CRITICAL" in out  # the e-mail form
    report = (where / "fleet.html").read_text(encoding="utf-8")
    assert "<svg" in report and "analytics-legacy" in report
    assert str(where / "fleet.html") in out


@pytest.mark.parametrize("fmt", ["html", "json"])
def test_demo_prints_only_the_document_on_stdout(tmp_path: Path, fmt: str) -> None:
    proc = _demo(tmp_path, "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    # The narrative (Lambda runs, every message, the second run) goes to stderr ...
    assert (
        "Lambda eksmon-lifecycle:" in proc.stderr
        and "Second run of every Lambda: 0 SNS messages" in proc.stderr
    )
    # ... so stdout is the document alone.
    if fmt == "html":
        assert proc.stdout.lstrip().startswith("<!DOCTYPE html>") and proc.stdout.rstrip().endswith("</html>")
    else:
        doc = json.loads(proc.stdout)
        assert doc["schema"] == "eksmon.scan/v1"
        assert any(f["cluster"] == "analytics-legacy" for f in doc["findings"])
    assert list(tmp_path.iterdir()) == []


def test_no_kubernetes_reads_no_cluster_and_reports_no_kubernetes_errors(demo_sim, monkeypatch) -> None:
    from eksmon.sim.kubernetes_api import KubernetesApi

    api = demo_sim.extension(KubernetesApi)
    before = sum(len(c.requests) for c in api.clusters.values())
    code, out, err = cli(
        demo_sim, "scan", *REGIONS, *NOW, "--no-kubernetes", "--format", "json", monkeypatch=monkeypatch
    )
    assert code == 0, err
    doc = json.loads(out)
    assert sum(len(c.requests) for c in api.clusters.values()) == before  # not one request to any cluster
    kube_checks = {"webhook.", "pod.", "kube_proxy.", "cni.", "auth.aws_auth_invalid"}
    assert not [f for f in doc["findings"] if f["check"].startswith(tuple(kube_checks))]
    assert not [
        f
        for f in doc["findings"]
        if f["check"] == "monitor.collection_error" and "Kube" in f["details"]["error_code"]
    ]
    assert any(f["check"] == "version.extended_support" for f in doc["findings"])  # AWS checks still ran


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "html"])
def test_output_writes_every_format_to_the_file_and_says_where(
    demo_sim, monkeypatch, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / f"report.{fmt}"
    code, out, err = cli(
        demo_sim, "scan", *REGIONS, *NOW, "--format", fmt, "--output", str(target), monkeypatch=monkeypatch
    )
    assert code == 0, err
    assert out == ""  # the report went to the file
    written = target.read_text(encoding="utf-8")
    assert "analytics-legacy" in written and "\x1b[" not in written  # no colour codes in a file
    assert str(target) in err
    if fmt == "json":
        assert json.loads(written)["schema"] == "eksmon.scan/v1"


def test_output_to_a_folder_that_does_not_exist_is_a_usage_error(
    demo_sim, monkeypatch, tmp_path: Path
) -> None:
    code, _, err = cli(
        demo_sim, "scan", *REGIONS, *NOW, "--output", str(tmp_path / "no" / "r.txt"), monkeypatch=monkeypatch
    )
    assert code == 2 and "--output: cannot write" in err and "Traceback" not in err


def test_an_unknown_region_is_named_with_the_nearest_real_ones(sim, monkeypatch) -> None:
    code, out, err = cli(sim, "scan", "--region", "eu-west-9", monkeypatch=monkeypatch)
    assert code == 2 and out == ""
    assert "unknown AWS region 'eu-west-9'" in err and "eu-west-1" in err
    assert "STS" not in err


def test_a_collector_failure_is_a_finding_not_a_log_line_unless_verbose(demo_sim, monkeypatch) -> None:
    demo_sim.fault("eks", operation="GET /clusters", region="eu-west-1", code="AccessDeniedException")
    code, out, err = cli(demo_sim, "scan", *REGIONS, *NOW, monkeypatch=monkeypatch)
    assert code == 0, err
    assert "monitor.collection_error" in out
    assert err == ""  # the failure is in the report, not a log line on stderr
    demo_sim.fault("eks", operation="GET /clusters", region="eu-west-1", code="AccessDeniedException")
    _, _, err = cli(demo_sim, "scan", *REGIONS, *NOW, "-v", monkeypatch=monkeypatch)
    assert "eks.list_clusters failed" in err


def test_scan_help_has_a_description_examples_exit_codes_and_defaults(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["scan", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "eksmon scan --region us-east-1" in text
    assert "exit codes:" in text and "130" in text
    assert "(default: table)" in text and "(default: never)" in text
