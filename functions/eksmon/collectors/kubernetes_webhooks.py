"""Admission webhooks: every Validating/MutatingWebhookConfiguration, and the Services behind them.

Two parts, so that a failure reading the Services (EndpointSlices) never hides a catch-all rule:

* :class:`AdmissionWebhooks` -- each webhook with its rules, failure policy, timeout, selectors and
  client (Service or URL), v1 defaults applied to missing or null fields; plus the labels of
  kube-system, to say whether a namespaceSelector spares it.
* :class:`WebhookBackends` -- for each Service a webhook calls: does it exist, has it the port, how
  many ready endpoints its EndpointSlices list, and the labels of its namespace.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from eksmon.collectors.kubernetes_common import (
    NAME_LABEL,
    SYSTEM_NAMESPACE,
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
from eksmon.registry import KubePermission, collector

GROUP = "admissionregistration.k8s.io"
KINDS = {
    "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
    "MutatingWebhookConfiguration": "mutatingwebhookconfigurations",
}
DEFAULT_FAILURE_POLICY = "Fail"  # admissionregistration.k8s.io/v1 defaults
DEFAULT_TIMEOUT_SECONDS = 10
DEFAULT_SERVICE_PORT = 443
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


# -- parts --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        return self.key not in labels or labels[self.key] not in self.values  # NotIn

    def __str__(self) -> str:
        if self.operator == "Exists":
            return self.key
        if self.operator == "DoesNotExist":
            return f"!{self.key}"
        return f"{self.key} {self.operator.lower()} ({', '.join(self.values)})"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A metav1.LabelSelector; the empty selector matches everything."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels) and all(
            r.matches(labels) for r in self.match_expressions
        )

    def __str__(self) -> str:
        terms = [f"{k}={v}" for k, v in self.match_labels] + [str(r) for r in self.match_expressions]
        return ", ".join(terms) or "(everything)"


@dataclass(frozen=True, slots=True)
class WebhookRule:
    api_groups: tuple[str, ...]
    api_versions: tuple[str, ...]
    resources: tuple[str, ...]
    operations: tuple[str, ...]
    scope: str = "*"  # Cluster | Namespaced | *

    def __str__(self) -> str:
        return (
            f"groups [{', '.join(self.api_groups)}] versions [{', '.join(self.api_versions)}] "
            f"resources [{', '.join(self.resources)}] operations [{', '.join(self.operations)}] "
            f"scope {self.scope}"
        )


@dataclass(frozen=True, slots=True)
class ServiceRef:
    namespace: str
    name: str
    port: int = DEFAULT_SERVICE_PORT

    def __str__(self) -> str:
        return f"Service/{self.namespace}/{self.name}:{self.port}"


@dataclass(frozen=True, slots=True)
class Webhook:
    kind: str  # ValidatingWebhookConfiguration | MutatingWebhookConfiguration
    configuration: str
    name: str
    failure_policy: str  # Fail | Ignore (v1 default Fail)
    timeout_seconds: int  # v1 default 10
    rules: tuple[WebhookRule, ...]
    namespace_selector: LabelSelector = field(default_factory=LabelSelector)
    object_selector: LabelSelector = field(default_factory=LabelSelector)
    match_conditions: int = 0  # CEL expressions that can narrow the match (not evaluated here)
    service: ServiceRef | None = None
    url: str | None = None

    @property
    def resource(self) -> str:
        return f"{self.kind}/{self.configuration}"


@dataclass(frozen=True, slots=True)
class AdmissionWebhooks:
    items: tuple[Webhook, ...]
    system_namespace_labels: dict[str, str]  # kube-system's labels (at least its name label)
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class Backend:
    service: ServiceRef
    exists: bool
    service_type: str | None = None  # ClusterIP | NodePort | LoadBalancer | ExternalName
    port_found: bool = False
    ready_endpoints: int = 0
    endpoints: int = 0
    namespace_labels: dict[str, str] = field(default_factory=dict)
    # where the ready endpoints run: distinct zones and nodes ("" for an endpoint that does not say)
    ready_zones: frozenset[str] = frozenset()
    ready_nodes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class WebhookBackends:
    by_service: dict[tuple[str, str, int], Backend]

    def get(self, ref: ServiceRef) -> Backend | None:
        return self.by_service.get((ref.namespace, ref.name, ref.port))


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
