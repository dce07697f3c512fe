"""Aggregated APIs (APIServices backed by a Service: metrics-server, custom and external metrics) and
the namespaces whose deletion waits on one.

When an aggregated API does not answer, discovery is incomplete: namespace deletion stops (the
namespace controller must list every resource type to empty a namespace), the garbage collector and
the HPA stall, and ``kubectl`` warns on every call. APIServices are few (one per group and version);
the namespaces are asked for with ``status.phase=Terminating`` only.
"""

from __future__ import annotations

from typing import Any

from eksmon.collectors.kubernetes_common import (
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
from eksmon.kube import kube_client
from eksmon.parts import ClusterInfo
from eksmon.parts.kubernetes import (
    AggregatedApis,
    ApiService,
    StuckNamespace,
)
from eksmon.registry import KubePermission, collector

APISERVICES = KubePermission("apiregistration.k8s.io", "apiservices", ("list",))
NAMESPACES = KubePermission("", "namespaces", ("list",))
DISCOVERY_FAILURE = "NamespaceDeletionDiscoveryFailure"


def api_service(obj: Any) -> ApiService | None:
    """One APIService, or None for a Local one (served by the apiserver itself)."""
    _, name = metadata(obj, "APIService")
    spec = mapping(obj.get("spec"), "spec")
    svc = spec.get("service")
    if svc is None:
        return None
    ref = mapping(svc, "spec.service")
    group = text(spec.get("group"), "spec.group", "") or ""
    version = text(spec.get("version"), "spec.version", "") or ""
    available = reason = message = since = None
    for i, raw in enumerate(sequence(mapping(obj.get("status"), "status").get("conditions"), "conditions")):
        cond = mapping(raw, f"status.conditions[{i}]")
        if cond.get("type") == "Available":
            available = cond.get("status") == "True"
            reason = text(cond.get("reason"), "Available.reason")
            message = (text(cond.get("message"), "Available.message") or "")[:300] or None
            since = text(cond.get("lastTransitionTime"), "Available.lastTransitionTime")
    return ApiService(
        name=name,
        group_version=f"{group}/{version}" if group else version,
        service=f"{text(ref.get('namespace'), 'spec.service.namespace', '')}/"
        f"{text(ref.get('name'), 'spec.service.name', '')}",
        available=available,
        reason=reason,
        message=message,
        since=since,
    )


def stuck_namespace(obj: Any) -> StuckNamespace | None:
    """A Terminating namespace whose deletion waits on discovery, or None."""
    _, name = metadata(obj, "Namespace")
    for i, raw in enumerate(sequence(mapping(obj.get("status"), "status").get("conditions"), "conditions")):
        cond = mapping(raw, f"status.conditions[{i}]")
        if cond.get("type") == DISCOVERY_FAILURE and cond.get("status") == "True":
            return StuckNamespace(
                name,
                (text(cond.get("message"), "message") or "")[:500],
                text(cond.get("lastTransitionTime"), "lastTransitionTime"),
            )
    return None


@collector(provides=AggregatedApis, uses=(ClusterInfo,), kube=(APISERVICES, NAMESPACES))
def aggregated_apis(ctx: CollectContext) -> AggregatedApis:
    client = kube_client(ctx)

    def read() -> tuple[Parsed[ApiService], Parsed[StuckNamespace], Skips]:
        skips = Skips("apiservices and namespaces")
        apis = client.list("/apis/apiregistration.k8s.io/v1/apiservices")
        terminating = client.list("/api/v1/namespaces", fields="status.phase=Terminating")
        services = parse_each(apis, "APIService", api_service, skips, Parsed())
        return services, parse_each(terminating, "Namespace", stuck_namespace, skips, Parsed()), skips

    services, stuck, skips = relisted(read)
    skips.report(ctx, "kubernetes:apiservices", total=services.read + stuck.read)
    return AggregatedApis(tuple(services.kept), tuple(stuck.kept), skips.count)
