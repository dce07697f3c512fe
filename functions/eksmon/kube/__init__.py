"""Read-only access to each cluster's Kubernetes API, for the Lambdas and the CLI.

How a collector reads the cluster::

    from eksmon.parts import ClusterInfo
    from eksmon.kube import kube_client
    from eksmon.registry import KubePermission, collector

    @collector(provides=Webhooks, needs=(ClusterInfo,),
               kube=(KubePermission("admissionregistration.k8s.io", "validatingwebhookconfigurations"),))
    def webhooks(ctx):
        client = kube_client(ctx)  # == ctx.services.kubernetes(ctx)
        for item in client.list("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"):
            ...

* ``client.get(path) -> dict``; ``client.list(path, fields=None, labels=None) -> Iterator[dict]``
  (paged with ``limit``/``continue``, ``settings.kubernetes.page_size`` per request, one page held
  at a time, at most ``settings.kubernetes.max_list_pages`` pages, a repeated ``continue`` token
  ends it); ``client.stream("/metrics") -> Iterator[bytes]`` (64 KiB chunks). Per-request timeout
  ``settings.kubernetes.timeout_seconds``; bounded retries on connection errors, 429 and 5xx only.
* Failures are :class:`KubeError` subclasses (``KubeForbidden`` names the missing permission,
  ``KubeUnauthorized`` says the access entry is missing, ``KubeTimeout``, ``KubeConnectionError``
  with reason ``ConnectionRefused``/``ConnectionReset``, ``KubeTLSError``, ``KubeListUnbounded``,
  ``KubeNotFound`` for an absent object, ``KubeCredentialError`` when a kubeconfig user's exec
  credential plugin fails, hangs or prints no ExecCredential); a collector lets them propagate and
  the engine reports a ``monitor.collection_error`` naming them, or catches ``KubeNotFound`` where
  an absent object is normal (no aws-auth ConfigMap on an API-only cluster). A cluster that refuses
  the monitor's identity, cannot be reached, has no working credential plugin, or hands out an
  endless list is one ``monitor.collection_error`` (resource ``source/kubernetes``): after that
  first failure the engine stops calling it for the rest of the scan.
* Declare every permission in ``kube=``: it is the generated RBAC (a ClusterRole, plus a Role in
  ``kube-system`` for ``KubePermission(..., namespace="kube-system", names=(...))``), and the
  simulator's Kubernetes stand-in allows exactly those, so a forgotten one fails in the tests as in
  a cluster.
* A collector declares ``needs=(ClusterInfo,)``: the default access reads the endpoint and CA
  from it. The IAM token is made as ``aws eks get-token`` makes it (:mod:`eksmon.kube.token`).

Kubernetes switched off (``kubernetes.enabled: false``, ``eksmon scan --no-kubernetes``):
:func:`kube_client` raises :class:`KubernetesDisabled` before any I/O. The design is that the
engine does not run collectors that read the cluster: a collector reads the cluster exactly when
it declares ``kube=`` permissions (:func:`needs_kubernetes`), so the engine skips those when
:func:`kubernetes_enabled` is false, and the checks that need their parts are skipped like for
any missing part -- no finding, no noise. Where a collector is run anyway, it either catches
``KubernetesDisabled`` and returns a part that says "skipped", or lets it propagate, which the
engine reports as a collection error: a visible bug, never a silent read of a cluster the
operator asked not to touch.

Every request goes through the official ``kubernetes`` client (:mod:`eksmon.kube.client`), imported
when the first cluster is reached: from DescribeCluster's endpoint and CA with the EKS IAM token as
bearer token (``refresh_api_key_hook``), or with ``--kubeconfig``/``--kube-context`` through
``kubernetes.config`` (clusters, CAs, certificates, static tokens) with an exec credential plugin run
by :mod:`eksmon.kube.exec_plugin` (bounded, scoped to its cluster, its token cached). What this
package keeps is the IAM token (:mod:`eksmon.kube.token`), the plugin runner, the errors that name
what to fix, and the glue.
"""

from eksmon.kube.access import (
    KubernetesAccess,
    cli_services,
    default_access,
    kube_client,
    kubernetes_enabled,
    needs_kubernetes,
)
from eksmon.kube.client import CHUNK_SIZE, KubeClient, kubernetes_client
from eksmon.kube.errors import (
    KubeBadBody,
    KubeconfigError,
    KubeConnectionError,
    KubeCredentialError,
    KubeError,
    KubeForbidden,
    KubeGone,
    KubeListUnbounded,
    KubeNotFound,
    KubernetesDisabled,
    KubeServerError,
    KubeTimeout,
    KubeTLSError,
    KubeUnauthorized,
    KubeUnavailable,
)
from eksmon.kube.paths import RequestAttributes, request_attributes
from eksmon.kube.token import TOKENS, IamToken, TokenCache, decode_token, encode_token, get_token, presigner

__all__ = [
    "CHUNK_SIZE",
    "TOKENS",
    "IamToken",
    "KubeBadBody",
    "KubeClient",
    "KubeConnectionError",
    "KubeCredentialError",
    "KubeError",
    "KubeForbidden",
    "KubeGone",
    "KubeListUnbounded",
    "KubeNotFound",
    "KubeServerError",
    "KubeTLSError",
    "KubeTimeout",
    "KubeUnauthorized",
    "KubeUnavailable",
    "KubeconfigError",
    "KubernetesAccess",
    "KubernetesDisabled",
    "RequestAttributes",
    "TokenCache",
    "cli_services",
    "decode_token",
    "default_access",
    "encode_token",
    "get_token",
    "kube_client",
    "kubernetes_client",
    "kubernetes_enabled",
    "needs_kubernetes",
    "presigner",
    "request_attributes",
]
