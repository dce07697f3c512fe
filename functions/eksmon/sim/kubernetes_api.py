"""The Kubernetes API stand-in: one HTTPS server on 127.0.0.1 serving every simulated cluster.

Endpoint scheme: ``https://127.0.0.1:PORT/clusters/<account>/<region>/<name>`` is what
DescribeCluster returns as the cluster's ``endpoint``; its ``certificateAuthority.data`` is the
base64 PEM of a CA generated at start (the server's certificate for 127.0.0.1 is signed by it).
So the product reaches a simulated cluster exactly as a real one: endpoint + CA + IAM token.

What it checks, as EKS and kube-apiserver would:

* **Authentication** (401): a ``Bearer k8s-aws-v1.…`` token whose presigned URL is an STS
  GetCallerIdentity (``Action``, ``Version``, SigV4 query parameters) with ``x-k8s-aws-id`` among
  the signed headers and an ``X-Amz-Date`` under 15 minutes old. When the signing key is one the
  simulator issued (its own key, or moto's assumed-role / IAM keys) the signature is recomputed
  with ``x-k8s-aws-id: <this cluster's name>``, so a token made for another cluster is refused.
  ``cluster.access_entry = False`` models a role with no access entry (401 for every token).
* **Authorisation** (403): exactly the RBAC eksmon generates -- the union of the ``kube=``
  permissions of every registered collector (``eksmon.registry``) plus ``get /metrics``, the
  namespaced ones (a Role in ``kube-system``, ``resourceNames``) only there and by name -- and the
  discovery URLs every authenticated user may read. Secrets are never readable. A collector that
  forgets to declare a permission therefore fails in the tests as it would in a cluster.
  ``cluster.permissions`` replaces the registry's set for one cluster (an outdated ClusterRole).

What it serves: ``/version``, discovery (``/api``, ``/apis``), any kind of
:data:`eksmon.sim.k8s_objects.KINDS` as a paged list (``limit``/``continue``, ``resourceVersion``,
``remainingItemCount``, field and label selectors, 410 for a continue token older than
``cluster.compact()``) or a single object, and ``/metrics`` (Prometheus text; the real v1.31 dump
shipped in ``eksmon/sim/data/metrics`` by default). Bodies over 128 KiB are gzipped when asked, as
kube-apiserver does.

Seeding and faults, per cluster (``sim.extension(KubernetesApi).cluster(account, region, name)``)::

    c.add("Pod", k8s.pod(...)); c.add_many("Service", services); c.set_metrics(text_or_callable)
    c.unreachable()            # connection reset
    c.slow(30)                 # answer after 30 s (past the client's timeout)
    c.fail(503, path="/api/v1/pods", times=2)   # status override, optionally limited
    c.endless_list("/api/v1/pods")                 # every page has a continue token (repeated)

The parts: :mod:`eksmon.sim.kube_store` (objects, paged lists, resourceVersion, selectors,
compaction), :mod:`eksmon.sim.kube_cluster` (a cluster: store + ``/metrics`` + faults + request
log), :mod:`eksmon.sim.kube_auth` (IAM token and RBAC), :mod:`eksmon.sim.kube_http` (the HTTPS
server and routes), :mod:`eksmon.sim.kube_baseline` (the demo's objects) and :mod:`eksmon.sim.tls`
(the CA). This module is the extension that ties them together, and the names to import.
"""

from __future__ import annotations

import json
import re
import threading

from eksmon.sim.k8s_objects import PATCH_VERSIONS
from eksmon.sim.kube_auth import (
    PUBLIC_URLS,
    Caller,
    Permission,
    TokenRejected,
    allows,
    registry_permissions,
    verify_token,
)
from eksmon.sim.kube_baseline import seed_baseline
from eksmon.sim.kube_cluster import (
    METRICS_FIXTURE,
    KubeCluster,
    KubeFault,
    KubeRequest,
    MetricsSource,
    default_metrics,
)
from eksmon.sim.kube_http import KubeServer, discovery_doc, version_doc
from eksmon.sim.kube_store import ObjectStore, status_doc
from eksmon.sim.server import Extension, SimRequest, Simulator
from eksmon.sim.tls import CertificateAuthority


# -- the extension ------------------------------------------------------------------------------------
class KubernetesApi(Extension):
    """The simulator extension that owns the stand-in server and every simulated cluster's API."""

    service = ""  # never sees AWS requests
    seed_order = 20  # after EKS (10): the clusters exist

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.clusters: dict[tuple[str, str, str], KubeCluster] = {}
        self.ca: CertificateAuthority | None = None
        self._server: KubeServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        """Start the HTTPS server (idempotent); returns its base URL."""
        with self._lock:
            if self._server is None:
                self.ca = self.ca or CertificateAuthority()
                self._server = KubeServer(self.clusters, self.ca.server_context())
                self._thread = threading.Thread(
                    target=self._server.serve_forever,
                    name="eksmon-sim-k8s",
                    kwargs={"poll_interval": 0.1},
                    daemon=True,
                )
                self._thread.start()
            return self._base_url()

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stopping.set()
            server.shutdown()
            server.close_connections()
            server.server_close()

    def reset(self) -> None:
        """Forget every cluster (the server keeps running, with the same CA)."""
        with self._lock:
            self.clusters.clear()

    @property
    def running(self) -> bool:
        return self._server is not None

    def _base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Kubernetes stand-in is not started")
        host, port = self._server.server_address[:2]
        return f"https://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return self._base_url()

    @property
    def ca_pem(self) -> bytes:
        self.start()
        assert self.ca is not None
        return self.ca.pem

    @property
    def ca_b64(self) -> str:
        self.start()
        assert self.ca is not None
        return self.ca.b64

    def endpoint(self, account: str, region: str, name: str) -> str:
        return f"{self.start()}/clusters/{account}/{region}/{name}"

    def cluster(
        self, account: str, region: str, name: str, version: str | None = None, register: bool = True
    ) -> KubeCluster:
        """The cluster's API (made on first use); ``register`` makes DescribeCluster point at it."""
        url = self.endpoint(account, region, name)
        with self._lock:
            found = self.clusters.get((account, region, name))
            if found is None:
                found = KubeCluster(account, region, name, version or "1.31")
                self.clusters[(account, region, name)] = found
            elif version:
                found.version = version
        if register:
            from eksmon.sim.eks import EksExtension

            self.sim.extension(EksExtension).set_kubernetes_endpoint(account, region, name, url, self.ca_b64)
        return found

    # -- demo --------------------------------------------------------------------------------------
    def seed_demo(self, sim: Simulator) -> None:
        from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_FLEET

        self.start()
        for c in DEMO_FLEET:
            cluster = self.cluster(DEMO_ACCOUNT, c.region, c.name, c.version)
            seed_baseline(
                cluster,
                nodegroups=c.nodegroups,
                addons=dict(c.addons),
                authentication_mode=c.authentication_mode,
                endpoint=self.endpoint(DEMO_ACCOUNT, c.region, c.name),
            )


class KubernetesEndpoints(Extension):
    """Points every simulated EKS cluster at the stand-in, so that none resolves to the internet.

    A cluster the demo or a test registered (``KubernetesApi.cluster``) already is; any other
    cluster created through moto gets a stand-in cluster with the baseline objects on its first
    DescribeCluster, and the answer's endpoint and CA are rewritten (EKS's own extension is left
    alone, so a plain moto cluster stays plain in every other field).
    """

    service = "eks"
    seed_order = 21

    def __init__(self, api: KubernetesApi) -> None:
        self.api = api

    def after(self, req: SimRequest, status: int, body: bytes) -> bytes | None:
        m = re.fullmatch(r"/clusters/([^/]+)", req.path)
        if req.method != "GET" or m is None:
            return None
        doc = json.loads(body)
        c = doc.get("cluster") or {}
        base = self.api.start()
        if str(c.get("endpoint") or "").startswith(base + "/"):
            return None
        name = m.group(1)
        key = (req.account, req.region, name)
        fresh = key not in self.api.clusters
        cluster = self.api.cluster(*key, version=c.get("version"), register=False)
        endpoint = self.api.endpoint(*key)
        if fresh:
            seed_baseline(cluster, endpoint=endpoint)
        c["endpoint"] = endpoint
        c["certificateAuthority"] = {"data": self.api.ca_b64}
        return json.dumps(doc).encode()


def install(sim: Simulator) -> None:
    api = KubernetesApi(sim)
    sim.extensions.append(api)
    sim.extensions.append(KubernetesEndpoints(api))


__all__ = [
    "METRICS_FIXTURE",
    "PATCH_VERSIONS",
    "PUBLIC_URLS",
    "Caller",
    "CertificateAuthority",
    "KubeCluster",
    "KubeFault",
    "KubeRequest",
    "KubeServer",
    "KubernetesApi",
    "KubernetesEndpoints",
    "MetricsSource",
    "ObjectStore",
    "Permission",
    "TokenRejected",
    "allows",
    "default_metrics",
    "discovery_doc",
    "registry_permissions",
    "seed_baseline",
    "status_doc",
    "verify_token",
    "version_doc",
]
