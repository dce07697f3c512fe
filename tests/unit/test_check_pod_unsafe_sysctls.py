"""pod.unsafe_sysctls as a pure function: each version boundary of the safe set, names, refused pods."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eksmon.checks._kubernetes import SAFE_SYSCTLS, normalize_sysctl, safe_sysctls
from eksmon.checks.pod_unsafe_sysctls import UnsafeSysctlsThresholds, unsafe_sysctls
from eksmon.collectors.kubernetes_pods import PodsWithSysctls, PodSysctls
from eksmon.models import Severity
from eksmon.parts import ClusterInfo

from .kubernetes_builders import snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


DEFAULT = UnsafeSysctlsThresholds()


def pod(
    *sysctls: str, name: str = "web-1", reason: str | None = None, owner: str | None = None
) -> PodSysctls:
    return PodSysctls("apps", name, tuple(sysctls), "Failed" if reason else "Running", reason, owner)


def run(*pods: PodSysctls, version: str = "1.33", t: UnsafeSysctlsThresholds = DEFAULT) -> list:
    return list(unsafe_sysctls(snapshot(PodsWithSysctls(tuple(pods), len(pods)), version=version), t, NOW))


BOUNDARIES = [(name, since) for name, since in SAFE_SYSCTLS.items() if since > (1, 0)]


@pytest.mark.parametrize(("sysctl", "since"), BOUNDARIES, ids=[n for n, _ in BOUNDARIES])
def test_each_sysctl_is_unsafe_one_version_before_it_became_safe(sysctl: str, since: tuple[int, int]) -> None:
    before = f"{since[0]}.{since[1] - 1}"
    at = f"{since[0]}.{since[1]}"
    [p] = run(pod(sysctl), version=before)
    assert p.details["unsafe_sysctls"] == [sysctl]
    assert f"Kubernetes {before}" in p.message
    assert run(pod(sysctl), version=at) == []


def test_the_safe_sets_match_the_kubernetes_documentation() -> None:
    assert safe_sysctls((1, 17)) == {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
    }
    assert "net.ipv4.ping_group_range" in safe_sysctls((1, 18))
    assert "net.ipv4.ip_unprivileged_port_start" in safe_sysctls((1, 22))
    assert "net.ipv4.ip_local_reserved_ports" in safe_sysctls((1, 27))
    assert {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout"} <= safe_sysctls((1, 29))
    assert {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"} <= safe_sysctls((1, 32))
    assert len(safe_sysctls((1, 36))) == 12


@pytest.mark.parametrize(
    "base", ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies"]
)
def test_the_base_set_is_safe_on_every_version(base: str) -> None:
    assert run(pod(base), version="1.23") == []
    assert run(pod(base), version="1.36") == []


def test_unknown_version_uses_the_base_set_and_says_so() -> None:
    [p] = run(pod("net.ipv4.tcp_keepalive_time"), version="")
    assert "unknown Kubernetes version" in p.message


@pytest.mark.parametrize(
    ("server", "unsafe"),
    [("v1.28.15-eks-1a2b3c4", True), ("v1.29.1-eks-1a2b3c4", False), (None, True)],
    ids=["apiserver-1.28", "apiserver-1.29", "no-version"],
)
def test_without_describe_cluster_the_version_is_the_api_servers(server: str | None, unsafe: bool) -> None:
    # tcp_keepalive_time is safe from 1.29: DescribeCluster denied, /version decides
    snap = snapshot(PodsWithSysctls((pod("net.ipv4.tcp_keepalive_time"),), 1, server_version=server))
    del snap.parts[ClusterInfo]
    found = list(unsafe_sysctls(snap, DEFAULT, NOW))
    assert bool(found) == unsafe
    if server and found:
        assert "Kubernetes 1.28" in found[0].message
    if server is None:
        assert "unknown Kubernetes version" in found[0].message


def test_describe_clusters_version_wins_over_the_api_servers() -> None:
    snap = snapshot(
        PodsWithSysctls((pod("net.ipv4.tcp_keepalive_time"),), 1, server_version="v1.29.1"), version="1.28"
    )
    assert len(list(unsafe_sysctls(snap, DEFAULT, NOW))) == 1


@pytest.mark.parametrize(
    ("declared", "kubelet_reads"),
    [
        ("net.ipv4.tcp_rmem", "net.ipv4.tcp_rmem"),
        ("net/ipv4/tcp_rmem", "net.ipv4.tcp_rmem"),
        ("net/ipv4/conf/eno2.100/rp_filter", "net.ipv4.conf.eno2/100.rp_filter"),
        ("net.ipv4.conf.eno2/100.rp_filter", "net.ipv4.conf.eno2/100.rp_filter"),
    ],
)
def test_slashes_are_read_as_the_kubelet_reads_them(declared: str, kubelet_reads: str) -> None:
    assert normalize_sysctl(declared) == kubelet_reads


def test_a_safe_sysctl_written_with_slashes_is_not_reported() -> None:
    assert run(pod("net/ipv4/tcp_rmem"), version="1.32") == []
    assert len(run(pod("net/ipv4/tcp_rmem"), version="1.31")) == 1


def test_each_pod_is_named_with_its_namespace_owner_and_only_its_unsafe_sysctls() -> None:
    [p] = run(
        pod("kernel.msgmax", "net.ipv4.tcp_syncookies", "net.core.somaxconn", owner="ReplicaSet/web-7d9f")
    )
    assert p.severity is Severity.WARNING
    assert p.resource == "Pod/apps/web-1"
    assert p.details["unsafe_sysctls"] == ["kernel.msgmax", "net.core.somaxconn"]
    assert "apps/web-1" in p.title and "ReplicaSet/web-7d9f" in p.message
    assert p.details["sysctl_forbidden"] is False


def test_allowed_sysctls_are_not_reported() -> None:
    allowed = UnsafeSysctlsThresholds(allowed_sysctls=["net.core.*"])
    assert run(pod("net.core.somaxconn"), t=allowed) == []
    [p] = run(pod("net.core.somaxconn", "kernel.msgmax"), t=allowed)
    assert p.details["unsafe_sysctls"] == ["kernel.msgmax"]


def test_pods_refused_by_the_kubelet_are_called_out_first() -> None:
    found = run(
        pod("kernel.msgmax", name="a-running"), pod("kernel.sem", name="z-refused", reason="SysctlForbidden")
    )
    assert [p.details["pod"] for p in found] == ["z-refused", "a-running"]
    assert "SysctlForbidden" in found[0].title and "not running" in found[0].message
    assert found[0].details["sysctl_forbidden"] is True


def test_a_refused_pod_with_only_safe_sysctls_points_at_an_older_kubelet() -> None:
    [p] = run(pod("net.ipv4.tcp_rmem", reason="SysctlForbidden"), version="1.33")
    assert p.details["unsafe_sysctls"] == []
    assert "older kubelet" in p.message and "net.ipv4.tcp_rmem" in p.message


def test_pods_with_only_safe_sysctls_are_not_reported() -> None:
    assert run(pod("net.ipv4.ip_local_port_range", "net.ipv4.tcp_keepalive_time"), version="1.30") == []
    assert run() == []


def test_beyond_max_pods_one_summary_names_the_rest() -> None:
    t = UnsafeSysctlsThresholds(max_pods=2)
    pods = [pod("kernel.msgmax", name=f"p{i}", owner="ReplicaSet/big") for i in range(5)]
    found = run(*pods, t=t)
    assert [p.resource for p in found] == ["Pod/apps/p0", "Pod/apps/p1", "Pod/*"]
    assert found[-1].details["pods"] == 3 and found[-1].details["by_sysctl"] == {"kernel.msgmax": 3}
    assert "ReplicaSet/big (3)" in found[-1].message
