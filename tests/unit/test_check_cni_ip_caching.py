"""cni.ip_caching as a pure function: warm pools, prefix delegation, unreadable settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eksmon.checks.cni_ip_caching import ip_caching
from eksmon.collectors.kubernetes_system import VpcCniSettings
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .kubernetes_builders import snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
NONE = NoThresholds()


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
