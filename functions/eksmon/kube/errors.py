"""Errors of the Kubernetes access layer.

Every failure is a :class:`KubeError` with ``status`` (HTTP status, None when there was no answer),
``reason`` (a short code) and ``path``; its message says what to do and never carries a token.
The subclass names what happened, and the engine shows that name as the collection error's code
(``KubeForbidden``, ``KubeUnauthorized``, ``KubeTimeout``...).
"""

from __future__ import annotations

from eksmon.kube.paths import request_attributes
from eksmon.settings import ConfigError

ACCESS_FIX = (
    "Give the monitor's IAM role an EKS access entry carrying the Kubernetes group eksmon-readers "
    "(or an aws-auth mapping), and apply the RBAC that `eksmon rbac` prints."
)
NETWORK_FIX = (
    "Make the cluster's API endpoint reachable from the monitor: enable public endpoint access for "
    "the monitor's addresses, or run the Kubernetes readers inside the cluster's VPC (kubernetes.vpc)."
)
TLS_FIX = (
    "The endpoint did not present a certificate signed by the cluster's certificate authority: check "
    "for a proxy or load balancer in front of the API that terminates TLS."
)


class KubeError(Exception):
    """A Kubernetes API request failed.

    ``cluster_wide`` is true when the failure is the whole cluster's, not one request's (its API
    refuses the monitor's identity, cannot be reached, or fails TLS): the engine then stops calling
    that cluster for the rest of the scan and raises one finding, with ``fix`` as its remediation.
    """

    fix = ""

    def __init__(self, status: int | None, reason: str, path: str, message: str | None = None) -> None:
        self.status = status
        self.reason = reason
        self.path = path
        super().__init__(message or f"{reason}: {path}" + (f" (HTTP {status})" if status else ""))

    @property
    def cluster_wide(self) -> bool:
        return False


class KubeUnauthorized(KubeError):
    """401: the cluster does not know the monitor's identity (no access entry / aws-auth mapping)."""

    fix = ACCESS_FIX

    @property
    def cluster_wide(self) -> bool:
        return True


class KubeForbidden(KubeError):
    """403: the identity is known but the ClusterRole lacks a permission; the message names it."""

    def __init__(
        self, status: int | None, reason: str, path: str, message: str | None = None, permission: str = ""
    ) -> None:
        self.permission = permission
        super().__init__(status, reason, path, message)


class KubeNotFound(KubeError):
    """404: the object (or the API) does not exist in this cluster."""


class KubeGone(KubeError):
    """410: a list's continue token expired before the list was read to the end."""


class KubeServerError(KubeError):
    """429 or 5xx still failing after the bounded retries, or another unexpected status."""


class KubeTimeout(KubeError):
    """No answer within the request timeout."""

    fix = NETWORK_FIX

    @property
    def cluster_wide(self) -> bool:
        return self.reason == "ConnectTimeout"  # no connection at all; a slow answer is one request's


class KubeConnectionError(KubeError):
    """The connection could not be made or was reset, after the bounded retries."""

    fix = NETWORK_FIX

    @property
    def cluster_wide(self) -> bool:
        return True


class KubeListUnbounded(KubeError):
    """A list that does not end: its ``continue`` token came back, or it passed ``kubernetes.max_list_pages``.

    Cluster-wide: an apiserver (or a proxy in front of it) that hands out endless continue tokens
    does it to every list, so after one endless list the cluster is not asked again in this scan.
    """

    fix = (
        "The cluster's API (or a proxy in front of it) kept handing out continue tokens: check it with "
        "`kubectl get --raw '/api/v1/pods?limit=500'`. If the cluster really holds that many objects, "
        "raise kubernetes.max_list_pages."
    )

    @property
    def cluster_wide(self) -> bool:
        return True


class KubeCredentialError(KubeError):
    """The kubeconfig user's exec credential plugin failed, hung, or printed no usable ExecCredential.

    The message names the plugin's command and its trimmed stderr (never a token); ``plugin`` is the
    command line as shown.
    """

    def __init__(
        self, status: int | None, reason: str, path: str, message: str | None = None, plugin: str = ""
    ) -> None:
        self.plugin = plugin
        self.fix = (
            f"Run the credential plugin yourself (`{plugin}`) and fix what it says (for AWS SSO: "
            "`aws sso login`); it must print an ExecCredential with status.token within "
            "kubernetes.exec_timeout_seconds."
        )
        super().__init__(status, reason, path, message)

    @property
    def cluster_wide(self) -> bool:
        return True


class KubeBadBody(KubeError):
    """An answer that was received but cannot be read (``/metrics`` past a parser limit, not the format)."""


class KubeTLSError(KubeError):
    """The endpoint's certificate is not signed by the cluster's CA (or the handshake failed)."""

    fix = TLS_FIX

    @property
    def cluster_wide(self) -> bool:
        return True


class KubeUnavailable(KubeError):
    """The cluster has no API endpoint to reach (e.g. still CREATING)."""

    fix = "The Kubernetes checks run again once the cluster is ACTIVE with an API endpoint."

    @property
    def cluster_wide(self) -> bool:
        return True


class KubernetesDisabled(RuntimeError):
    """Kubernetes access is turned off (``kubernetes.enabled: false`` or ``--no-kubernetes``)."""


class KubeconfigError(ConfigError):
    """A kubeconfig that cannot be used; the message names the file, context and key (CLI exit 2)."""


def error_for_status(
    status: int,
    path: str,
    *,
    method: str = "GET",
    server_message: str = "",
    server_reason: str = "",
    attempts: int = 1,
) -> KubeError:
    """The error for an HTTP error answer, with a message that says what to fix."""
    attrs = request_attributes(path, method)
    permission = attrs.describe()
    if status == 401:
        return KubeUnauthorized(
            status,
            "Unauthorized",
            path,
            f"unauthorized: the cluster did not accept the monitor's IAM identity for {method} {path} "
            "(no EKS access entry or aws-auth mapping for the monitor's role, or an expired token)",
        )
    if status == 403:
        return KubeForbidden(
            status,
            "Forbidden",
            path,
            f"forbidden: {permission} (add it to the monitor's {'Role' if attrs.namespace else 'ClusterRole'}, "
            "see `eksmon rbac`)",
            permission=permission,
        )
    if status == 404:
        return KubeNotFound(status, "NotFound", path, f"not found: {method} {path}")
    if status == 410:
        return KubeGone(
            status,
            server_reason or "Expired",
            path,
            f"gone: the continue token of {permission} expired before the list was read to the end; "
            "the next run starts a new list",
        )
    detail = f": {server_message[:300]}" if server_message else ""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if status == 429:
        return KubeServerError(
            status,
            server_reason or "TooManyRequests",
            path,
            f"throttled: the apiserver kept answering 429 to {method} {path}{tries}{detail}",
        )
    return KubeServerError(
        status,
        server_reason or f"HTTP{status}",
        path,
        f"the apiserver answered {status} to {method} {path}{tries}{detail}",
    )
