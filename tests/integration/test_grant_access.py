"""`eksmon grant-access` against the simulator: the monitor roles' access entries, from the stack outputs.

Given a deployed stack (CloudFormation, with the KubernetesRoleArn outputs the CDK app writes) and a
region with clusters, when a user runs grant-access, then each matching cluster gets one entry per role
with group eksmon-readers, a second run reports them already there, --dry-run prints the aws commands
and changes nothing, and a cluster that refuses does not hide the others.
"""

from __future__ import annotations

import io
import json
import shlex

import pytest

from eksmon.cli import main
from eksmon.sim.eks import EksExtension
from eksmon.sim.fleet import DEMO_ACCOUNT, DemoCluster
from eksmon.sim.server import Simulator
from eksmon.stack_outputs import KUBERNETES_ROLE_PREFIX

REGION = "eu-west-1"
ROLES = {
    "Kubernetes": f"arn:aws:iam::{DEMO_ACCOUNT}:role/eksmon-monitor/EksMonitor-KubernetesMonitorRole-AB12",
    "Metrics": f"arn:aws:iam::{DEMO_ACCOUNT}:role/eksmon-monitor/EksMonitor-MetricsMonitorRole-CD34",
}


def deploy_stack(sim: Simulator, name: str = "EksMonitor") -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            **{f"{KUBERNETES_ROLE_PREFIX}{m}": {"Value": arn} for m, arn in ROLES.items()},
            "FindingsTableName": {"Value": "EksMonitor-FindingsTable-XYZ"},
        },
    }
    sim.session(REGION).client("cloudformation").create_stack(
        StackName=name, TemplateBody=json.dumps(template)
    )


def clusters(sim: Simulator, *names: str, mode: str = "API_AND_CONFIG_MAP") -> EksExtension:
    eks = sim.extension(EksExtension)
    for name in names:
        eks.add_cluster(
            DemoCluster(name=name, region=REGION, version="1.34", authentication_mode=mode), DEMO_ACCOUNT
        )
    return eks


def cli(sim: Simulator, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    for k, v in sim.environ(REGION).items():
        monkeypatch.setenv(k, v)
    out, err = io.StringIO(), io.StringIO()
    code = main(["grant-access", *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def entries(eks: EksExtension, name: str) -> dict[str, tuple[list[str], str]]:
    extra = eks.cluster(DEMO_ACCOUNT, REGION, name)
    return {p: extra.access_entry_details[p] for p in extra.access_entries if p in ROLES.values()}


def test_each_matching_cluster_gets_each_role_once(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    deploy_stack(sim)
    eks = clusters(sim, "checkout-prod", "search-prod", "sandbox")
    code, out, err = cli(sim, monkeypatch, "--stack", "EksMonitor", "--cluster", "*-prod")
    assert code == 0, err
    for name in ("checkout-prod", "search-prod"):
        assert entries(eks, name) == {arn: (["eksmon-readers"], "STANDARD") for arn in ROLES.values()}
    assert entries(eks, "sandbox") == {}
    assert "2 clusters: 4 entries created, 0 already there, 0 failed" in out
    assert "eksmon rbac | kubectl apply -f -" in out

    code, out, err = cli(sim, monkeypatch, "--cluster", "*-prod")  # idempotent: the second run says so
    assert code == 0, err
    assert "2 clusters: 0 entries created, 4 already there, 0 failed" in out
    assert out.count("already there") == 5  # four lines and the summary


def test_dry_run_prints_the_aws_commands_and_changes_nothing(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_stack(sim)
    eks = clusters(sim, "checkout-prod")
    code, out, err = cli(sim, monkeypatch, "--dry-run")
    assert code == 0, err
    commands = [shlex.split(line) for line in out.splitlines() if line.startswith("aws ")]
    assert sorted(c[c.index("--principal-arn") + 1] for c in commands) == sorted(ROLES.values())
    for c in commands:
        assert c[:3] == ["aws", "eks", "create-access-entry"]
        assert c[c.index("--cluster-name") + 1] == "checkout-prod" and c[c.index("--region") + 1] == REGION
        assert c[c.index("--kubernetes-groups") + 1] == "eksmon-readers" and "--type" in c
    assert entries(eks, "checkout-prod") == {}
    # the rest is shell comments: the output can be piped to a shell as it is
    assert all(line.startswith(("aws ", "#")) for line in out.splitlines() if line)
    assert "eksmon rbac | kubectl apply -f -" in out


def test_one_refusing_cluster_does_not_hide_the_others(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_stack(sim)
    eks = clusters(sim, "legacy", mode="CONFIG_MAP")
    clusters(sim, "modern")
    code, out, _ = cli(sim, monkeypatch)
    assert code == 3
    assert "legacy" in out and "InvalidRequestException" in out and "FAILED" in out
    assert len(entries(eks, "modern")) == 2
    assert "2 clusters: 2 entries created, 0 already there, 2 failed" in out


def test_an_entry_without_the_group_is_reported_with_the_fix(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    clusters(sim, "checkout-prod")
    role = ROLES["Metrics"]
    sim.session(REGION).client("eks").create_access_entry(
        clusterName="checkout-prod", principalArn=role, kubernetesGroups=["viewers"]
    )
    code, out, _ = cli(sim, monkeypatch, "--role-arn", role)
    assert code == 3
    assert "exists without group eksmon-readers" in out
    assert "aws eks update-access-entry" in out and "--kubernetes-groups viewers eksmon-readers" in out


def test_role_arns_given_on_the_command_line_need_no_stack(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    eks = clusters(sim, "checkout-prod")
    reader = "arn:aws:iam::123456789012:role/eksmon-reader"
    code, _, err = cli(sim, monkeypatch, "--role-arn", reader)
    assert code == 0, err
    assert eks.cluster(DEMO_ACCOUNT, REGION, "checkout-prod").access_entry_details[reader][0] == [
        "eksmon-readers"
    ]


def test_a_missing_stack_or_a_filter_that_selects_nothing_is_said(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    clusters(sim, "checkout-prod")
    code, _, err = cli(sim, monkeypatch, "--stack", "Nope")
    assert code == 3 and "no stack 'Nope'" in err and "--role-arn" in err
    deploy_stack(sim)
    code, _, err = cli(sim, monkeypatch, "--cluster", "nothing-*")
    assert code == 2 and "no cluster in eu-west-1 matches nothing-*" in err


def test_a_bad_role_arn_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["grant-access", "--role-arn", "eksmon-reader"])
    assert exited.value.code == 2 and "is not an IAM role ARN" in capsys.readouterr().err


def test_no_region_anywhere_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    err = io.StringIO()
    assert main(["grant-access"], out=io.StringIO(), err=err) == 2
    assert "needs a region" in err.getvalue()
