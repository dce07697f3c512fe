"""Pure helpers shared by the Kubernetes checks: what a webhook rule matches, sysctl names."""

from __future__ import annotations

from collections.abc import Iterable

from eksmon.parts.webhooks import Webhook, WebhookRule

CONTROL_PLANE_DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/control-plane.html"
ALL_OPERATIONS = frozenset({"CREATE", "UPDATE", "DELETE", "CONNECT"})
MAX_LISTED = 20  # names listed in a message or a details list


# -- webhook rules ------------------------------------------------------------------------------------
def matches_every_operation(operations: Iterable[str]) -> bool:
    ops = set(operations)
    return "*" in ops or ops >= ALL_OPERATIONS


def is_catch_all(rule: WebhookRule) -> bool:
    """Every group, version, resource and operation.

    ``*`` or ``*/*`` in resources (``*`` is every resource, ``*/*`` adds their subresources);
    operations ``*`` or all four of CREATE, UPDATE, DELETE, CONNECT. A partial wildcard
    (``pods/*``, ``*/status``, a list of groups) is not a catch-all. The scope does not narrow it:
    ``Namespaced`` still takes every Pod, Lease (node heartbeats) and EndpointSlice.
    """
    return (
        "*" in rule.api_groups
        and "*" in rule.api_versions
        and bool({"*", "*/*"} & set(rule.resources))
        and matches_every_operation(rule.operations)
    )


def _one(values: Iterable[str], wanted: str) -> bool:
    return "*" in values or wanted in values


def matches_request(
    rule: WebhookRule, group: str, version: str, resource: str, operation: str, namespaced: bool = True
) -> bool:
    """Does the rule intercept ``operation`` on ``group/version/resource``?"""
    resource_ok = resource in rule.resources or "*" in rule.resources or "*/*" in rule.resources
    scope_ok = rule.scope in ("*", "") or rule.scope == ("Namespaced" if namespaced else "Cluster")
    return (
        _one(rule.api_groups, group)
        and _one(rule.api_versions, version)
        and resource_ok
        and _one(rule.operations, operation)
        and scope_ok
    )


def intercepts_pod_creation(hook: Webhook, namespace_labels: dict[str, str]) -> bool:
    """Would the webhook be called to create a Pod in a namespace with these labels?

    The objectSelector and matchConditions cannot be evaluated without the pod; they are
    assumed to match (the caller says so when they are set).
    """
    if not hook.namespace_selector.matches(namespace_labels):
        return False
    return any(matches_request(r, "", "v1", "pods", "CREATE") for r in hook.rules)


def listed(names: Iterable[str], limit: int = MAX_LISTED) -> str:
    items = list(names)
    head = ", ".join(items[:limit])
    return head + (f" and {len(items) - limit} more" if len(items) > limit else "")


# -- sysctls ------------------------------------------------------------------------------------------
# The safe set grows with the kubelet version (Kubernetes docs, "Using sysctls in a Kubernetes Cluster",
# https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/). Each entry: the minor version
# that made it safe.
SAFE_SYSCTLS: dict[str, tuple[int, int]] = {
    "kernel.shm_rmid_forced": (1, 0),
    "net.ipv4.ip_local_port_range": (1, 0),
    "net.ipv4.tcp_syncookies": (1, 0),
    "net.ipv4.ping_group_range": (1, 18),
    "net.ipv4.ip_unprivileged_port_start": (1, 22),
    "net.ipv4.ip_local_reserved_ports": (1, 27),
    "net.ipv4.tcp_keepalive_time": (1, 29),
    "net.ipv4.tcp_fin_timeout": (1, 29),
    "net.ipv4.tcp_keepalive_intvl": (1, 29),
    "net.ipv4.tcp_keepalive_probes": (1, 29),
    "net.ipv4.tcp_rmem": (1, 32),
    "net.ipv4.tcp_wmem": (1, 32),
}


def safe_sysctls(version: tuple[int, int] | None) -> frozenset[str]:
    """The safe set of a Kubernetes minor version; the base set when the version is unknown."""
    if version is None:
        return frozenset(n for n, since in SAFE_SYSCTLS.items() if since == (1, 0))
    return frozenset(n for n, since in SAFE_SYSCTLS.items() if since <= version)


def normalize_sysctl(name: str) -> str:
    """The kubelet's reading of a sysctl name: ``/`` may separate the parts instead of ``.``.

    When the first separator is ``/``, slashes and dots swap (``net/ipv4/conf/eth0.100/rp_filter``
    is ``net.ipv4.conf.eth0/100.rp_filter``), as the kubelet's NormalizeName does.
    """
    first = next((ch for ch in name if ch in "./"), ".")
    if first == "/":
        return name.translate(str.maketrans("./", "/."))
    return name
