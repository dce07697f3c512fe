"""Admission webhooks: every Validating/MutatingWebhookConfiguration, and the Services behind them.

Two parts, so that a failure reading the Services (EndpointSlices) never hides a catch-all rule:

* :class:`AdmissionWebhooks` -- each webhook with its rules, failure policy, timeout, selectors and
  client (Service or URL), v1 defaults applied to missing or null fields; plus the labels of
  kube-system, to say whether a namespaceSelector spares it.
* :class:`WebhookBackends` -- for each Service a webhook calls: does it exist, has it the port, how
  many ready endpoints its EndpointSlices list, and the labels of its namespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from eksmon.collectors.kubernetes_common import (
    NAME_LABEL,
    BadObject,
    Skips,
    get_or_none,
    integer,
    labels_of,
    mapping,
    metadata,
    object_ref,
    relisted,
    sequence,
    strings,
    text,
)
from eksmon.context import CollectContext
from eksmon.kube import KubeClient, KubeError, kube_client
from eksmon.parts import ClusterInfo
from eksmon.parts.kubernetes import SYSTEM_NAMESPACE
from eksmon.parts.webhooks import (
    DEFAULT_FAILURE_POLICY,
    DEFAULT_SERVICE_PORT,
    DEFAULT_TIMEOUT_SECONDS,
    OPERATORS,
    AdmissionWebhooks,
    Backend,
    LabelSelector,
    Requirement,
    ServiceRef,
    Webhook,
    WebhookBackends,
    WebhookRule,
)
from eksmon.registry import KubePermission, collector

GROUP = "admissionregistration.k8s.io"
KINDS = {
    "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
    "MutatingWebhookConfiguration": "mutatingwebhookconfigurations",
}
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


# -- parsing (pure) -----------------------------------------------------------------------------------
def parse_selector(value: Any, where: str) -> LabelSelector:
    sel = mapping(value, where)
    match_labels = tuple(sorted((str(k), str(v)) for k, v in mapping(sel.get("matchLabels"), where).items()))
    exprs = []
    for i, raw in enumerate(sequence(sel.get("matchExpressions"), f"{where}.matchExpressions")):
        expr = mapping(raw, f"{where}.matchExpressions[{i}]")
        key = text(expr.get("key"), f"{where}.matchExpressions[{i}].key")
        operator = text(expr.get("operator"), f"{where}.matchExpressions[{i}].operator")
        if not key or operator not in OPERATORS:
            raise BadObject(f"{where}.matchExpressions[{i}] has no key or an unknown operator {operator!r}")
        values = strings(expr.get("values"), f"{where}.matchExpressions[{i}].values")
        exprs.append(Requirement(key, operator, values))
    return LabelSelector(match_labels, tuple(exprs))


def parse_rule(value: Any, where: str) -> WebhookRule:
    r = mapping(value, where)
    return WebhookRule(
        api_groups=strings(r.get("apiGroups"), f"{where}.apiGroups"),
        api_versions=strings(r.get("apiVersions"), f"{where}.apiVersions"),
        resources=strings(r.get("resources"), f"{where}.resources"),
        operations=strings(r.get("operations"), f"{where}.operations"),
        scope=text(r.get("scope"), f"{where}.scope", "*") or "*",
    )


def parse_webhook(kind: str, configuration: str, value: Any, index: int) -> Webhook:
    """One entry of ``webhooks``; missing or null fields read as their v1 defaults."""
    hook = mapping(value, f"webhooks[{index}]")
    name = text(hook.get("name"), f"webhooks[{index}].name") or f"webhooks[{index}]"
    policy = text(hook.get("failurePolicy"), f"{name}.failurePolicy", DEFAULT_FAILURE_POLICY)
    if policy not in ("Fail", "Ignore"):
        raise BadObject(f"{name}.failurePolicy is {policy!r}, neither Fail nor Ignore")
    timeout = integer(hook.get("timeoutSeconds"), f"{name}.timeoutSeconds", DEFAULT_TIMEOUT_SECONDS)
    client = mapping(hook.get("clientConfig"), f"{name}.clientConfig")
    service: ServiceRef | None = None
    svc = client.get("service")
    if svc is not None:
        s = mapping(svc, f"{name}.clientConfig.service")
        ns = text(s.get("namespace"), f"{name}.clientConfig.service.namespace")
        svc_name = text(s.get("name"), f"{name}.clientConfig.service.name")
        if not ns or not svc_name:
            raise BadObject(f"{name}.clientConfig.service has no namespace or name")
        port = integer(s.get("port"), f"{name}.clientConfig.service.port", DEFAULT_SERVICE_PORT)
        service = ServiceRef(ns, svc_name, port or DEFAULT_SERVICE_PORT)
    url = text(client.get("url"), f"{name}.clientConfig.url")
    if service is None and not url:
        raise BadObject(f"{name}.clientConfig has neither a service nor a url")
    return Webhook(
        kind=kind,
        configuration=configuration,
        name=name,
        failure_policy=policy or DEFAULT_FAILURE_POLICY,
        timeout_seconds=timeout if timeout is not None else DEFAULT_TIMEOUT_SECONDS,
        rules=tuple(
            parse_rule(r, f"{name}.rules[{i}]") for i, r in enumerate(sequence(hook.get("rules"), "rules"))
        ),
        namespace_selector=parse_selector(hook.get("namespaceSelector"), f"{name}.namespaceSelector"),
        object_selector=parse_selector(hook.get("objectSelector"), f"{name}.objectSelector"),
        match_conditions=len(sequence(hook.get("matchConditions"), f"{name}.matchConditions")),
        service=service,
        url=url or None,
    )


def parse_configuration(kind: str, obj: Any) -> tuple[str, list[Webhook]]:
    _, name = metadata(obj, kind)
    hooks = sequence(obj.get("webhooks"), "webhooks")
    return name, [parse_webhook(kind, name, h, i) for i, h in enumerate(hooks)]


# -- collectors ---------------------------------------------------------------------------------------
@collector(
    provides=AdmissionWebhooks,
    uses=(ClusterInfo,),  # DescribeCluster: the endpoint, unless a kubeconfig context reaches it
    kube=(
        KubePermission(GROUP, "validatingwebhookconfigurations", ("list",)),
        KubePermission(GROUP, "mutatingwebhookconfigurations", ("list",)),
        KubePermission("", "namespaces", ("get",)),
    ),
)
def admission_webhooks(ctx: CollectContext) -> AdmissionWebhooks:
    client = kube_client(ctx)

    def read() -> tuple[list[Webhook], Skips]:
        items: list[Webhook] = []
        skips = Skips("webhook configurations")
        for kind, resource in KINDS.items():
            for obj in client.list(f"/apis/{GROUP}/v1/{resource}"):
                try:
                    items.extend(parse_configuration(kind, obj)[1])
                except BadObject as exc:
                    skips.add(object_ref(kind, obj), str(exc))
        return items, skips

    items, skips = relisted(read)
    skips.report(ctx, "kubernetes:webhookconfigurations")
    system = _namespace_labels(ctx, client, [SYSTEM_NAMESPACE])[SYSTEM_NAMESPACE]
    return AdmissionWebhooks(tuple(items), system, skips.count)


@collector(
    provides=WebhookBackends,
    needs=(AdmissionWebhooks,),
    uses=(ClusterInfo,),
    kube=(
        KubePermission("", "services", ("get", "list")),
        KubePermission("discovery.k8s.io", "endpointslices", ("list",)),
        KubePermission("", "namespaces", ("get",)),
    ),
)
def webhook_backends(ctx: CollectContext) -> WebhookBackends:
    """The Service of every webhook that names one: existence, port, ready endpoints, namespace labels."""
    client = kube_client(ctx)
    refs = sorted(
        {
            (h.service.namespace, h.service.name, h.service.port)
            for h in ctx.get(AdmissionWebhooks).items
            if h.service
        }
    )
    labels = _namespace_labels(ctx, client, sorted({ns for ns, _, _ in refs}))
    out: dict[tuple[str, str, int], Backend] = {}
    for ns, name, port in refs:
        out[(ns, name, port)] = _backend(client, ServiceRef(ns, name, port), labels[ns])
    return WebhookBackends(out)


def _backend(client: KubeClient, ref: ServiceRef, ns_labels: dict[str, str]) -> Backend:
    svc = get_or_none(client, f"/api/v1/namespaces/{quote(ref.namespace)}/services/{quote(ref.name)}")
    if svc is None:
        return Backend(ref, exists=False, namespace_labels=ns_labels)
    spec = _dict(svc.get("spec"))
    service_type = spec.get("type") if isinstance(spec.get("type"), str) else "ClusterIP"
    ports = [p for p in _list(spec.get("ports")) if isinstance(p, dict)]
    wanted = [str(p.get("name") or "") for p in ports if p.get("port") == ref.port]
    ready = total = 0
    zones: set[str] = set()
    nodes: set[str] = set()
    if wanted:
        for eps in client.list(
            f"/apis/discovery.k8s.io/v1/namespaces/{quote(ref.namespace)}/endpointslices",
            labels=f"{SERVICE_NAME_LABEL}={ref.name}",
        ):
            for endpoint in _slice_endpoints(eps, set(wanted)):
                total += 1
                if endpoint.ready:
                    ready += 1
                    zones.add(endpoint.zone)
                    nodes.add(endpoint.node)
    return Backend(
        ref,
        exists=True,
        service_type=service_type,
        port_found=bool(wanted),
        ready_endpoints=ready,
        endpoints=total,
        namespace_labels=ns_labels,
        ready_zones=frozenset(zones),
        ready_nodes=frozenset(nodes),
    )


@dataclass(frozen=True, slots=True)
class _Endpoint:
    ready: bool
    zone: str  # "" when the slice does not say
    node: str


def _slice_endpoints(eps: Any, port_names: set[str]) -> Iterator[_Endpoint]:
    """Each endpoint of one EndpointSlice serving the wanted Service port.

    A slice lists the Service's ports by name; a slice without ports serves every port. An
    endpoint's ``conditions.ready`` that is null means unknown, read as ready (the API's advice).
    """
    slice_ = _dict(eps)
    ports = _list(slice_.get("ports"))
    if ports and not {str(_dict(p).get("name") or "") for p in ports} & port_names:
        return
    for ep in _list(slice_.get("endpoints")):
        endpoint = _dict(ep)
        ready = _dict(endpoint.get("conditions")).get("ready")
        if _list(endpoint.get("addresses")):
            zone, node = endpoint.get("zone"), endpoint.get("nodeName")
            yield _Endpoint(
                ready is None or ready is True,
                zone if isinstance(zone, str) else "",
                node if isinstance(node, str) else "",
            )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _namespace_labels(
    ctx: CollectContext, client: KubeClient, namespaces: list[str]
) -> dict[str, dict[str, str]]:
    """Each namespace's labels. When one cannot be read, its automatic name label only, and the
    failure reported once (namespaceSelectors on other labels may then be misjudged)."""
    out: dict[str, dict[str, str]] = {}
    failed: list[str] = []
    error: KubeError | None = None
    for namespace in namespaces:
        fallback = {NAME_LABEL: namespace}
        try:
            obj = get_or_none(client, f"/api/v1/namespaces/{quote(namespace)}")
            found = labels_of(mapping(obj.get("metadata"), "metadata").get("labels")) if obj else {}
        except KubeError as exc:
            failed.append(namespace)
            error, found = exc, {}
        except BadObject:
            found = {}
        out[namespace] = {**fallback, **found}
    if error is not None:
        ctx.report(
            f"kubernetes:namespaces/{','.join(failed)}"[:200],
            error,
            f"{error}; the namespaceSelectors were evaluated against the label {NAME_LABEL} only",
        )
    return out
