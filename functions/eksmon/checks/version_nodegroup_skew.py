"""version.nodegroup_skew: a managed node group's kubelets trail (or lead) the control plane."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.checks._common import GONE
from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.cluster import Nodegroups
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot
from eksmon.versions import allowed_kubelet_skew, parse_minor


@check(
    id="version.nodegroup_skew",
    title="Managed node group behind the control plane",
    monitor="lifecycle",
    needs=(ClusterInfo, Nodegroups),
    docs="https://kubernetes.io/releases/version-skew-policy/",
    severity_rules="warning when a node group's minor version is behind the control plane; critical beyond "
    "the supported kubelet skew (3 minors from 1.28, 2 before) or ahead of the control plane",
    sources=("eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup"),
)
def nodegroup_skew(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    info = snap.get(ClusterInfo)
    plane = parse_minor(info.version)
    if plane is None or info.status in GONE:
        return
    allowed = allowed_kubelet_skew(plane)
    for ng in snap.get(Nodegroups).items:
        nodes = parse_minor(ng.version)
        if nodes is None or ng.status in GONE or nodes[0] != plane[0]:
            continue
        skew = plane[1] - nodes[1]
        if skew == 0:
            continue
        details = {
            "nodegroup": ng.name,
            "nodegroup_version": ng.version,
            "control_plane_version": info.version,
            "skew": skew,
            "max_supported_skew": allowed,
        }
        if skew < 0:
            yield Problem(
                Severity.CRITICAL,
                f"nodegroup/{ng.name}",
                f"Node group {ng.name} of {info.name} runs Kubernetes {ng.version}, newer than the control plane "
                f"({info.version}). Kubelets must never be newer than kube-apiserver.",
                f"Upgrade the control plane to {ng.version} or replace the node group with one on {info.version}.",
                details,
                title=f"Node group {ng.name} is newer than its control plane",
            )
        elif skew > allowed:
            yield Problem(
                Severity.CRITICAL,
                f"nodegroup/{ng.name}",
                f"Node group {ng.name} of {info.name} runs Kubernetes {ng.version}, {skew} minor versions behind the "
                f"control plane ({info.version}); Kubernetes supports at most {allowed}. Its kubelets are outside "
                "the version-skew policy: API behaviour they rely on may already be gone.",
                f"Upgrade node group {ng.name} now, one minor version at a time if needed.",
                details,
                title=f"Node group {ng.name} is {skew} versions behind: unsupported skew",
            )
        else:
            blocked = (
                " The control plane cannot be upgraded again until it catches up." if skew == allowed else ""
            )
            yield Problem(
                Severity.WARNING,
                f"nodegroup/{ng.name}",
                f"Node group {ng.name} of {info.name} runs Kubernetes {ng.version}, {skew} minor "
                f"version{'s' if skew > 1 else ''} behind the control plane ({info.version}).{blocked}",
                f"Upgrade node group {ng.name} to {info.version} (`aws eks update-nodegroup-version`).",
                details,
                title=f"Node group {ng.name} is {skew} version{'s' if skew > 1 else ''} behind the control plane",
            )
