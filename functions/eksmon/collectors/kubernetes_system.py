"""EKS system objects in kube-system and the Service count: kube-proxy's mode, the VPC CNI's warm
settings, the aws-auth ConfigMap.

Each is one small part read with one or two GETs; an absent object is normal (no kube-proxy with
a kube-proxy replacement, another CNI, no aws-auth on an API-only cluster) and is recorded as
absent, never as an error.
"""

from __future__ import annotations

from typing import Any

import yaml

from eksmon.collectors.kubernetes_common import (
    BadObject,
    get_or_none,
    mapping,
    relisted,
    sequence,
    strings,
    text,
)
from eksmon.context import CollectContext
from eksmon.kube import kube_client
from eksmon.parts import ClusterInfo
from eksmon.parts.kubernetes import (
    SYSTEM_NAMESPACE,
    AwsAuth,
    KubeProxyMode,
    ServiceCount,
    VpcCniSettings,
)
from eksmon.registry import KubePermission, collector

# Read only in kube-system, and only the named objects (a Role with resourceNames, not a ClusterRole)
KUBE_PROXY_CONFIGMAP = KubePermission("", "configmaps", ("get",), "kube-system", ("kube-proxy-config",))
KUBE_PROXY_DAEMONSET = KubePermission("apps", "daemonsets", ("get",), "kube-system", ("kube-proxy",))
AWS_NODE_DAEMONSET = KubePermission("apps", "daemonsets", ("get",), "kube-system", ("aws-node",))
AWS_AUTH_CONFIGMAP = KubePermission("", "configmaps", ("get",), "kube-system", ("aws-auth",))
SERVICES = KubePermission("", "services", ("get", "list"))

KUBE_PROXY_CONFIG = "kube-proxy-config"
CNI_CONTAINER = "aws-node"
CNI_SETTINGS = (
    "WARM_ENI_TARGET",
    "WARM_IP_TARGET",
    "MINIMUM_IP_TARGET",
    "WARM_PREFIX_TARGET",
    "ENABLE_PREFIX_DELEGATION",
)
AWS_AUTH_KEYS = ("mapRoles", "mapUsers", "mapAccounts")


# -- collectors ---------------------------------------------------------------------------------------
@collector(provides=ServiceCount, uses=(ClusterInfo,), kube=(SERVICES,))
def service_count(ctx: CollectContext) -> ServiceCount:
    """Services in the cluster: one request with ``limit=1`` when the apiserver gives
    ``remainingItemCount``, else counted page by page (the items are not kept)."""
    client = kube_client(ctx)
    first = client.get("/api/v1/services", {"limit": "1"})
    items = first.get("items") or []
    meta = first.get("metadata") or {}
    remaining = meta.get("remainingItemCount")
    if not meta.get("continue"):
        return ServiceCount(len(items), "remainingItemCount")
    if isinstance(remaining, int) and not isinstance(remaining, bool) and remaining >= 0:
        return ServiceCount(len(items) + remaining, "remainingItemCount")
    return relisted(lambda: ServiceCount(sum(1 for _ in client.list("/api/v1/services")), "paged"))


@collector(provides=KubeProxyMode, uses=(ClusterInfo,), kube=(KUBE_PROXY_CONFIGMAP, KUBE_PROXY_DAEMONSET))
def kube_proxy_mode(ctx: CollectContext) -> KubeProxyMode:
    client = kube_client(ctx)
    cm = get_or_none(client, f"/api/v1/namespaces/{SYSTEM_NAMESPACE}/configmaps/{KUBE_PROXY_CONFIG}")
    if cm is not None:
        found = mode_from_config_map(cm)
        if found.problem:
            ctx.report(f"kubernetes:configmaps/{KUBE_PROXY_CONFIG}", BadObject(found.problem), found.problem)
        return found
    ds = get_or_none(client, f"/apis/apps/v1/namespaces/{SYSTEM_NAMESPACE}/daemonsets/kube-proxy")
    if ds is None:
        return KubeProxyMode(
            False, None, "neither ConfigMap kube-system/kube-proxy-config nor DaemonSet kube-proxy"
        )
    return mode_from_daemon_set(ds)


def mode_from_config_map(cm: Any) -> KubeProxyMode:
    source = f"ConfigMap {SYSTEM_NAMESPACE}/{KUBE_PROXY_CONFIG}"
    try:
        return KubeProxyMode(True, _configured_mode(cm), source)
    except BadObject as exc:
        return KubeProxyMode(True, None, source, f"{source}: {exc}")


def _configured_mode(cm: Any) -> str:
    """``mode`` of the KubeProxyConfiguration in key ``config``; unset or null is ""."""
    config = text(mapping(cm.get("data"), "data").get("config"), "data.config")
    if config is None:
        raise BadObject("has no key 'config'")
    try:
        doc = yaml.safe_load(config)
    except yaml.YAMLError as exc:
        raise BadObject(f"key 'config' is not valid YAML: {_first_line(exc)}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise BadObject("key 'config' is not a KubeProxyConfiguration")
    mode = doc.get("mode")
    if mode is None:
        return ""
    if not isinstance(mode, str):
        raise BadObject(f"mode is {mode!r}, not a string")
    return mode


def mode_from_daemon_set(ds: Any) -> KubeProxyMode:
    """kube-proxy without the EKS ConfigMap: ``--proxy-mode`` from its arguments, else the default."""
    source = "DaemonSet kube-system/kube-proxy arguments"
    try:
        containers = _containers(ds)
        for c in containers:
            args = strings(c.get("command"), "command") + strings(c.get("args"), "args")
            for arg in args:
                if arg.startswith("--proxy-mode="):
                    return KubeProxyMode(True, arg.split("=", 1)[1], source)
            if any(a.startswith("--config=") for a in args):
                return KubeProxyMode(
                    True,
                    None,
                    source,
                    "kube-proxy reads a --config file that is not ConfigMap kube-proxy-config",
                )
    except BadObject as exc:
        return KubeProxyMode(True, None, source, f"DaemonSet kube-system/kube-proxy: {exc}")
    return KubeProxyMode(True, "", source)


@collector(provides=VpcCniSettings, uses=(ClusterInfo,), kube=(AWS_NODE_DAEMONSET,))
def vpc_cni_settings(ctx: CollectContext) -> VpcCniSettings:
    client = kube_client(ctx)
    ds = get_or_none(client, f"/apis/apps/v1/namespaces/{SYSTEM_NAMESPACE}/daemonsets/aws-node")
    if ds is None:
        return VpcCniSettings(False, {})
    try:
        return cni_settings(ds)
    except BadObject as exc:  # the part is missing, so cni.ip_caching is skipped: say why
        raise BadObject(f"DaemonSet kube-system/aws-node cannot be read: {exc}") from None


def cni_settings(ds: Any) -> VpcCniSettings:
    for c in _containers(ds):
        if c.get("name") != CNI_CONTAINER:
            continue
        env: dict[str, str] = {}
        unresolved: list[str] = []
        for i, raw in enumerate(sequence(c.get("env"), "aws-node env")):
            var = mapping(raw, f"aws-node env[{i}]")
            name = var.get("name")
            if name not in CNI_SETTINGS:
                continue
            if var.get("valueFrom") is not None:
                unresolved.append(str(name))
                continue
            env[str(name)] = text(var.get("value"), f"aws-node env {name}", "") or ""
        image = text(c.get("image"), "aws-node image", "") or ""
        version = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else None
        return VpcCniSettings(True, env, tuple(unresolved), version)
    return VpcCniSettings(False, {})


@collector(provides=AwsAuth, uses=(ClusterInfo,), kube=(AWS_AUTH_CONFIGMAP,))
def aws_auth(ctx: CollectContext) -> AwsAuth:
    client = kube_client(ctx)
    cm = get_or_none(client, f"/api/v1/namespaces/{SYSTEM_NAMESPACE}/configmaps/aws-auth")
    if cm is None:
        return AwsAuth(False, {})
    return aws_auth_data(cm)


def aws_auth_data(cm: Any) -> AwsAuth:
    try:
        data = mapping(cm.get("data"), "data")
    except BadObject as exc:
        return AwsAuth(True, {}, str(exc))
    kept: dict[str, str] = {}
    for key in AWS_AUTH_KEYS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            return AwsAuth(True, kept, f"data.{key} is a {type(value).__name__}, not a string")
        kept[key] = value
    return AwsAuth(True, kept)


def _containers(ds: Any) -> list[dict[str, Any]]:
    spec = mapping(ds.get("spec"), "spec")
    template = mapping(spec.get("template"), "spec.template")
    pod_spec = mapping(template.get("spec"), "spec.template.spec")
    containers = sequence(pod_spec.get("containers"), "spec.template.spec.containers")
    return [c for c in containers if isinstance(c, dict)]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
