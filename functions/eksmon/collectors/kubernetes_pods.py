"""Pods that set sysctls, or that the kubelet refused for one (``SysctlForbidden``).

Every pod of the cluster is read, a page at a time, but only the few that declare
``spec.securityContext.sysctls`` or failed with ``SysctlForbidden`` are kept -- with their
namespace, name, sysctl names, phase and owner -- so 50,000 pods cost one page of memory.
"""

from __future__ import annotations

import sys
from typing import Any

from eksmon.collectors.kubernetes_common import (
    BadObject,
    Parsed,
    Skips,
    mapping,
    metadata,
    parse_each,
    relisted,
    sequence,
    text,
)
from eksmon.context import CollectContext
from eksmon.kube import KubeClient, KubeForbidden, KubeNotFound, KubeServerError, kube_client
from eksmon.parts import ClusterInfo
from eksmon.parts.kubernetes import (
    SYSCTL_FORBIDDEN,
    PodsWithSysctls,
    PodSysctls,
)
from eksmon.registry import KubePermission, collector


def pod_sysctls(obj: Any) -> PodSysctls | None:
    """The part of one pod the sysctl check needs; None for a pod without sysctls (the usual case)."""
    namespace, name = metadata(obj, "Pod")
    spec = mapping(obj.get("spec"), "spec")
    security = mapping(spec.get("securityContext"), "spec.securityContext")
    names: list[str] = []
    for i, entry in enumerate(sequence(security.get("sysctls"), "spec.securityContext.sysctls")):
        item = mapping(entry, f"spec.securityContext.sysctls[{i}]")
        sysctl = text(item.get("name"), f"spec.securityContext.sysctls[{i}].name")
        if not sysctl:
            raise BadObject(f"spec.securityContext.sysctls[{i}] has no name")
        names.append(sys.intern(sysctl))
    status = mapping(obj.get("status"), "status")
    reason = text(status.get("reason"), "status.reason")
    if not names and reason != SYSCTL_FORBIDDEN:
        return None
    return PodSysctls(
        namespace=namespace,
        name=name,
        sysctls=tuple(names),
        phase=text(status.get("phase"), "status.phase"),
        reason=reason,
        owner=_owner(obj),
        message=(text(status.get("message"), "status.message") or "")[:300] or None,
    )


def _owner(obj: Any) -> str | None:
    meta = obj.get("metadata") or {}
    refs = meta.get("ownerReferences") if isinstance(meta, dict) else None
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("controller") and ref.get("kind") and ref.get("name"):
            return f"{ref['kind']}/{ref['name']}"
    return None


@collector(provides=PodsWithSysctls, uses=(ClusterInfo,), kube=(KubePermission("", "pods", ("list",)),))
def pods_with_sysctls(ctx: CollectContext) -> PodsWithSysctls:
    client = kube_client(ctx)

    def read() -> tuple[list[PodSysctls], int, Skips]:
        skips = Skips("pods")
        pods = parse_each(client.list("/api/v1/pods"), "Pod", pod_sysctls, skips, Parsed())
        return pods.kept, pods.read, skips

    kept, scanned, skips = relisted(read)
    skips.report(ctx, "kubernetes:pods", total=scanned)
    snap = ctx.cluster_snapshot
    version = server_version(client) if kept and snap is not None and not snap.has(ClusterInfo) else None
    return PodsWithSysctls(tuple(kept), scanned, skips.count, version)


def server_version(client: KubeClient) -> str | None:
    """The API server's own version (``/version``'s gitVersion, e.g. ``v1.31.4-eks-1a2b3c4``), which every
    identity may read: the cluster's version when DescribeCluster could not be read. None if unreadable."""
    try:
        doc = client.get("/version")
    except (KubeNotFound, KubeForbidden, KubeServerError):
        return None
    value = doc.get("gitVersion")
    return value[:100] if isinstance(value, str) else None
