"""Builders for the Kubernetes checks' inputs: checks are pure, so tests make their parts directly."""

from __future__ import annotations

from typing import Any

from eksmon.collectors.kubernetes_webhooks import (
    AdmissionWebhooks,
    Backend,
    LabelSelector,
    Requirement,
    ServiceRef,
    Webhook,
    WebhookBackends,
    WebhookRule,
)
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot

from .lifecycle_builders import info

SYSTEM = {"kubernetes.io/metadata.name": "kube-system"}
POLICY = ServiceRef("policy-system", "policy-webhook")


def rule(
    groups: tuple[str, ...] = ("*",),
    versions: tuple[str, ...] = ("*",),
    resources: tuple[str, ...] = ("*",),
    operations: tuple[str, ...] = ("*",),
    scope: str = "*",
) -> WebhookRule:
    return WebhookRule(groups, versions, resources, operations, scope)


def not_in(key: str, *values: str) -> LabelSelector:
    return LabelSelector(match_expressions=(Requirement(key, "NotIn", values),))


def hook(
    name: str = "check.example.com",
    configuration: str = "policy",
    kind: str = "ValidatingWebhookConfiguration",
    failure_policy: str = "Fail",
    timeout_seconds: int = 10,
    rules: tuple[WebhookRule, ...] | None = None,
    service: ServiceRef | None = POLICY,
    url: str | None = None,
    **kwargs: Any,
) -> Webhook:
    return Webhook(
        kind=kind,
        configuration=configuration,
        name=name,
        failure_policy=failure_policy,
        timeout_seconds=timeout_seconds,
        rules=(rule(),) if rules is None else rules,
        service=None if url else service,
        url=url,
        **kwargs,
    )


def backend(
    ref: ServiceRef = POLICY,
    ready: int = 2,
    endpoints: int | None = None,
    exists: bool = True,
    port_found: bool = True,
    service_type: str = "ClusterIP",
    namespace_labels: dict[str, str] | None = None,
) -> Backend:
    return Backend(
        ref,
        exists=exists,
        service_type=service_type if exists else None,
        port_found=port_found and exists,
        ready_endpoints=ready if exists else 0,
        endpoints=(ready if endpoints is None else endpoints) if exists else 0,
        namespace_labels=namespace_labels or {"kubernetes.io/metadata.name": ref.namespace},
    )


def snapshot(
    *parts: Any, version: str = "1.33", authentication_mode: str = "API_AND_CONFIG_MAP"
) -> ClusterSnapshot:
    snap = ClusterSnapshot("123456789012", "us-east-1", "prod", RegionSnapshot("123456789012", "us-east-1"))
    cluster = info(version=version, authentication_mode=authentication_mode)
    snap.parts[type(cluster)] = cluster
    for part in parts:
        snap.parts[type(part)] = part
    return snap


def webhooks(*hooks: Webhook, system: dict[str, str] | None = None) -> AdmissionWebhooks:
    return AdmissionWebhooks(tuple(hooks), dict(SYSTEM if system is None else system))


def backends(*items: Backend) -> WebhookBackends:
    return WebhookBackends({(b.service.namespace, b.service.name, b.service.port): b for b in items})
