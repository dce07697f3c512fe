"""Kubernetes API access in the stack: EKS access entries for the monitors that read the cluster, and the
option to run those monitors inside a VPC for clusters whose endpoint is private.

Given a single-account configuration naming two clusters and a ``kubernetes.vpc`` setting,
when the app is synthesised, then each Kubernetes-reading monitor's role gets an access entry with
group eksmon-readers on each named cluster, and its function runs in the given subnets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eksmon.errors import ConfigError
from eksmon.registry import load
from eksmon.settings import parse_settings
from infra.constants import HANDLER
from infra.constructs.kubernetes_access import access_entry_clusters, kubernetes_monitors
from infra.constructs.network import ENI_ACTIONS
from tests.infra.support import STACK, Synthesized, cdk_json_context

pytestmark = pytest.mark.infra

SETTINGS: dict[str, Any] = {
    "regions": ["eu-west-1"],
    "clusters": {"include": ["search-staging", "checkout-prod", "team-*", "sandbox"], "exclude": ["sandbox"]},
}
VPC = {
    "subnet_ids": ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
    "vpc_id": "vpc-0a1b2c3d4e5f60718",
}


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory, plans: list[Any], stub_layer: Path) -> Synthesized:
    import json

    from aws_cdk import App

    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("kubernetes-access") / "cdk.out"
    context = cdk_json_context()
    settings = {**SETTINGS, "kubernetes": {"vpc": VPC}}
    context["eksmon"] = settings
    app = App(outdir=str(outdir), context=context)
    build_app(app, parse_settings(settings), layer_dir=stub_layer, monitors=plans)
    error = None
    try:
        app.synth()
    except RuntimeError as exc:
        error = str(exc)
    return Synthesized(
        outdir=outdir,
        template=json.loads((outdir / f"{STACK}.template.json").read_text(encoding="utf-8")),
        report=json.loads((outdir / "validation-report.json").read_text(encoding="utf-8")),
        error=error,
    )


def readers(plans: list[Any]) -> list[str]:
    return kubernetes_monitors(load(), [p.monitor for p in plans])


def function_of(synth: Synthesized, monitor: str) -> tuple[str, dict[str, Any]]:
    handler = HANDLER.format(monitor=monitor)
    [(key, fn)] = [
        (k, v)
        for k, v in synth.resources("AWS::Lambda::Function").items()
        if v["Properties"]["Handler"] == handler
    ]
    return key, fn


def test_the_kubernetes_monitor_reads_the_cluster_and_the_lifecycle_one_does_not(plans: list[Any]) -> None:
    found = readers(plans)
    assert "kubernetes" in found and "lifecycle" not in found


def test_each_reading_role_gets_an_access_entry_on_each_named_cluster(
    private: Synthesized, plans: list[Any]
) -> None:
    assert private.error is None, private.error
    entries = private.resources("AWS::EKS::AccessEntry")
    got = set()
    for entry in entries.values():
        props = entry["Properties"]
        assert props["KubernetesGroups"] == ["eksmon-readers"] and props["Type"] == "STANDARD"
        role = props["PrincipalArn"]["Fn::GetAtt"][0]
        monitor = next(
            m
            for m in readers(plans)
            if function_of(private, m)[1]["Properties"]["Role"]["Fn::GetAtt"][0] == role
        )
        got.add((monitor, props["ClusterName"]))
    assert got == {(m, c) for m in readers(plans) for c in ("checkout-prod", "search-staging")}


def test_reading_functions_run_in_the_given_subnets_with_outbound_https_only(
    private: Synthesized, plans: list[Any]
) -> None:
    [(sg_id, sg)] = private.resources("AWS::EC2::SecurityGroup").items()
    assert sg["Properties"]["VpcId"] == VPC["vpc_id"]
    assert "SecurityGroupIngress" not in sg["Properties"]
    [egress] = sg["Properties"]["SecurityGroupEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    for monitor in readers(plans):
        _, fn = function_of(private, monitor)
        config = fn["Properties"]["VpcConfig"]
        assert config["SubnetIds"] == VPC["subnet_ids"]
        assert config["SecurityGroupIds"] == [{"Fn::GetAtt": [sg_id, "GroupId"]}]
    _, lifecycle = function_of(private, "lifecycle")
    assert "VpcConfig" not in lifecycle["Properties"]


def test_functions_in_the_vpc_may_manage_their_network_interfaces(
    private: Synthesized, plans: list[Any]
) -> None:
    for monitor in readers(plans):
        key, fn = function_of(private, monitor)
        role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        actions = {
            a
            for p in private.resources("AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"].get("Roles", [])
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        assert set(ENI_ACTIONS) <= actions
        # made by the monitor's own construct, before its function (the interfaces need the rights)
        (eni_policy,) = [
            d for d in private.template["Resources"][key].get("DependsOn", []) if "NetworkInterfaces" in d
        ]
        assert eni_policy.startswith(f"{monitor.capitalize()}Monitor")
        assert {"Ref": role} in private.template["Resources"][eni_policy]["Properties"]["Roles"]


def test_cdk_nag_passes_with_the_vpc_and_access_entries(private: Synthesized) -> None:
    assert private.error is None, private.error


def test_the_default_stack_has_no_access_entries_in_multi_account_mode_and_no_vpc(
    synthesized: Synthesized,
) -> None:
    assert synthesized.resources("AWS::EKS::AccessEntry") == {}
    assert all(
        "VpcConfig" not in f["Properties"] for f in synthesized.resources("AWS::Lambda::Function").values()
    )


# -- configuration ------------------------------------------------------------------------------------
def test_only_literal_included_names_get_access_entries() -> None:
    assert access_entry_clusters(parse_settings(SETTINGS)) == ["checkout-prod", "search-staging"]
    assert access_entry_clusters(parse_settings({})) == []  # the default include is "*"
    members = parse_settings({**SETTINGS, "accounts": {"ids": ["111111111111"]}})
    assert access_entry_clusters(members) == []  # each member account maps its own reader role
    with pytest.raises(ConfigError, match=r"clusters\.include: 'bad name!'"):
        access_entry_clusters(parse_settings({"clusters": {"include": ["bad name!"]}}))


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ({"subnet_ids": []}, "subnet_ids"),
        ({"subnet_ids": ["subnet-0a1b2c3d4e5f60718"]}, "give security_group_ids, or vpc_id"),
        (
            {"subnet_ids": ["sub-1"], "security_group_ids": ["sg-0a1b2c3d4e5f60718"]},
            "'sub-1' is not a subnet id",
        ),
        (
            {"subnet_ids": ["subnet-0a1b2c3d4e5f60718"], "security_group_ids": ["default"]},
            "'default' is not a security group id",
        ),
        (
            {"subnet_ids": ["subnet-0a1b2c3d4e5f60718"], "vpc_id": "vpc-0a1b2c3d", "subnets": []},
            "subnets: unknown key",
        ),
        (["subnet-0a1b2c3d4e5f60718"], "valid dictionary"),
    ],
)
def test_a_bad_vpc_setting_names_the_key(raw: Any, complaint: str) -> None:
    with pytest.raises(ConfigError, match=r"kubernetes\.vpc") as err:
        parse_settings({"kubernetes": {"vpc": raw}}, source="cdk.json context eksmon")
    assert complaint in str(err.value)
