"""pod.unsafe_sysctls: pods that set sysctls outside the safe set of the cluster's Kubernetes version."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from fnmatch import fnmatchcase

from pydantic import Field

from eksmon.checks._kubernetes import CONTROL_PLANE_DOCS, SAFE_SYSCTLS, listed, normalize_sysctl, safe_sysctls
from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.kubernetes import SYSCTL_FORBIDDEN, PodsWithSysctls, PodSysctls
from eksmon.registry import Thresholds, check
from eksmon.snapshot import ClusterSnapshot
from eksmon.versions import minor_str, parse_minor


class UnsafeSysctlsThresholds(Thresholds):
    allowed_sysctls: list[str] = Field(
        default_factory=list,
        description="sysctls (globs, e.g. net.core.somaxconn) your nodes allow on purpose: not reported",
    )
    max_pods: int = Field(
        100, ge=1, le=10_000, description="pods reported one by one; the rest in one summary finding"
    )


@check(
    id="pod.unsafe_sysctls",
    title="Pod sets unsafe sysctls",
    monitor="kubernetes",
    needs=(PodsWithSysctls,),
    uses=(ClusterInfo,),  # its version; without DescribeCluster, the API server's /version
    docs=CONTROL_PLANE_DOCS,
    severity_rules="warning per pod whose spec.securityContext.sysctls leave the safe set of the cluster's "
    "version; pods the kubelet refused (SysctlForbidden) are called out",
    thresholds=UnsafeSysctlsThresholds,
    sources=("Kubernetes: pods",),
)
def unsafe_sysctls(snap: ClusterSnapshot, t: UnsafeSysctlsThresholds, _now: datetime) -> Iterator[Problem]:
    pods = snap.get(PodsWithSysctls)
    described = snap.get(ClusterInfo).version if snap.has(ClusterInfo) else None
    version = parse_minor(described) or parse_minor(pods.server_version)
    safe = safe_sysctls(version)
    label = f"Kubernetes {minor_str(version)}" if version else "an unknown Kubernetes version (base set used)"
    hits: list[tuple[PodSysctls, list[str]]] = []
    for pod in pods.items:
        unsafe = [
            name
            for name in pod.sysctls
            if normalize_sysctl(name) not in safe
            and not any(fnmatchcase(normalize_sysctl(name), p) for p in t.allowed_sysctls)
        ]
        if unsafe or pod.reason == SYSCTL_FORBIDDEN:
            hits.append((pod, unsafe))
    hits.sort(key=lambda h: (h[0].reason != SYSCTL_FORBIDDEN, h[0].namespace, h[0].name))
    for pod, unsafe in hits[: t.max_pods]:
        yield _pod_problem(pod, unsafe, label)
    if len(hits) > t.max_pods:
        yield _summary(hits[t.max_pods :], label, t.max_pods)


def _pod_problem(pod: PodSysctls, unsafe: list[str], label: str) -> Problem:
    refused = pod.reason == SYSCTL_FORBIDDEN
    owner = f" (owned by {pod.owner})" if pod.owner else ""
    where = f"Pod {pod.namespace}/{pod.name}{owner}"
    if unsafe:
        what = f"{where} sets {listed(unsafe)}, outside the safe set of {label}."
    else:
        newer = [n for n in pod.sysctls if SAFE_SYSCTLS.get(normalize_sysctl(n), (1, 0)) > (1, 0)]
        what = (
            f"{where} sets {listed(pod.sysctls)}, safe for {label} but only from a later kubelet"
            + (f" ({listed(newer)})" if newer else "")
            + ": its node runs an older kubelet."
        )
    if refused:
        effect = (
            " The kubelet refused it (SysctlForbidden): it is not running"
            + (f" -- {pod.message}" if pod.message else "")
            + ". Its controller keeps creating replacements that fail the same way."
        )
    else:
        effect = (
            " It runs only on nodes whose kubelet allows these sysctls (--allowed-unsafe-sysctls); elsewhere "
            "the kubelet refuses it with SysctlForbidden. Unsafe sysctls are not isolated per pod: they can "
            "change the node's kernel behaviour for every other pod on it, or make the node unstable."
        )
    return Problem(
        severity=Severity.WARNING,
        resource=f"Pod/{pod.namespace}/{pod.name}",
        title=f"Pod {pod.namespace}/{pod.name} refused by the kubelet: SysctlForbidden"
        if refused
        else f"Pod {pod.namespace}/{pod.name} sets unsafe sysctls",
        message=what + effect,
        remediation="Remove the unsafe sysctls from spec.securityContext.sysctls"
        + (f" of {pod.owner}" if pod.owner else "")
        + ", or run the pod on a dedicated, tainted node group whose kubelet allows them and list them in "
        "this check's allowed_sysctls.",
        details={
            "namespace": pod.namespace,
            "pod": pod.name,
            "owner": pod.owner,
            "sysctls": list(pod.sysctls),
            "unsafe_sysctls": unsafe,
            "phase": pod.phase,
            "sysctl_forbidden": refused,
        },
    )


def _summary(rest: list[tuple[PodSysctls, list[str]]], label: str, shown: int) -> Problem:
    by_sysctl = Counter(n for _, unsafe in rest for n in unsafe)
    by_owner = Counter(p.owner or f"Pod/{p.namespace}/{p.name}" for p, _ in rest)
    refused = sum(1 for p, _ in rest if p.reason == SYSCTL_FORBIDDEN)
    return Problem(
        severity=Severity.WARNING,
        resource="Pod/*",
        title=f"{len(rest)} more pods set unsafe sysctls",
        message=f"Besides the {shown} pods reported one by one, {len(rest)} more pods set sysctls outside the "
        f"safe set of {label} ({refused} refused by the kubelet with SysctlForbidden). Most common: "
        + listed(f"{n} ({c})" for n, c in by_sysctl.most_common(10))
        + ". Owners: "
        + listed(f"{o} ({c})" for o, c in by_owner.most_common(10))
        + ".",
        remediation="Remove the unsafe sysctls from these workloads, or allow them on purpose (allowed_sysctls).",
        details={
            "pods": len(rest),
            "sysctl_forbidden": refused,
            "by_sysctl": dict(by_sysctl.most_common(20)),
            "by_owner": dict(by_owner.most_common(20)),
        },
    )
