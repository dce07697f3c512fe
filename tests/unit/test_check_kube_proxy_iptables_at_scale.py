"""kube_proxy.iptables_at_scale as a pure function: modes, the service count, the threshold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eksmon.checks.kube_proxy_iptables_at_scale import IptablesAtScaleThresholds, iptables_at_scale
from eksmon.collectors.kubernetes_system import KubeProxyMode, ServiceCount
from eksmon.models import Severity

from .kubernetes_builders import snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
SCALE = IptablesAtScaleThresholds()
CM = "ConfigMap kube-system/kube-proxy-config"


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
