"""A filter that selects nothing is said, never an all-clear: `eksmon scan --cluster/--check` against the
simulated fleet, and a deployed monitor's clusters.include."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from eksmon.cli import main
from eksmon.runner import MonitorEnvironment, run_monitor
from eksmon.settings import parse_settings
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_REGIONS
from eksmon.sim.server import Simulator

EAST, WEST = DEMO_REGIONS
NOW = ["--now", "2026-11-26T12:00:00Z"]
PAYMENTS_ARN = f"arn:aws:eks:{EAST}:{DEMO_ACCOUNT}:cluster/payments-prod"


def scan(sim: Simulator, tmp_path: Path, *argv: str, region: str = WEST) -> tuple[int, str, str]:
    """`eksmon scan` with the simulator's credentials; ``region`` is the current region (AWS_REGION)."""
    config = tmp_path / "eksmon.yaml"
    config.write_text("kubernetes: {enabled: false}\n")
    saved = dict(os.environ)
    os.environ.update(sim.environ(region))
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(["scan", "--config", str(config), *NOW, *argv], out=out, err=err)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, out.getvalue(), err.getvalue()


def clusters_of(text: str) -> set[tuple[str, str | None]]:
    return {(f["region"], f["cluster"]) for f in json.loads(text)["findings"] if f["cluster"]}


def test_a_cluster_typo_exits_2_naming_it_and_the_closest_clusters(demo_sim: Simulator, tmp_path) -> None:
    code, out, err = scan(
        demo_sim, tmp_path, "--region", EAST, "--cluster", "payments-prd", "--check", "version.*", "--fail-on",
        "critical",
    )  # fmt: skip
    assert code == 2
    assert out == ""  # no "every selected check passed" for nothing looked at
    (line,) = err.splitlines()
    assert line.startswith("eksmon: --cluster 'payments-prd' matches no cluster in the scanned")
    assert "Clusters that exist: payments-prod," in line  # the closest first
    assert "Traceback" not in err


def test_one_typo_among_good_patterns_still_exits_2(demo_sim: Simulator, tmp_path) -> None:
    code, _out, err = scan(
        demo_sim, tmp_path, "--region", EAST, "--cluster", "*-prod", "--cluster", "checkout"
    )
    assert code == 2
    assert "'checkout' matches no cluster" in err and "checkout-prod" in err and "*-prod" not in err


def test_a_glob_that_matches_scans_as_before(demo_sim: Simulator, tmp_path) -> None:
    code, out, err = scan(
        demo_sim, tmp_path, "--region", EAST, "--cluster", "payments-*", "--format", "json", "--fail-on",
        "critical",
    )  # fmt: skip
    assert code == 1, err
    assert clusters_of(out) == {(EAST, "payments-prod")} and err == ""


def test_a_cluster_arn_selects_that_cluster_and_scans_its_region(demo_sim: Simulator, tmp_path) -> None:
    # no --region, and the current region is the other one: the ARN's region is the one scanned
    code, out, err = scan(
        demo_sim, tmp_path, "--cluster", PAYMENTS_ARN, "--check", "version.*", "--fail-on", "critical",
        "--format", "json", region=WEST,
    )  # fmt: skip
    assert code == 1, err  # payments-prod has a critical version finding
    doc = json.loads(out)
    assert clusters_of(out) == {(EAST, "payments-prod")}
    assert {f["region"] for f in doc["findings"]} == {EAST}
    assert any(f["severity"] == "critical" for f in doc["findings"])


def test_an_arn_restricts_to_its_account_and_region(demo_sim: Simulator, tmp_path) -> None:
    other_account = PAYMENTS_ARN.replace(DEMO_ACCOUNT, "210987654321")
    code, out, err = scan(demo_sim, tmp_path, "--cluster", other_account)
    assert code == 2 and out == ""
    assert "its account 210987654321 is not scanned" in err

    other_region = PAYMENTS_ARN.replace(EAST, WEST)  # payments-prod lives in the east, not the west
    code, out, err = scan(demo_sim, tmp_path, "--cluster", other_region)
    assert code == 2 and out == ""
    assert f"matches no cluster in the scanned accounts and regions ({DEMO_ACCOUNT}/{WEST})" in err
    assert "payments-prod" not in err.split("exist:")[1]  # the names of the ARN's own region

    code, out, err = scan(demo_sim, tmp_path, "--region", WEST, "--cluster", PAYMENTS_ARN)
    assert code == 2 and f"its region {EAST} is not scanned (add --region {EAST})" in err


def test_a_configured_include_that_matches_nothing_is_named_as_configured(
    demo_sim: Simulator, tmp_path
) -> None:
    config = tmp_path / "typo.yaml"
    config.write_text("kubernetes: {enabled: false}\nclusters: {include: [checkout-prd]}\n")
    code, out, err = scan(demo_sim, tmp_path, "--region", EAST, "--config", str(config))
    assert code == 2 and out == ""
    assert (
        err.startswith("eksmon: clusters.include 'checkout-prd' matches no cluster")
        and "checkout-prod" in err
    )


def test_the_catalogue_lists_the_filter_warning(capsys) -> None:
    assert main(["checks", "--format", "json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["monitor.filter_matches_nothing"]["severity"].startswith("warning")


def test_a_malformed_arn_is_a_usage_error(demo_sim: Simulator, tmp_path) -> None:
    code, out, err = scan(demo_sim, tmp_path, "--cluster", "arn:aws:eks:us-east-1:1234:cluster/x")
    assert code == 2 and out == ""
    assert "is not an EKS cluster ARN" in err and len(err.splitlines()) == 1


def test_a_miss_where_a_region_could_not_be_listed_is_not_called_a_typo(
    demo_sim: Simulator, tmp_path
) -> None:
    demo_sim.fault("eks", operation="GET /clusters", region=WEST, code="AccessDeniedException", status=403)
    code, out, err = scan(
        demo_sim, tmp_path, "--region", EAST, "--region", WEST, "--cluster", "ml-training", "--format", "json"
    )
    assert code == 2
    assert f"the clusters of {DEMO_ACCOUNT}/{WEST} could not be listed" in err and "may be there" in err
    # the report is printed, so that the collection error behind the doubt is seen
    errors = [f for f in json.loads(out)["findings"] if f["check"] == "monitor.collection_error"]
    assert [(e["region"], e["resource"]) for e in errors] == [(WEST, "source/eks:ListClusters")]


def test_a_check_typo_exits_2_with_the_closest_ids(demo_sim: Simulator, tmp_path) -> None:
    code, out, err = scan(demo_sim, tmp_path, "--check", "verison.*", "--check", "etcd.db_sise")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("eksmon: --check 'verison.*' matches no check; closest: version.")
    assert lines[1].startswith("eksmon: --check 'etcd.db_sise' matches no check; closest: etcd.db_size")


# -- a deployed monitor ---------------------------------------------------------------------------------
def _run(sim: Simulator, include: list[str], event: dict[str, Any] | None = None) -> Any:
    settings = parse_settings(
        {"regions": list(DEMO_REGIONS), "clusters": {"include": include}, "kubernetes": {"enabled": False}}
    )
    env = MonitorEnvironment.model_validate({"EKSMON_CONFIG": settings.to_json()})
    return run_monitor(
        "lifecycle",
        env,
        {"now": "2026-11-26T12:00:00Z", **(event or {})},
        session_factory=sim.session_factory(),
    )


def test_a_monitor_whose_include_pattern_matches_nothing_warns(demo_sim: Simulator, monkeypatch) -> None:
    import eksmon.runner

    published: list[Any] = []
    real = eksmon.runner._notify

    def keep(monitor: Any, env: Any, settings: Any, result: Any, *rest: Any) -> Any:
        published.extend(result.findings)
        return real(monitor, env, settings, result, *rest)

    monkeypatch.setattr(eksmon.runner, "_notify", keep)
    healthy = _run(demo_sim, ["payments-*"])
    assert not [f for f in published if f.check == "monitor.filter_matches_nothing"]
    published.clear()

    summary = _run(demo_sim, ["payments-*", "paymnets-prod"])
    (warning,) = [f for f in published if f.check == "monitor.filter_matches_nothing"]
    assert summary.findings == healthy.findings + 1
    assert warning.severity.value == "warning" and warning.resource == "filter/paymnets-prod"
    assert "'paymnets-prod' matches no cluster" in warning.message
    assert warning.details["existing_clusters"][0] == "payments-prod"

    # a fan-out partition sees part of the fleet: a miss in it proves nothing, so it says nothing
    published.clear()
    _run(demo_sim, ["payments-*", "paymnets-prod"], {"partition": {"regions": [WEST]}})
    assert not [f for f in published if f.check == "monitor.filter_matches_nothing"]
