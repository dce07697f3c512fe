"""The cluster's admission webhooks and the backends that serve them, with the API's defaults
(``collectors/kubernetes_webhooks.py`` fills them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_FAILURE_POLICY = "Fail"  # admissionregistration.k8s.io/v1 defaults
DEFAULT_TIMEOUT_SECONDS = 10
DEFAULT_SERVICE_PORT = 443


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
