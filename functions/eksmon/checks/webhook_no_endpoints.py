"""webhook.no_endpoints: a fail-closed webhook whose Service has no ready endpoint.

Every request the webhook matches is rejected right now. Decision on namespaces: the finding is
critical whether or not the webhook's namespaceSelector excludes its own Service's namespace, since
requests elsewhere are being rejected either way; what changes is the way out. When the webhook
would also intercept the creation of its own pods (its rules cover pod CREATE and its
namespaceSelector matches its Service's namespace), it blocks its own recovery, and the message
says to delete the configuration first. A webhook called by URL cannot be verified from the
Kubernetes API: it is reported as unverifiable (info), never as broken.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from eksmon.checks._kubernetes import CONTROL_PLANE_DOCS, intercepts_pod_creation, listed
from eksmon.models import Problem, Severity
from eksmon.parts.webhooks import AdmissionWebhooks, Backend, Webhook, WebhookBackends
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot


@dataclass(frozen=True, slots=True)
class Verdict:
    hook: Webhook
    broken: bool
    reason: str
    backend: Backend | None = None
    blocks_own_recovery: bool = False


@check(
    id="webhook.no_endpoints",
    title="Fail-closed admission webhook has no ready endpoint",
    monitor="kubernetes",
    needs=(AdmissionWebhooks, WebhookBackends),
    docs=CONTROL_PLANE_DOCS,
    severity_rules="critical when a failurePolicy Fail webhook's Service is missing, lacks the port, or has "
    "no ready endpoint; info when the webhook is called by URL (unverifiable)",
    sources=("Kubernetes: webhook configurations", "Kubernetes: services", "Kubernetes: endpointslices"),
)
def no_endpoints(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    backends = snap.get(WebhookBackends)
    verdicts = [
        v
        for h in snap.get(AdmissionWebhooks).items
        if h.failure_policy == "Fail" and h.rules
        for v in [verdict(h, backends)]
        if v is not None
    ]
    key = lambda v: v.hook.resource  # noqa: E731
    for resource, group in groupby(sorted(verdicts, key=lambda v: (v.hook.resource, v.hook.name)), key=key):
        found = list(group)
        broken = [v for v in found if v.broken]
        yield _broken(resource, broken, found) if broken else _unverifiable(resource, found)


def verdict(hook: Webhook, backends: WebhookBackends) -> Verdict | None:
    """Broken, unverifiable, or None when the webhook has a ready endpoint."""
    if hook.service is None:
        return Verdict(hook, False, f"called by URL {hook.url}, which eksmon cannot probe")
    backend = backends.get(hook.service)
    svc = str(hook.service)
    if backend is None:
        return Verdict(hook, False, f"{svc} was not read")
    if not backend.exists:
        reason = f"Service {hook.service.namespace}/{hook.service.name} does not exist"
    elif backend.service_type == "ExternalName":
        return Verdict(hook, False, f"{svc} is an ExternalName Service, which eksmon cannot probe", backend)
    elif not backend.port_found:
        reason = f"Service {hook.service.namespace}/{hook.service.name} has no port {hook.service.port}"
    elif backend.ready_endpoints == 0:
        reason = (
            f"{svc} has no endpoint at all"
            if backend.endpoints == 0
            else f"none of the {backend.endpoints} endpoints of {svc} is ready"
        )
    else:
        return None
    return Verdict(hook, True, reason, backend, intercepts_pod_creation(hook, backend.namespace_labels))


def _broken(resource: str, broken: list[Verdict], found: list[Verdict]) -> Problem:
    kind, _, configuration = resource.partition("/")
    stuck = [v for v in broken if v.blocks_own_recovery]
    reasons = "; ".join(f"{v.hook.name}: {v.reason}" for v in broken[:10])
    if stuck:
        way_out = (
            f"Webhook {listed(v.hook.name for v in stuck)} also intercepts the creation of its own pods "
            "(its namespaceSelector does not exclude its Service's namespace), so the webhook cannot come back "
            "by itself: every replacement pod is rejected too."
        )
        remediation = (
            f"Unblock the cluster first: kubectl delete {kind.lower()} {configuration} (or set its "
            "failurePolicy to Ignore), then repair the webhook's Deployment and re-apply the configuration "
            "with a namespaceSelector that excludes the webhook's own namespace and kube-system."
        )
    else:
        way_out = (
            "Its own pods can still be created (its namespaceSelector excludes their namespace, or its rules "
            "do not cover pods), so it recovers as soon as its Deployment has a ready pod again."
        )
        remediation = (
            "Get the webhook's pods ready (kubectl get pods and events in the Service's namespace), or set "
            f"failurePolicy Ignore on {kind} {configuration} until it is repaired."
        )
    return Problem(
        severity=Severity.CRITICAL,
        resource=resource,
        title=f"{kind} {configuration} rejects every matching request: no ready endpoint",
        message=f"{kind} {configuration} has failurePolicy Fail and cannot be reached -- {reasons}. The "
        f"apiserver is rejecting every request its rules match right now. {way_out}",
        remediation=remediation,
        details={
            "kind": kind,
            "configuration": configuration,
            "blocks_own_recovery": bool(stuck),
            "webhooks": [_describe(v) for v in found],
        },
    )


def _unverifiable(resource: str, found: list[Verdict]) -> Problem:
    kind, _, configuration = resource.partition("/")
    return Problem(
        severity=Severity.INFO,
        resource=resource,
        title=f"{kind} {configuration}: fail-closed webhook cannot be verified",
        message=f"{kind} {configuration} has failurePolicy Fail and "
        + "; ".join(f"webhook {v.hook.name} is {v.reason}" for v in found[:10])
        + ". If it stops answering, every request it matches is rejected; eksmon cannot tell from the "
        "Kubernetes API whether it answers now.",
        remediation="Watch its availability where it runs, and the admission.webhook_rejections check "
        "(calling_webhook_error) for this cluster.",
        details={"kind": kind, "configuration": configuration, "webhooks": [_describe(v) for v in found]},
    )


def _describe(v: Verdict) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": v.hook.name,
        "broken": v.broken,
        "reason": v.reason,
        "service": str(v.hook.service) if v.hook.service else None,
        "url": v.hook.url,
    }
    if v.backend is not None and v.backend.exists:
        out["ready_endpoints"] = v.backend.ready_endpoints
        out["endpoints"] = v.backend.endpoints
    if v.broken:
        out["blocks_own_recovery"] = v.blocks_own_recovery
    return out
