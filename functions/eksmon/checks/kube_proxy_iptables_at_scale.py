"""kube_proxy.iptables_at_scale: kube-proxy in iptables mode in a cluster with many Services."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.checks._kubernetes import CONTROL_PLANE_DOCS
from eksmon.models import Problem, Severity
from eksmon.parts.kubernetes import KubeProxyMode, ServiceCount
from eksmon.registry import Thresholds, check
from eksmon.snapshot import ClusterSnapshot

IPTABLES_MODES = frozenset({"", "iptables"})


class IptablesAtScaleThresholds(Thresholds):
    max_services: int = Field(1000, ge=1, description="warn above this many Services in iptables mode")


@check(
    id="kube_proxy.iptables_at_scale",
    title="kube-proxy in iptables mode with many Services",
    monitor="kubernetes",
    needs=(KubeProxyMode, ServiceCount),
    docs=CONTROL_PLANE_DOCS,
    severity_rules="warning when kube-proxy-config's mode is iptables (or empty) and the cluster has more "
    "than 1000 Services",
    thresholds=IptablesAtScaleThresholds,
    sources=("Kubernetes: ConfigMap kube-system/kube-proxy-config", "Kubernetes: services"),
)
def iptables_at_scale(
    snap: ClusterSnapshot, t: IptablesAtScaleThresholds, _now: datetime
) -> Iterator[Problem]:
    proxy = snap.get(KubeProxyMode)
    services = snap.get(ServiceCount).count
    if not proxy.installed or proxy.mode is None or proxy.mode.lower() not in IPTABLES_MODES:
        return
    if services <= t.max_services:
        return
    mode = proxy.mode or "unset (iptables)"
    yield Problem(
        severity=Severity.WARNING,
        resource="ConfigMap/kube-system/kube-proxy-config"
        if proxy.source.startswith("ConfigMap")
        else "DaemonSet/kube-system/kube-proxy",
        title=f"kube-proxy in iptables mode with {services:,} Services",
        message=f"kube-proxy's mode is {mode} ({proxy.source}) and the cluster has {services:,} Services, "
        f"more than {t.max_services:,}. In iptables mode every Service or endpoint change makes kube-proxy "
        "rewrite the node's whole ruleset, and packets walk the rules one by one: at this scale syncs take "
        "seconds on every node, cost CPU, and new endpoints wait longer before they receive traffic.",
        remediation="Switch kube-proxy to IPVS mode (EKS kube-proxy add-on configuration value mode: ipvs, "
        "with the ip_vs kernel modules loaded on the nodes), or remove unused Services.",
        details={
            "mode": proxy.mode,
            "services": services,
            "max_services": t.max_services,
            "source": proxy.source,
        },
    )
