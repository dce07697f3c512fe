"""webhook.catch_all: an admission webhook that intercepts every request to the cluster."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from typing import Any

from eksmon.checks._kubernetes import CONTROL_PLANE_DOCS, is_catch_all, listed
from eksmon.models import Problem, Severity
from eksmon.parts.kubernetes import SYSTEM_NAMESPACE
from eksmon.parts.webhooks import AdmissionWebhooks, Webhook
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot


@check(
    id="webhook.catch_all",
    title="Admission webhook intercepts every request",
    monitor="kubernetes",
    needs=(AdmissionWebhooks,),
    docs=CONTROL_PLANE_DOCS,
    severity_rules="critical for a rule matching every group, version, resource and operation with "
    "failurePolicy Fail; warning with Ignore",
    sources=("Kubernetes: validatingwebhookconfigurations", "Kubernetes: mutatingwebhookconfigurations"),
)
def catch_all(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    part = snap.get(AdmissionWebhooks)
    hooks = [h for h in part.items if any(is_catch_all(r) for r in h.rules)]
    for resource, group in groupby(
        sorted(hooks, key=lambda h: (h.resource, h.name)), key=lambda h: h.resource
    ):
        yield _problem(resource, list(group), part.system_namespace_labels)


def _problem(resource: str, hooks: list[Webhook], system_labels: dict[str, str]) -> Problem:
    failing = [h for h in hooks if h.failure_policy == "Fail"]
    severity = Severity.CRITICAL if failing else Severity.WARNING
    kind, _, configuration = resource.partition("/")
    spared = [h.name for h in hooks if not h.namespace_selector.matches(system_labels)]
    names = listed(h.name for h in hooks)
    if failing:
        worst = max(failing, key=lambda h: h.timeout_seconds)
        effect = (
            f"With failurePolicy Fail, when the webhook is down or slower than its {worst.timeout_seconds} s "
            "timeout the apiserver rejects every create, update and delete it covers: Deployments cannot roll "
            "out, pods cannot be replaced, and cluster-scoped objects (Nodes, CRDs, RBAC) cannot change"
        )
        effect += (
            f"; its namespaceSelector spares {SYSTEM_NAMESPACE}, but nothing else."
            if len(spared) == len(hooks)
            else f", in {SYSTEM_NAMESPACE} too -- including the pods that would repair it."
        )
    else:
        effect = (
            "With failurePolicy Ignore a broken webhook does not block requests, but every create, update "
            "and delete in the cluster waits for it, up to its timeout, before going on."
        )
    return Problem(
        severity=severity,
        resource=resource,
        title=f"{kind} {configuration} intercepts every API request"
        + (" and fails closed" if failing else ""),
        message=f"{kind} {configuration}: webhook {names} has a rule matching every API group, version, "
        f"resource and operation. {effect}",
        remediation="Narrow the rules to the groups, resources and operations the policy needs; exclude "
        f"{SYSTEM_NAMESPACE} and the webhook's own namespace with a namespaceSelector"
        + (
            "; use failurePolicy Ignore where the policy may be skipped while the webhook is down."
            if failing
            else "."
        ),
        details={
            "kind": kind,
            "configuration": configuration,
            "failure_policy": "Fail" if failing else "Ignore",
            "webhooks": [_describe(h, system_labels) for h in hooks],
        },
    )


def _describe(hook: Webhook, system_labels: dict[str, str]) -> dict[str, Any]:
    rule = next(r for r in hook.rules if is_catch_all(r))
    return {
        "name": hook.name,
        "failure_policy": hook.failure_policy,
        "timeout_seconds": hook.timeout_seconds,
        "rule": str(rule),
        "namespace_selector": str(hook.namespace_selector),
        "excludes_kube_system": not hook.namespace_selector.matches(system_labels),
        "object_selector": None if hook.object_selector.empty else str(hook.object_selector),
        "match_conditions": hook.match_conditions,
    }
