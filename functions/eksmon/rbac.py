"""The read-only RBAC the Kubernetes checks need, generated from the registry (least privilege).

Each collector declares the Kubernetes permissions it uses (``@collector(kube=...)``). Cluster-wide
(a ClusterRole) only what must be: pods, services, endpointslices, namespaces, webhook
configurations and ``get`` on the non-resource URL ``/metrics``. What a collector reads in one
namespace only (ConfigMaps and DaemonSets of ``kube-system``) is a namespaced Role there, with
``resourceNames`` where it reads named objects (``aws-auth``, ``kube-proxy-config``, ``aws-node``,
``kube-proxy``). Both are bound to the group the monitor's EKS access entry carries
(``eksmon-readers``). The simulator's Kubernetes API stand-in authorises with the same set, so what
the tests pass with is what this prints. Nothing here can grant Secrets, a wildcard or a write
verb: :func:`cluster_role` and :func:`role` refuse.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from eksmon.errors import ConfigError
from eksmon.iam_policy import enabled_checks
from eksmon.registry import CheckSpec, KubeNonResource, KubePermission, Registry, load
from eksmon.settings import load_settings

ROLE_NAME = "eksmon-reader"
GROUP = "eksmon-readers"
METRICS_URL = "/metrics"
READ_VERBS = frozenset({"get", "list", "watch"})
LABELS = {"app.kubernetes.io/name": "eksmon", "app.kubernetes.io/component": "monitor"}

Permission = KubePermission | KubeNonResource


class UnsafePermission(ValueError):
    """A declared permission that a read-only monitor must never hold."""


def group_name(text: str) -> str:
    """A Kubernetes group an EKS access entry may carry (argparse type of ``eksmon rbac --group``)."""
    value = text.strip()
    if not value or value.startswith("system:") or len(value) > 255:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a group an EKS access entry can carry "
            "(non-empty, at most 255 characters, not starting with 'system:')"
        )
    return value


def permissions(
    registry: Registry | None = None, checks: Iterable[CheckSpec] | None = None
) -> list[Permission]:
    """What the checks' collectors declare (every check's, plus ``get /metrics``, when ``checks`` is
    None); sorted, duplicates merged. For chosen checks only theirs: a disabled check's reads are not granted."""
    reg = registry or load()
    declared = list(reg.kube_permissions(reg.checks.values() if checks is None else checks))
    if checks is None and not any(isinstance(p, KubeNonResource) and p.url == METRICS_URL for p in declared):
        declared.append(KubeNonResource(METRICS_URL))
    for p in declared:
        _refuse_unsafe(p)
    return declared


def _refuse_unsafe(p: Permission) -> None:
    bad_verbs = set(p.verbs) - READ_VERBS
    if bad_verbs:
        raise UnsafePermission(f"{_describe(p)}: verbs {sorted(bad_verbs)} are not read-only")
    if isinstance(p, KubeNonResource):
        if "*" in p.url:
            raise UnsafePermission(f"{_describe(p)}: wildcard URLs are not allowed")
        return
    if p.resource in ("*", "secrets") or p.resource.startswith("secrets/") or p.api_group == "*":
        raise UnsafePermission(f"{_describe(p)}: the monitor never reads Secrets nor wildcards")


def _describe(p: Permission) -> str:
    if isinstance(p, KubeNonResource):
        return f"{'/'.join(p.verbs)} {p.url}"
    return f"{'/'.join(p.verbs)} {p.resource}.{p.api_group or 'core'}"


def rules(perms: Sequence[Permission]) -> list[dict[str, Any]]:
    """Rules: one per (API group, verbs, resourceNames), resources sorted; then the non-resource URLs."""
    grouped: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
    urls: dict[tuple[str, ...], list[str]] = {}
    for p in perms:
        verbs = tuple(sorted(set(p.verbs)))
        if isinstance(p, KubeNonResource):
            urls.setdefault(verbs, []).append(p.url)
        else:
            grouped.setdefault((p.api_group, verbs, tuple(sorted(p.names))), []).append(p.resource)
    out: list[dict[str, Any]] = []
    for (group, verbs, names), resources in sorted(grouped.items()):
        rule: dict[str, Any] = {"apiGroups": [group], "resources": sorted(set(resources))}
        if names:
            rule["resourceNames"] = list(names)
        rule["verbs"] = list(verbs)
        out.append(rule)
    out.extend(
        {"nonResourceURLs": sorted(set(found)), "verbs": list(verbs)} for verbs, found in sorted(urls.items())
    )
    return out


def namespaces(perms: Sequence[Permission]) -> list[str]:
    """The namespaces that get a Role (those of the namespaced permissions)."""
    return sorted({p.namespace for p in perms if isinstance(p, KubePermission) and p.namespace})


def cluster_role(perms: Sequence[Permission] | None = None, name: str = ROLE_NAME) -> dict[str, Any]:
    """The ClusterRole: the cluster-wide permissions and the non-resource URLs."""
    found = permissions() if perms is None else list(perms)
    for p in found:
        _refuse_unsafe(p)
    wide = [p for p in found if isinstance(p, KubeNonResource) or not p.namespace]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": dict(LABELS)},
        "rules": rules(wide),
    }


def role(namespace: str, perms: Sequence[Permission] | None = None, name: str = ROLE_NAME) -> dict[str, Any]:
    """The Role in ``namespace``: the permissions declared for that namespace only."""
    found = permissions() if perms is None else list(perms)
    for p in found:
        _refuse_unsafe(p)
    mine = [p for p in found if isinstance(p, KubePermission) and p.namespace == namespace]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(LABELS)},
        "rules": rules(mine),
    }


def cluster_role_binding(group: str = GROUP, role: str = ROLE_NAME) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": role, "labels": dict(LABELS)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    }


def role_binding(namespace: str, group: str = GROUP, role: str = ROLE_NAME) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": role, "namespace": namespace, "labels": dict(LABELS)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    }


def manifest(
    group: str = GROUP, role_name: str = ROLE_NAME, perms: Sequence[Permission] | None = None
) -> str:
    """The ClusterRole, its binding, and a Role + RoleBinding per namespace, ready for ``kubectl apply -f -``."""
    found = permissions() if perms is None else list(perms)
    header = (
        "# eksmon: read-only access for the Kubernetes checks (generated by `eksmon rbac`).\n"
        f"# The monitor's EKS access entry carries the Kubernetes group {group!r}, bound below.\n"
        "# Cluster-wide only what must be; ConfigMaps and DaemonSets only in kube-system, by name.\n"
    )
    docs = [cluster_role(found, role_name), cluster_role_binding(group, role_name)]
    for namespace in namespaces(found):
        docs += [role(namespace, found, role_name), role_binding(namespace, group, role_name)]
    return header + yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False, explicit_start=True)


def configured_manifest(config: str | None, patterns: Sequence[str] = (), group: str = GROUP) -> str:
    """``eksmon rbac --config FILE [--check ID]``: the manifest for the checks that configuration runs
    (``checks.disabled`` and ``kubernetes.enabled`` honoured); without either, every check's."""
    if config is None and not patterns:
        return manifest(group=group)
    registry = load()
    for pattern in patterns:
        if not registry.select([pattern]):
            raise ConfigError(f"--check {pattern!r} matches no check; see `eksmon checks`")
    checks = enabled_checks(registry, load_settings(config), patterns)
    perms = permissions(registry, checks)
    if not perms:
        raise ConfigError(
            "no enabled check reads the Kubernetes API"
            + (f" with {config}" if config else "")
            + ": there is no RBAC to apply"
        )
    return manifest(group=group, perms=perms)
