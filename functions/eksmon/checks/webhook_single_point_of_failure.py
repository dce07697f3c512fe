"""webhook.single_point_of_failure: a fail-closed webhook one drain or one zone away from blocking
every matching write.

The webhook answers today, so ``webhook.no_endpoints`` is silent; but its Service's ready endpoints
are one pod, or all in one Availability Zone, or all on one node. A node drain (every node-group
update, Karpenter consolidation), a zone outage or one OOM-killed pod then leaves it with none, and
with ``failurePolicy: Fail`` the apiserver rejects every request it matches until a pod is back --
the pods that would bring it back included, when it matches them. A Service with no ready endpoint
is ``webhook.no_endpoints``'s; a webhook called by URL or an ExternalName Service cannot be placed,
and an endpoint whose slice does not name its zone (or node) never counts as the same place.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby

from eksmon.checks._kubernetes import CONTROL_PLANE_DOCS
from eksmon.models import Problem, Severity
from eksmon.parts.webhooks import AdmissionWebhooks, Backend, Webhook, WebhookBackends
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot


def weakness(backend: Backend) -> str | None:
    """Why one failure takes every ready endpoint of the Service away, or None."""
    if backend.ready_endpoints == 1:
        return "has exactly one ready endpoint"
    zones, nodes = backend.ready_zones, backend.ready_nodes
    if len(nodes) == 1 and "" not in nodes:
        return f"has all {backend.ready_endpoints} ready endpoints on one node ({next(iter(nodes))})"
    if len(zones) == 1 and "" not in zones:
        return f"has all {backend.ready_endpoints} ready endpoints in one zone ({next(iter(zones))})"
    return None


def _fragile(hook: Webhook, backends: WebhookBackends) -> tuple[Webhook, Backend, str] | None:
    if hook.failure_policy != "Fail" or not hook.rules or hook.service is None:
        return None
    backend = backends.get(hook.service)
    if (
        backend is None
        or not backend.exists
        or not backend.port_found
        or backend.service_type == "ExternalName"
        or backend.ready_endpoints == 0
    ):
        return None
    why = weakness(backend)
    return None if why is None else (hook, backend, why)


@check(
    id="webhook.single_point_of_failure",
    title="Fail-closed admission webhook has a single point of failure",
    monitor="kubernetes",
    needs=(AdmissionWebhooks, WebhookBackends),
    docs=CONTROL_PLANE_DOCS,
    severity_rules="warning when a failurePolicy Fail webhook's Service has exactly one ready endpoint, or "
    "all its ready endpoints in one zone or on one node; one finding per webhook configuration",
    sources=("Kubernetes: webhook configurations", "Kubernetes: services", "Kubernetes: endpointslices"),
)
def single_point_of_failure(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    backends = snap.get(WebhookBackends)
    fragile = [f for h in snap.get(AdmissionWebhooks).items if (f := _fragile(h, backends)) is not None]
    fragile.sort(key=lambda f: (f[0].resource, f[0].name))
    for resource, group in groupby(fragile, key=lambda f: f[0].resource):
        found = list(group)
        kind, _, configuration = resource.partition("/")
        reasons = "; ".join(f"webhook {h.name}: {h.service} {why}" for h, _, why in found[:10])
        yield Problem(
            Severity.WARNING,
            resource,
            f"{kind} {configuration} has failurePolicy Fail and {reasons}. It answers now, but one node "
            "drain (every node-group update, Karpenter consolidation), one zone outage or one crashed pod "
            "leaves it with no endpoint, and the apiserver then rejects every request it matches until a "
            "pod is ready again.",
            "Run at least two replicas of the webhook's Deployment spread over zones and nodes "
            "(topologySpreadConstraints on topology.kubernetes.io/zone and kubernetes.io/hostname, or pod "
            "anti-affinity) with a PodDisruptionBudget of maxUnavailable: 1; or set failurePolicy Ignore if "
            "the policy may be skipped while the webhook is down.",
            {
                "kind": kind,
                "configuration": configuration,
                "webhooks": [
                    {
                        "name": h.name,
                        "service": str(h.service),
                        "reason": why,
                        "ready_endpoints": b.ready_endpoints,
                        "zones": sorted(z for z in b.ready_zones if z),
                        "nodes": sorted(n for n in b.ready_nodes if n),
                    }
                    for h, b, why in found
                ],
            },
            title=f"{kind} {configuration}: fail-closed webhook with a single point of failure",
        )
