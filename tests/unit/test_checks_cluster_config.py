"""kube_proxy.iptables_at_scale, cni.ip_caching and auth.aws_auth_invalid as pure functions, with the
parsing of the objects they read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from eksmon.checks.auth_aws_auth_invalid import aws_auth_invalid, validate
from eksmon.checks.cni_ip_caching import ip_caching
from eksmon.checks.kube_proxy_iptables_at_scale import IptablesAtScaleThresholds, iptables_at_scale
from eksmon.collectors.kubernetes_system import (
    AwsAuth,
    KubeProxyMode,
    ServiceCount,
    VpcCniSettings,
    aws_auth_data,
    cni_settings,
    mode_from_config_map,
    mode_from_daemon_set,
)
from eksmon.models import Severity
from eksmon.parts import ClusterInfo
from eksmon.registry import NoThresholds
from eksmon.sim import k8s_objects as k8s

from .kubernetes_builders import snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
NONE = NoThresholds()
SCALE = IptablesAtScaleThresholds()
CM = "ConfigMap kube-system/kube-proxy-config"


# -- kube_proxy.iptables_at_scale ---------------------------------------------------------------------
def proxy(
    mode: str | None, services: int, installed: bool = True, t: IptablesAtScaleThresholds = SCALE
) -> list:
    part = KubeProxyMode(installed, mode, CM)
    return list(iptables_at_scale(snapshot(part, ServiceCount(services, "remainingItemCount")), t, NOW))


class TestKubeProxy:
    @pytest.mark.parametrize("mode", ["", "iptables", "IPTables"])
    def test_iptables_or_empty_mode_above_1000_services_warns(self, mode: str) -> None:
        [p] = proxy(mode, 1001)
        assert p.severity is Severity.WARNING
        assert p.resource == "ConfigMap/kube-system/kube-proxy-config"
        assert p.details["services"] == 1001 and "1,001 Services" in p.title

    def test_exactly_1000_services_is_not_more_than_1000(self) -> None:
        assert proxy("iptables", 1000) == []

    @pytest.mark.parametrize("mode", ["ipvs", "nftables", "kernelspace"])
    def test_other_modes_are_fine_at_any_scale(self, mode: str) -> None:
        assert proxy(mode, 50_000) == []

    def test_no_kube_proxy_or_an_unreadable_mode_is_not_reported(self) -> None:
        assert proxy(None, 5000, installed=False) == []
        assert proxy(None, 5000) == []  # the collector reported why it could not read the mode

    def test_threshold_is_configurable(self) -> None:
        assert len(proxy("", 201, t=IptablesAtScaleThresholds(max_services=200))) == 1

    def test_a_mode_from_the_daemon_set_names_the_daemon_set(self) -> None:
        part = KubeProxyMode(True, "", "DaemonSet kube-system/kube-proxy arguments")
        [p] = iptables_at_scale(snapshot(part, ServiceCount(2000, "paged")), SCALE, NOW)
        assert p.resource == "DaemonSet/kube-system/kube-proxy"


class TestKubeProxyConfigParsing:
    @pytest.mark.parametrize(("mode", "read"), [("iptables", "iptables"), ("", ""), ("ipvs", "ipvs")])
    def test_the_eks_config_map_is_read(self, mode: str, read: str) -> None:
        found = mode_from_config_map(k8s.kube_proxy_config(mode))
        assert (found.mode, found.problem) == (read, None)

    @pytest.mark.parametrize(
        ("config", "mode", "problem"),
        [
            ("kind: KubeProxyConfiguration\n", "", None),
            ("mode: null\n", "", None),
            ("", "", None),
            ("mode: [ipvs\n", None, "not valid YAML"),
            ("- a list\n", None, "not a KubeProxyConfiguration"),
            ("mode: 3\n", None, "not a string"),
        ],
    )
    def test_unset_modes_mean_iptables_and_broken_configs_say_why(self, config, mode, problem) -> None:
        found = mode_from_config_map({"data": {"config": config}})
        assert found.mode == mode
        assert (problem in (found.problem or "")) if problem else found.problem is None

    def test_a_config_map_without_the_key_is_a_problem(self) -> None:
        assert "no key 'config'" in (mode_from_config_map({"data": None}).problem or "")

    def test_kube_proxy_without_the_config_map_uses_its_arguments(self) -> None:
        ds = k8s.kube_proxy_daemon_set("1.33")
        args = ds["spec"]["template"]["spec"]["containers"][0]
        args["args"] = ["--proxy-mode=ipvs"]
        assert mode_from_daemon_set(ds).mode == "ipvs"
        args["args"] = ["--v=2"]
        assert mode_from_daemon_set(ds).mode == ""
        args["args"] = ["--config=/etc/other/config"]
        assert mode_from_daemon_set(ds).problem is not None


# -- cni.ip_caching -----------------------------------------------------------------------------------
def cni(env: dict[str, str], unresolved: tuple[str, ...] = (), installed: bool = True) -> list:
    part = VpcCniSettings(installed, env, unresolved, "v1.20.4-eksbuild.1")
    return list(ip_caching(snapshot(part), NONE, NOW))


class TestCniIpCaching:
    @pytest.mark.parametrize(
        "env",
        [
            {"WARM_ENI_TARGET": "1"},  # the default
            {},
            {"WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "20"},
            {"WARM_IP_TARGET": "0"},  # 0 means unset
            {"WARM_ENI_TARGET": "0", "MINIMUM_IP_TARGET": "10"},
            {"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "1"},
            {
                "ENABLE_PREFIX_DELEGATION": "true",
                "WARM_PREFIX_TARGET": "0",
                "WARM_IP_TARGET": "5",
                "MINIMUM_IP_TARGET": "16",
            },
            {"WARM_ENI_TARGET": ""},
        ],
        ids=[
            "default",
            "empty",
            "ip-and-minimum",
            "ip-zero",
            "eni-zero-with-minimum",
            "pd",
            "pd-ip-min",
            "blank",
        ],
    )
    def test_settings_that_keep_a_warm_pool_are_fine(self, env) -> None:
        assert cni(env) == []

    def test_warm_ip_target_without_minimum_calls_ec2_on_every_pod_start(self) -> None:
        [p] = cni({"WARM_IP_TARGET": "1", "WARM_ENI_TARGET": "1"})
        assert p.severity is Severity.INFO
        assert p.resource == "DaemonSet/kube-system/aws-node"
        assert p.details["forces_ec2_call_per_pod_start"] is True
        assert "MINIMUM_IP_TARGET is not set" in p.message and "one EC2 call per pod" in p.message
        assert p.details["settings"]["WARM_IP_TARGET"] == "1"

    def test_with_prefix_delegation_warm_ip_without_minimum_is_reported_but_not_per_pod(self) -> None:
        [p] = cni({"WARM_IP_TARGET": "5", "ENABLE_PREFIX_DELEGATION": "true"})
        assert p.details["forces_ec2_call_per_pod_start"] is False
        assert p.details["prefix_delegation"] is True

    def test_no_warm_pool_at_all_calls_ec2_on_every_pod_start(self) -> None:
        [p] = cni({"WARM_ENI_TARGET": "0"})
        assert p.details["forces_ec2_call_per_pod_start"] is True and "no warm pool" in p.message

    def test_prefix_delegation_with_every_target_at_zero_is_the_unsupported_combination(self) -> None:
        [p] = cni({"ENABLE_PREFIX_DELEGATION": "TRUE", "WARM_PREFIX_TARGET": "0"})
        assert p.details["forces_ec2_call_per_pod_start"] is False and "does not support" in p.message

    @pytest.mark.parametrize(
        ("env", "unresolved", "named"),
        [
            ({"WARM_IP_TARGET": "two"}, (), "WARM_IP_TARGET='two'"),
            ({}, ("MINIMUM_IP_TARGET",), "MINIMUM_IP_TARGET (set through valueFrom)"),
        ],
    )
    def test_unreadable_settings_are_reported_not_passed(self, env, unresolved, named) -> None:
        [p] = cni(env, unresolved)
        assert p.severity is Severity.INFO and "cannot be evaluated" in p.title and named in p.message

    def test_another_cni_is_not_reported(self) -> None:
        assert cni({}, installed=False) == []

    def test_the_collector_reads_the_aws_node_containers_environment_only(self) -> None:
        ds = k8s.aws_node_daemon_set(
            "v1.19.0-eksbuild.1", env={"WARM_IP_TARGET": "3", "WARM_ENI_TARGET": None}
        )
        ds["spec"]["template"]["spec"]["containers"][0]["env"].append(
            {"name": "MINIMUM_IP_TARGET", "valueFrom": {"configMapKeyRef": {"name": "cni", "key": "min"}}}
        )
        found = cni_settings(ds)
        assert found.installed and found.version == "v1.19.0-eksbuild.1"
        assert found.env == {
            "WARM_IP_TARGET": "3",
            "WARM_PREFIX_TARGET": "1",
            "ENABLE_PREFIX_DELEGATION": "false",
        }
        assert found.unresolved == ("MINIMUM_IP_TARGET",)
        ds["spec"]["template"]["spec"]["containers"] = [
            c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] != "aws-node"
        ]
        assert not cni_settings(ds).installed


# -- auth.aws_auth_invalid ----------------------------------------------------------------------------
NODE = {
    "rolearn": "arn:aws:iam::123456789012:role/node",
    "username": "system:node:{{EC2PrivateDNSName}}",
    "groups": ["system:nodes"],
}


def auth(
    data: dict[str, str], mode: str = "API_AND_CONFIG_MAP", present: bool = True, problem: str | None = None
) -> list:
    return list(
        aws_auth_invalid(snapshot(AwsAuth(present, data, problem), authentication_mode=mode), NONE, NOW)
    )


def auth_without_describe_cluster(data: dict[str, str]) -> list:
    snap = snapshot(AwsAuth(True, data, None))
    del snap.parts[ClusterInfo]  # DescribeCluster denied: the mode is not known
    return list(aws_auth_invalid(snap, NONE, NOW))


def roles(*entries: object) -> dict[str, str]:
    return {"mapRoles": yaml.safe_dump(list(entries))}


class TestAwsAuth:
    def test_a_broken_config_map_is_judged_when_describe_cluster_failed_and_says_the_mode_is_unknown(
        self,
    ) -> None:
        [p] = auth_without_describe_cluster(roles({"username": "x", "groups": ["g"]}))
        assert p.severity == Severity.CRITICAL and p.details["authentication_mode"] == "unknown"
        assert "authentication mode unknown" in p.message and "cluster prod" in p.message
        assert "access entries still work" not in p.message
        # the healthy near-miss: a valid ConfigMap passes without DescribeCluster too
        assert auth_without_describe_cluster(roles(NODE)) == []

    def test_a_known_mode_is_in_the_details(self) -> None:
        [p] = auth(roles({"username": "x", "groups": ["g"]}), mode="CONFIG_MAP")
        assert p.details["authentication_mode"] == "CONFIG_MAP" and "no other way in" in p.message
        assert auth(roles({"username": "x", "groups": ["g"]}), mode="API") == []

    def test_a_valid_config_map_passes(self) -> None:
        user = {"userarn": "arn:aws:iam::123456789012:user/alice", "username": "alice", "groups": ["admins"]}
        data = {**roles(NODE), "mapUsers": yaml.safe_dump([user]), "mapAccounts": "- '123456789012'\n"}
        assert auth(data) == []
        assert auth({}) == []
        assert auth({"mapRoles": ""}) == []

    @pytest.mark.parametrize(
        ("entry", "problem"),
        [
            ({"username": "x", "groups": ["g"]}, "no rolearn"),
            ({"roleARN": "arn:aws:iam::123456789012:role/x", "username": "x", "groups": ["g"]}, "no rolearn"),
            ({"rolearn": "arn:aws:iam::123456789012:role/x", "groups": ["g"]}, "no username"),
            ({"rolearn": "arn:aws:iam::123456789012:role/x", "username": "x"}, "no groups"),
            ({"rolearn": "arn:aws:iam::123456789012:role/x", "username": "x", "groups": []}, "no groups"),
            (
                {"rolearn": "arn:aws:iam::123456789012:role/x", "username": "x", "groups": "admins"},
                "not a list",
            ),
            ({"rolearn": "role/x", "username": "x", "groups": ["g"]}, "is not an IAM ARN"),
            ({"rolearn": None, "username": "", "groups": None}, "no rolearn, no username, no groups"),
        ],
    )
    def test_entries_missing_their_arn_username_or_groups_are_critical(self, entry, problem) -> None:
        [p] = auth(roles(NODE, entry))
        assert p.severity is Severity.CRITICAL
        assert p.resource == "ConfigMap/kube-system/aws-auth"
        assert "mapRoles entry 2" in p.message and problem in p.message
        assert p.details["broken_entries"] == 1 and p.details["entries"][0]["entry"] == 2

    def test_map_users_need_a_userarn(self) -> None:
        [p] = auth(
            {
                "mapUsers": yaml.safe_dump(
                    [{"rolearn": "arn:aws:iam::123456789012:role/x", "username": "u", "groups": ["g"]}]
                )
            }
        )
        assert "no userarn" in p.message

    @pytest.mark.parametrize(
        ("data", "complaint"),
        [
            ({"mapRoles": "- rolearn: a\n\tusername: b\n"}, "mapRoles is not valid YAML at line 2"),
            ({"mapRoles": "rolearn: arn:aws:iam::1:role/x\n"}, "mapRoles is a YAML mapping, not a list"),
            ({"mapUsers": "- just-a-string\n"}, "mapUsers entry 1 is a string, not a mapping"),
            ({"mapAccounts": "- 12345\n"}, "not a 12-digit account id"),
        ],
    )
    def test_what_does_not_parse_is_critical_and_says_where(self, data, complaint) -> None:
        [p] = auth(data)
        assert p.severity is Severity.CRITICAL and "does not parse" in p.title
        assert complaint in p.message

    def test_a_data_value_that_is_not_text_does_not_parse(self) -> None:
        part = aws_auth_data({"data": {"mapRoles": ["a", "list"]}})
        assert part.problem == "data.mapRoles is a list, not a string"
        [p] = auth(part.data, problem=part.problem)
        assert "data.mapRoles is a list" in p.message

    def test_config_map_only_clusters_are_told_there_is_no_other_way_in(self) -> None:
        [p] = auth(roles({"username": "x"}), mode="CONFIG_MAP")
        assert "no other way in" in p.message

    def test_api_only_clusters_and_absent_config_maps_are_not_reported(self) -> None:
        assert auth(roles({"username": "x"}), mode="API") == []
        assert auth({}, present=False) == []

    def test_validate_lists_every_broken_entry(self) -> None:
        result = validate({**roles(NODE, {"username": "a"}, {"username": "b"}), "mapUsers": "[}"})
        assert [e["entry"] for e in result.entries] == [2, 3]
        assert result.parse_errors and not result.ok
