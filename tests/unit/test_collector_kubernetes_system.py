"""What the kube-system collector reads: kube-proxy's mode from its ConfigMap or arguments, and
the aws-node container's environment."""

from __future__ import annotations

import pytest

from eksmon.collectors.kubernetes_system import cni_settings, mode_from_config_map, mode_from_daemon_set
from eksmon.sim import k8s_objects as k8s


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


class TestCniIpCaching:
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
