"""The factory behind ``Services(kubernetes=...)``: a :class:`KubeClient` for the cluster of a context."""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eksmon.context import CollectContext, Services
from eksmon.kube.client import KubeClient, kubeconfig_files
from eksmon.kube.errors import KubeconfigError, KubernetesDisabled, KubeTLSError, KubeUnavailable
from eksmon.kube.token import TOKENS, TokenCache, presigner
from eksmon.parts import ClusterInfo
from eksmon.settings import Settings

if TYPE_CHECKING:
    from eksmon.registry import CollectorSpec

MAX_CLIENTS = 32


class KubernetesAccess:
    """``(CollectContext) -> KubeClient`` for the context's cluster.

    By default from DescribeCluster (``ClusterInfo.endpoint`` and ``certificate_authority``) with an
    IAM token signed by the account's session, as in Lambda. A cluster named in ``contexts``
    (``name``, ``region/name`` or ``account/region/name`` -> kubeconfig context) is reached through
    that context of ``kubeconfig`` instead (None: ``KUBECONFIG`` or ``~/.kube/config``).
    Clients are kept (at most ``max_clients``, least recently used closed first), so the collectors
    of one cluster share connections; tokens are kept per account, region and cluster in ``tokens``.
    """

    def __init__(
        self,
        kubeconfig: str | Path | None = None,
        contexts: Mapping[str, str] | None = None,
        *,
        tokens: TokenCache = TOKENS,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.contexts = dict(contexts or {})
        self.tokens = tokens
        self.max_clients = max_clients
        self._clients: OrderedDict[Hashable, KubeClient] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, ctx: CollectContext) -> KubeClient:
        context = self.context_for(ctx.account, ctx.region, ctx.cluster or "")
        if context is not None:
            return self._kubeconfig_client(ctx, context)
        return self._eks_client(ctx)

    def context_for(self, account: str, region: str, cluster: str) -> str | None:
        for key in (f"{account}/{region}/{cluster}", f"{region}/{cluster}", cluster):
            if key in self.contexts:
                return self.contexts[key]
        return None

    def check_contexts(self, settings: Settings | None = None) -> None:
        """Raise KubeconfigError (a ConfigError: exit 2) now if a mapped context cannot be used.

        Each context is loaded (file, context, cluster, CA, user) and the client kept, so the scan
        reuses it. An exec credential plugin is not run here but on the cluster's first request: a
        plugin that fails is that cluster's collection error, not the whole scan's.
        """
        k = (settings or Settings()).kubernetes
        files = kubeconfig_files(self.kubeconfig)
        if not any(Path(f).expanduser().is_file() for f in files.split(os.pathsep) if f):
            raise KubeconfigError(f"no kubeconfig found at {files}")
        for context in sorted(set(self.contexts.values())):
            self._cached(self._kubeconfig_key(context, k), lambda c=context: self._from_kubeconfig(c, k))

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()

    # -- internals ---------------------------------------------------------------------------------
    def _kubeconfig_key(self, context: str, k: Any) -> Hashable:
        return ("kubeconfig", context, k.timeout_seconds, k.page_size, k.max_list_pages, k.plugin_timeout)

    def _from_kubeconfig(self, context: str, k: Any) -> KubeClient:
        return KubeClient.from_kubeconfig(
            self.kubeconfig,
            context,
            timeout=k.timeout_seconds,
            page_size=k.page_size,
            max_pages=k.max_list_pages,
            exec_timeout=k.plugin_timeout,
        )

    def _kubeconfig_client(self, ctx: CollectContext, context: str) -> KubeClient:
        k = ctx.settings.kubernetes
        client = self._cached(self._kubeconfig_key(context, k), lambda: self._from_kubeconfig(context, k))
        io = ctx.aws.io
        if client.plugin is not None and io is not None:
            client.plugin.deadline = io.deadline.remaining  # the plugin never runs past the scan's deadline
        return client

    def _eks_client(self, ctx: CollectContext) -> KubeClient:
        info = ctx.get(ClusterInfo)
        if not info.endpoint or not info.certificate_authority:
            raise KubeUnavailable(
                None,
                "NoEndpoint",
                "",
                f"cluster {info.name} has no API endpoint yet "
                f"(status {info.status}); its Kubernetes checks run once it is ACTIVE",
            )
        try:
            ca_pem = base64.b64decode(info.certificate_authority, validate=True)
        except (binascii.Error, ValueError):
            raise KubeTLSError(
                None,
                "BadCertificateAuthority",
                "",
                f"DescribeCluster's certificateAuthority.data of {info.name} is not base64",
            ) from None
        sts = ctx.aws.client("sts", ctx.region)  # the session's credentials and endpoint (AWS_ENDPOINT_URL)
        token = self.tokens.get(ctx.account, ctx.region, info.name, presigner(sts))
        k = ctx.settings.kubernetes
        key = (
            "eks",
            ctx.account,
            ctx.region,
            info.name,
            info.endpoint,
            info.certificate_authority,
            k.timeout_seconds,
            k.page_size,
            k.max_list_pages,
        )
        return self._cached(
            key,
            lambda: KubeClient(
                info.endpoint or "",
                ca_pem=ca_pem,
                token=token,
                timeout=k.timeout_seconds,
                page_size=k.page_size,
                max_pages=k.max_list_pages,
            ),
        )

    def _cached(self, key: Hashable, make: Any) -> KubeClient:
        with self._lock:
            found = self._clients.get(key)
            if found is not None:
                self._clients.move_to_end(key)
                return found
        client: KubeClient = make()
        evicted: list[KubeClient] = []
        with self._lock:
            raced = self._clients.get(key)
            if raced is not None:
                evicted.append(client)
                client = raced
            else:
                self._clients[key] = client
                while len(self._clients) > self.max_clients:
                    evicted.append(self._clients.popitem(last=False)[1])
        for old in evicted:
            old.close()
        return client


_DEFAULT: KubernetesAccess | None = None
_DEFAULT_LOCK = threading.Lock()


def default_access() -> KubernetesAccess:
    """The process-wide factory used when ``Services.kubernetes`` is not set (a warm Lambda reuses it)."""
    global _DEFAULT  # noqa: PLW0603 - one factory per process, like boto3's default session
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = KubernetesAccess()
        return _DEFAULT


def kubernetes_enabled(ctx: CollectContext) -> bool:
    """False when the configuration turns Kubernetes access off (``kubernetes.enabled: false``)."""
    return bool(ctx.settings.kubernetes.enabled)


def needs_kubernetes(spec: CollectorSpec) -> bool:
    """True for a collector that declares Kubernetes permissions, i.e. reads the cluster's API."""
    return bool(spec.kube)


def kube_client(ctx: CollectContext) -> KubeClient:
    """The client a collector uses for its cluster: ``ctx.services.kubernetes(ctx)``, or the default.

    Raises KubernetesDisabled when access is off, KubeUnavailable when the cluster has no endpoint,
    MissingData when its ClusterInfo was not collected (declare ``needs=(ClusterInfo,)``).
    """
    if not kubernetes_enabled(ctx):
        raise KubernetesDisabled("Kubernetes access is turned off (kubernetes.enabled: false)")
    services = ctx.services
    factory = (
        services.kubernetes if services is not None and services.kubernetes is not None else default_access()
    )
    client: KubeClient = factory(ctx)
    return client


def cli_services(
    settings: Settings | None = None,
    kubeconfig: str | Path | None = None,
    contexts: Mapping[str, str] | None = None,
) -> Services:
    """``Services`` for ``eksmon scan``; a mapped context that cannot be used is a ConfigError (exit 2)."""
    access = KubernetesAccess(kubeconfig, contexts)
    enabled = settings is None or settings.kubernetes.enabled
    if access.contexts and enabled:
        access.check_contexts(settings)
    elif kubeconfig is not None and not access.contexts and enabled:
        raise KubeconfigError(
            "--kubeconfig is given without --kube-context CLUSTER=CONTEXT; "
            "name the context of each cluster to reach through it"
        )
    return Services(kubernetes=access)
