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
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import datetime as dt
import fnmatch
import gzip
import hmac
import json
import logging
import re
import socket
import ssl
import struct
import threading
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from eksmon.kube.paths import RequestAttributes, request_attributes
from eksmon.kube.token import CLUSTER_ID_HEADER, decode_token
from eksmon.registry import KubeNonResource, KubePermission
from eksmon.sim import k8s_objects as k8s
from eksmon.sim.dumps import read_dump
from eksmon.sim.k8s_objects import KINDS, Kind, kind_for
from eksmon.sim.server import ACCESS_KEY, SECRET_KEY, Extension, SimRequest, Simulator
from eksmon.sim.tls import CertificateAuthority

log = logging.getLogger(__name__)

Permission = KubePermission | KubeNonResource
MetricsSource = bytes | Callable[[], Iterable[bytes | str]]

TOKEN_MAX_AGE = dt.timedelta(minutes=15)
CLOCK_SKEW = dt.timedelta(minutes=5)
GZIP_THRESHOLD = 128 * 1024
CHUNK = 64 * 1024
REQUEST_LOG = 10_000
CREATED = "2025-09-01T08:00:00Z"
METRICS_FIXTURE = "kube-apiserver-metrics-1_31.prom"  # shipped in eksmon/sim/data/metrics
# system:discovery and system:public-info-viewer, bound to every authenticated user
PUBLIC_URLS = (
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/version",
    "/version/",
    "/healthz",
    "/livez",
    "/readyz",
    "/openapi/*",
    "/.well-known/openid-configuration",
    "/openid/v1/jwks",
)
PATCH_VERSIONS = {"28": 15, "29": 13, "30": 11, "31": 10, "32": 6, "33": 4, "34": 2, "35": 1, "36": 0}


# -- the IAM token, as EKS's authenticator checks it --------------------------------------------------
class TokenRejected(Exception):
    """Why a bearer token is refused (only in the request log: the answer is a bare 401)."""


@dataclass(frozen=True)
class Caller:
    arn: str
    access_key: str
    signature_checked: bool


def _secret_for(access_key: str) -> tuple[str, str] | None:
    """(secret key, principal ARN) for a key the simulator issued; None for a key it cannot know."""
    from moto.core.models import DEFAULT_ACCOUNT_ID

    if access_key == ACCESS_KEY:
        return SECRET_KEY, f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/eksmon-simulator"
    try:
        from moto.iam.models import iam_backends
    except ImportError:  # pragma: no cover - moto is always there in the simulator
        return None
    for account_id, backends in list(iam_backends.items()):
        for partition in ("aws", "aws-cn", "aws-us-gov"):
            try:
                keys = backends[partition].access_keys
            except KeyError:
                continue
            key = keys.get(access_key) if isinstance(keys, dict) else None
            if key is not None:
                role = getattr(key, "role_arn", None)
                arn = (
                    f"arn:aws:sts::{account_id}:assumed-role/{role.rsplit('/', 1)[-1]}/eksmon"
                    if role
                    else f"arn:aws:iam::{account_id}:user/{access_key}"
                )
                return str(key.secret_access_key), arn
    return None


def verify_token(authorization: str | None, cluster: str, now: dt.datetime | None = None) -> Caller:
    """The caller behind an ``Authorization: Bearer k8s-aws-v1.…`` header, or TokenRejected."""
    if not authorization or not authorization.startswith("Bearer "):
        raise TokenRejected("no bearer token")
    try:
        url = decode_token(authorization[len("Bearer ") :].strip())
    except ValueError as exc:
        raise TokenRejected(str(exc)) from None
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if parts.scheme not in ("https", "http") or parts.path not in ("", "/") or not parts.netloc:
        raise TokenRejected("not a presigned STS URL")
    if params.get("Action") != "GetCallerIdentity" or params.get("Version") != "2011-06-15":
        raise TokenRejected("not a GetCallerIdentity request")
    if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or not params.get("X-Amz-Signature"):
        raise TokenRejected("not SigV4-presigned")
    scope = params.get("X-Amz-Credential", "").split("/")
    if len(scope) != 5 or scope[3] != "sts" or scope[4] != "aws4_request":
        raise TokenRejected("credential scope is not sts")
    signed = params.get("X-Amz-SignedHeaders", "").split(";")
    if CLUSTER_ID_HEADER not in signed or "host" not in signed:
        raise TokenRejected(f"{CLUSTER_ID_HEADER} is not a signed header")
    try:
        signed_at = dt.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        expires = int(params["X-Amz-Expires"])
    except (KeyError, ValueError):
        raise TokenRejected("bad X-Amz-Date or X-Amz-Expires") from None
    now = now or dt.datetime.now(dt.UTC)
    if now - signed_at > TOKEN_MAX_AGE:
        raise TokenRejected("X-Amz-Date is older than 15 minutes")
    if signed_at - now > CLOCK_SKEW or not 0 < expires <= 900:
        raise TokenRejected("X-Amz-Date in the future or bad X-Amz-Expires")
    known = _secret_for(scope[0])
    if known is None or not set(signed) <= {"host", CLUSTER_ID_HEADER}:
        return Caller(f"arn:aws:iam::000000000000:user/{scope[0]}", scope[0], signature_checked=False)
    secret, arn = known
    if not hmac.compare_digest(_signature(parts, params, secret, cluster), params["X-Amz-Signature"]):
        raise TokenRejected(
            f"signature does not match {CLUSTER_ID_HEADER}: {cluster} (a token for another cluster?)"
        )
    return Caller(arn, scope[0], signature_checked=True)


def _signature(parts: Any, params: dict[str, str], secret: str, cluster: str) -> str:
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    query = "&".join(p for p in parts.query.split("&") if not p.startswith("X-Amz-Signature="))
    scope = params["X-Amz-Credential"].split("/")
    request = AWSRequest(
        method="GET",
        url=f"{parts.scheme}://{parts.netloc}{parts.path or '/'}?{query}",
        headers={CLUSTER_ID_HEADER: cluster},
    )
    request.context["timestamp"] = params["X-Amz-Date"]
    auth = SigV4QueryAuth(
        Credentials(scope[0], secret), scope[3], scope[2], expires=int(params["X-Amz-Expires"])
    )
    canonical = auth.canonical_request(request)
    return str(auth.signature(auth.string_to_sign(request, canonical), request))


# -- RBAC ---------------------------------------------------------------------------------------------
def registry_permissions() -> list[Permission]:
    """The ClusterRole eksmon generates: every collector's ``kube=`` permissions, plus get /metrics."""
    from eksmon.registry import load

    registry = load()
    perms: list[Permission] = list(registry.kube_permissions(registry.checks.values()))
    if not any(isinstance(p, KubeNonResource) and p.url == "/metrics" for p in perms):
        perms.append(KubeNonResource("/metrics"))
    return perms


def allows(permissions: Iterable[Permission], attrs: RequestAttributes) -> bool:
    """Would this RBAC allow the request? Secrets: never.

    As kube-apiserver's RBAC authoriser: a permission without ``namespace`` is a ClusterRole rule
    (every namespace); one with a ``namespace`` is a Role rule there only; ``names``
    (``resourceNames``) match only requests for one of those objects (so never a list).
    """
    if attrs.resource_request:
        if attrs.group == "" and attrs.resource == "secrets":
            return False
        wanted = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        return any(
            isinstance(p, KubePermission)
            and p.api_group in (attrs.group, "*")
            and p.resource in (wanted, "*")
            and (attrs.verb in p.verbs or "*" in p.verbs)
            and (not p.namespace or p.namespace == attrs.namespace)
            and (not p.names or attrs.name in p.names)
            for p in permissions
        )
    if attrs.verb == "get" and any(_url_match(u, attrs.path) for u in PUBLIC_URLS):
        return True
    return any(
        isinstance(p, KubeNonResource)
        and _url_match(p.url, attrs.path)
        and (attrs.verb in p.verbs or "*" in p.verbs)
        for p in permissions
    )


def _url_match(pattern: str, path: str) -> bool:
    return path == pattern or (pattern.endswith("*") and path.startswith(pattern[:-1]))


# -- one cluster --------------------------------------------------------------------------------------
@dataclass
class KubeFault:
    """``reset`` the connection, answer ``slow``ly, or with a ``status``; for ``times`` requests (None: all)."""

    kind: str  # reset | slow | status | endless
    path: str | None = None  # glob on the API path (no endpoint prefix, no query); None: every path
    status: int = 500
    seconds: float = 0.0
    times: int | None = None
    retry_after: float | None = None
    message: str = "injected by the simulator"
    hits: int = 0

    def matches(self, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


@dataclass(frozen=True)
class KubeRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int  # 0: connection reset
    caller: str | None
    note: str = ""


class KubeCluster:
    """One simulated cluster's API server: its objects, ``/metrics``, RBAC and faults. Thread-safe."""

    def __init__(self, account: str, region: str, name: str, version: str = "1.31") -> None:
        self.account, self.region, self.name, self.version = account, region, name, version
        self.permissions: list[Permission] | None = None  # None: exactly the registry's ClusterRole
        self.access_entry = True  # False: every token gets 401, as without an EKS access entry
        self.faults: list[KubeFault] = []
        self.requests: deque[KubeRequest] = deque(maxlen=REQUEST_LOG)
        self._lock = threading.RLock()
        self._objects: dict[str, dict[tuple[str, str], k8s.Obj]] = {}
        self._sorted: dict[str, list[tuple[str, str]]] = {}
        self._rv = 1000
        self._compacted = 0
        self._metrics: MetricsSource | None = None

    def __repr__(self) -> str:
        return f"KubeCluster({self.account}/{self.region}/{self.name})"

    # -- objects ---------------------------------------------------------------------------------
    def add(self, kind: str, obj: k8s.Obj) -> k8s.Obj:
        """Store (or replace) an object of ``kind``; fills uid, resourceVersion, creationTimestamp."""
        with self._lock:
            return self._add(kind, obj)

    def add_many(self, kind: str, objs: Iterable[k8s.Obj]) -> int:
        with self._lock:
            return sum(1 for o in objs if self._add(kind, o))

    def _add(self, kind: str, obj: k8s.Obj) -> k8s.Obj:
        info = _kind(kind)
        metadata = dict(obj.get("metadata") or {})
        if not metadata.get("name"):
            raise ValueError(f"a {kind} needs metadata.name")
        if info.namespaced:
            metadata.setdefault("namespace", "default")
        else:
            metadata.pop("namespace", None)
        key = (str(metadata.get("namespace", "")), str(metadata["name"]))
        self._rv += 1
        metadata.setdefault(
            "uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.name}/{kind}/{key[0]}/{key[1]}"))
        )
        metadata["resourceVersion"] = str(self._rv)
        metadata.setdefault("creationTimestamp", CREATED)
        stored = {"apiVersion": info.api_version, "kind": info.kind, **obj, "metadata": metadata}
        bucket = self._objects.setdefault(kind, {})
        if key not in bucket:
            self._sorted.pop(kind, None)
        bucket[key] = stored
        return stored

    def remove(self, kind: str, name: str, namespace: str | None = None) -> bool:
        key = ((namespace or "default") if _kind(kind).namespaced else "", name)
        with self._lock:
            found = self._objects.get(kind, {}).pop(key, None)
            if found is not None:
                self._rv += 1
                self._sorted.pop(kind, None)
            return found is not None

    def get(self, kind: str, name: str, namespace: str | None = None) -> k8s.Obj | None:
        ns = (namespace or "default") if _kind(kind).namespaced else ""
        with self._lock:
            return self._objects.get(kind, {}).get((ns, name))

    def objects(self, kind: str) -> list[k8s.Obj]:
        with self._lock:
            bucket = self._objects.get(kind, {})
            return [bucket[k] for k in self._keys(kind)]

    def count(self, kind: str) -> int:
        with self._lock:
            return len(self._objects.get(kind, {}))

    def clear(self, kind: str | None = None) -> None:
        with self._lock:
            if kind is None:
                self._objects.clear()
                self._sorted.clear()
            else:
                self._objects.pop(kind, None)
                self._sorted.pop(kind, None)
            self._rv += 1

    def compact(self) -> None:
        """Every continue token handed out so far expires (410 Gone), as after an etcd compaction."""
        with self._lock:
            self._rv += 1
            self._compacted = self._rv

    @property
    def resource_version(self) -> int:
        return self._rv

    def _keys(self, kind: str) -> list[tuple[str, str]]:
        keys = self._sorted.get(kind)
        if keys is None:
            keys = sorted(self._objects.get(kind, {}))
            self._sorted[kind] = keys
        return keys

    # -- /metrics --------------------------------------------------------------------------------
    def set_metrics(self, source: str | MetricsSource | None) -> None:
        """Prometheus text (str/bytes), or a callable returning chunks (for tens of MB); None: default."""
        with self._lock:
            self._metrics = source.encode() if isinstance(source, str) else source

    def metrics_source(self) -> MetricsSource:
        with self._lock:
            return self._metrics if self._metrics is not None else default_metrics()

    # -- faults ----------------------------------------------------------------------------------
    def unreachable(self, path: str | None = None, times: int | None = None) -> KubeFault:
        """Reset the TCP connection instead of answering."""
        return self._fault(KubeFault("reset", path, times=times))

    def slow(self, seconds: float, path: str | None = None, times: int | None = None) -> KubeFault:
        """Answer only after ``seconds`` (the stand-in's stop cuts the wait short)."""
        return self._fault(KubeFault("slow", path, seconds=seconds, times=times))

    def fail(
        self,
        status: int,
        path: str | None = None,
        times: int | None = None,
        retry_after: float | None = None,
        message: str = "injected by the simulator",
    ) -> KubeFault:
        """Answer ``status`` with a Kubernetes Status body (and ``Retry-After`` if given)."""
        return self._fault(
            KubeFault("status", path, status=status, times=times, retry_after=retry_after, message=message)
        )

    def endless_list(
        self, path: str | None = None, repeat: bool = True, times: int | None = None
    ) -> KubeFault:
        """Lists never end: every page carries a ``continue`` token -- the same one again (``repeat``)
        or a new one each time -- whatever token was sent, as a broken apiserver or proxy would."""
        return self._fault(KubeFault("endless" if repeat else "endless-new", path, times=times))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _fault(self, fault: KubeFault) -> KubeFault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, path: str) -> KubeFault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(path):
                    fault.hits += 1
                    return fault
        return None

    def paths_requested(self, prefix: str = "") -> list[str]:
        return [r.path for r in list(self.requests) if r.path.startswith(prefix)]

    # -- serving ---------------------------------------------------------------------------------
    def list_page(self, info: Kind, namespace: str, query: dict[str, str]) -> tuple[int, k8s.Obj]:
        """(status, body) of one list request."""
        try:
            limit = int(query.get("limit") or 0)
            fields = _field_selector(query.get("fieldSelector", ""))
            labels = _label_selector(query.get("labelSelector", ""))
        except ValueError as exc:
            return 400, status_doc(400, "BadRequest", str(exc))
        token = query.get("continue")
        with self._lock:
            keys = self._keys(info.kind)
            bucket = self._objects.get(info.kind, {})
            list_rv = self._rv
            start = bisect.bisect_left(keys, (namespace, "")) if namespace else 0
            if token:
                try:
                    decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
                    list_rv, after = int(decoded["rv"]), (str(decoded["start"][0]), str(decoded["start"][1]))
                except (ValueError, KeyError, TypeError, IndexError):
                    return 400, status_doc(400, "BadRequest", "continue key is not valid")
                if list_rv < self._compacted:
                    return 410, status_doc(410, "Expired", _EXPIRED)
                start = bisect.bisect_right(keys, after)
            items: list[k8s.Obj] = []
            i = start
            while (
                i < len(keys)
                and (not namespace or keys[i][0] == namespace)
                and (limit <= 0 or len(items) < limit)
            ):
                obj = bucket[keys[i]]
                if _matches(obj, fields, labels):
                    items.append(obj)
                i += 1
            more = i < len(keys) and (not namespace or keys[i][0] == namespace)
            end = bisect.bisect_left(keys, (namespace + "\x00", "")) if namespace else len(keys)
            remaining = end - i
            last = keys[i - 1] if i > start else None
        meta: k8s.Obj = {"resourceVersion": str(list_rv)}
        if more and limit > 0 and last is not None:
            meta["continue"] = (
                base64.urlsafe_b64encode(json.dumps({"rv": list_rv, "start": list(last)}).encode())
                .decode()
                .rstrip("=")
            )
            if not fields and not labels:
                meta["remainingItemCount"] = remaining
        body = {
            "kind": info.list_kind,
            "apiVersion": info.api_version,
            "metadata": meta,
            "items": [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in items],
        }
        return 200, body


_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(
            f"unknown kind {kind!r}; known: {', '.join(sorted(KINDS))} (or k8s.register_kind)"
        ) from None


def status_doc(code: int, reason: str, message: str, details: k8s.Obj | None = None) -> k8s.Obj:
    doc: k8s.Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        doc["details"] = details
    return doc


def _field_selector(text: str) -> list[tuple[str, str, bool]]:
    out = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        m = re.fullmatch(r"([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)", term)
        if m is None:
            raise ValueError(f"invalid field selector: {term!r}")
        out.append((m.group(1), m.group(3), m.group(2) != "!="))
    return out


_LABEL_TERM = re.compile(
    r"\s*(!?)([A-Za-z0-9_./-]+)\s*(?:(==|!=|=)\s*([A-Za-z0-9_.-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*"
)


def _label_selector(text: str) -> list[tuple[str, str, set[str]]]:
    """(key, op, values) with op one of exists, !exists, in, notin."""
    out: list[tuple[str, str, set[str]]] = []
    for term in filter(None, (t for t in re.split(r",(?![^()]*\))", text))):
        m = _LABEL_TERM.fullmatch(term)
        if m is None:
            raise ValueError(f"invalid label selector: {term!r}")
        bang, key, eq, value, setop, values = m.groups()
        if bang:
            out.append((key, "!exists", set()))
        elif eq:
            out.append((key, "notin" if eq == "!=" else "in", {value}))
        elif setop:
            out.append((key, setop, {v.strip() for v in values.split(",") if v.strip()}))
        else:
            out.append((key, "exists", set()))
    return out


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _matches(
    obj: k8s.Obj, fields: list[tuple[str, str, bool]], labels: list[tuple[str, str, set[str]]]
) -> bool:
    for path, value, equal in fields:
        found = _dig(obj, path)
        if (str(found if found is not None else "") == value) != equal:
            return False
    obj_labels = (obj.get("metadata") or {}).get("labels") or {}
    for key, op, values in labels:
        present = key in obj_labels
        if (
            (op == "exists" and not present)
            or (op == "!exists" and present)
            or (op == "in" and (not present or obj_labels[key] not in values))
            or (op == "notin" and present and obj_labels[key] in values)
        ):
            return False
    return True


def default_metrics() -> bytes:
    """The real kube-apiserver v1.31 dump shipped with the simulator (decompressed once per process)."""
    return read_dump(METRICS_FIXTURE)


# -- HTTP ---------------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, api: KubernetesApi, context: ssl.SSLContext) -> None:
        self.api = api
        self.tls = context
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(30)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle/delayed-ACK stalls
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return  # a client that refuses our CA, or a port probe
        with self.connections_lock:
            self.connections.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)  # type: ignore[arg-type]
        except OSError:
            pass  # the client went away (timed out, reset): nothing to answer
        finally:
            with self.connections_lock:
                self.connections.discard(conn)
            conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("Kubernetes stand-in failed on a request from %s", client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # set per request: the cluster's request log is written before the answer leaves, so a client
    # that has its answer always finds its request in the log
    record: Callable[[int], None] | None = None
    caller: str | None = None
    note: str = ""

    def do_GET(self) -> None:
        self.record, self.caller, self.note = None, None, ""
        self.server.api.serve(self)

    def send_response(self, code: int, message: str | None = None) -> None:
        record, self.record = self.record, None
        if record is not None:
            record(code)
        super().send_response(code, message)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """No access log; the cluster's ``requests`` record what matters."""

    def version_string(self) -> str:
        return "kube-apiserver-stand-in"

    # -- answers ---------------------------------------------------------------------------------
    def gzip_ok(self) -> bool:
        return "gzip" in (self.headers.get("Accept-Encoding") or "")

    def send_bytes(
        self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        extra = dict(headers or {})
        if self.gzip_ok() and len(body) > GZIP_THRESHOLD:
            body = gzip.compress(body, 5)
            extra["Content-Encoding"] = "gzip"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, "application/json", json.dumps(doc, separators=(",", ":")).encode(), headers)

    def send_stream(self, content_type: str, chunks: Iterable[bytes | str]) -> None:
        """Chunked transfer, gzip-compressed when the client accepts it (as promhttp does)."""
        compress = zlib.compressobj(5, zlib.DEFLATED, 31) if self.gzip_ok() else None
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        if compress is not None:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        for chunk in chunks:
            data = chunk.encode() if isinstance(chunk, str) else chunk
            if compress is not None:
                data = compress.compress(data)
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        if compress is not None:
            tail = compress.flush()
            if tail:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(tail), tail))
        self.wfile.write(b"0\r\n\r\n")

    def reset(self) -> None:
        """Close with TCP RST (SO_LINGER 0), as a dropped connection looks to the client."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# -- the extension ------------------------------------------------------------------------------------
class KubernetesApi(Extension):
    """The simulator extension that owns the stand-in server and every simulated cluster's API."""

    service = ""  # never sees AWS requests
    seed_order = 20  # after EKS (10): the clusters exist

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.clusters: dict[tuple[str, str, str], KubeCluster] = {}
        self.ca: CertificateAuthority | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        """Start the HTTPS server (idempotent); returns its base URL."""
        with self._lock:
            if self._server is None:
                self.ca = self.ca or CertificateAuthority()
                self._server = _Server(self, self.ca.server_context())
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

    # -- serving -----------------------------------------------------------------------------------
    def serve(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            h.rfile.read(length)
        m = re.fullmatch(r"/clusters/([^/]+)/([^/]+)/([^/]+)(/.*)?", split.path)
        cluster = self.clusters.get(m.group(1, 2, 3)) if m else None  # type: ignore[arg-type]
        if m is None or cluster is None:
            h.send_bytes(404, "text/plain", b"404 page not found\n")
            return
        path = m.group(4) or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        h.record = lambda status: cluster.requests.append(
            KubeRequest(h.command, path, query, status, h.caller, h.note)
        )
        self._answer(h, cluster, path, query)
        if h.record is not None:  # nothing was sent: the connection was reset
            h.record(0)

    def _answer(self, h: _Handler, cluster: KubeCluster, path: str, query: dict[str, str]) -> None:
        fault = cluster.take_fault(path)
        if fault is not None and fault.kind == "reset":
            h.note = "reset"
            h.reset()
            return
        if fault is not None and fault.kind == "slow":
            server = self._server
            if server is not None and server.stopping.wait(fault.seconds):
                h.note = "stopped"
                h.reset()
                return
        if fault is not None and fault.kind == "status":
            h.note = "fault"
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
            h.send_json(fault.status, status_doc(fault.status, _reason(fault.status), fault.message), headers)
            return
        try:
            if not cluster.access_entry:
                raise TokenRejected("no access entry for the caller")
            caller = verify_token(h.headers.get("Authorization"), cluster.name)
        except TokenRejected as exc:
            h.note = str(exc)
            h.send_json(401, status_doc(401, "Unauthorized", "Unauthorized"))
            return
        h.caller = caller.arn
        attrs = request_attributes(path, h.command, watch=query.get("watch") in ("true", "1"))
        permissions = cluster.permissions if cluster.permissions is not None else registry_permissions()
        if not allows(permissions, attrs):
            h.note = attrs.describe()
            h.send_json(403, _forbidden(caller, attrs))
            return
        if fault is not None and fault.kind.startswith("endless") and attrs.verb == "list":
            info = kind_for(attrs.group, attrs.version, attrs.resource)
            if info is not None:
                h.note = "endless"
                status, body = cluster.list_page(info, attrs.namespace, {**query, "continue": ""})
                token = "endless" if fault.kind == "endless" else f"endless-{fault.hits}"
                body["metadata"] = {**body["metadata"], "continue": token}
                h.send_json(status, body)
                return
        self._route(h, cluster, attrs, query)

    def _route(
        self, h: _Handler, cluster: KubeCluster, attrs: RequestAttributes, query: dict[str, str]
    ) -> int:
        if not attrs.resource_request:
            return self._non_resource(h, cluster, attrs.path)
        if attrs.verb not in ("get", "list"):
            h.send_json(405, status_doc(405, "MethodNotAllowed", f"the stand-in is read-only: {attrs.verb}"))
            return 405
        info = kind_for(attrs.group, attrs.version, attrs.resource)
        if info is None or (attrs.namespace and not info.namespaced and attrs.resource != "namespaces"):
            h.send_json(404, status_doc(404, "NotFound", "the server could not find the requested resource"))
            return 404
        if attrs.verb == "list":
            status, body = cluster.list_page(info, attrs.namespace, query)
            h.send_json(status, body)
            return status
        obj = None if attrs.subresource else cluster.get(info.kind, attrs.name, attrs.namespace or None)
        if obj is None:
            h.send_json(
                404,
                status_doc(
                    404,
                    "NotFound",
                    f'{attrs.qualified_resource} "{attrs.name}" not found',
                    {"name": attrs.name, "group": attrs.group, "kind": attrs.resource},
                ),
            )
            return 404
        h.send_json(200, obj)
        return 200

    def _non_resource(self, h: _Handler, cluster: KubeCluster, path: str) -> int:
        if path == "/metrics":
            source = cluster.metrics_source()
            content_type = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"
            if isinstance(source, bytes):
                h.send_bytes(200, content_type, source)
            else:
                h.send_stream(content_type, source())
            return 200
        if path in ("/version", "/version/"):
            h.send_json(200, version_doc(cluster.version, cluster.name))
            return 200
        if path in ("/healthz", "/livez", "/readyz"):
            h.send_bytes(200, "text/plain; charset=utf-8", b"ok")
            return 200
        doc = discovery_doc(path)
        if doc is None:
            h.send_json(404, status_doc(404, "NotFound", "the server could not find the requested resource"))
            return 404
        h.send_json(200, doc)
        return 200


def _reason(status: int) -> str:
    return {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        410: "Expired",
        429: "TooManyRequests",
        500: "InternalError",
        503: "ServiceUnavailable",
        504: "Timeout",
    }.get(status, "InternalError")


def _forbidden(caller: Caller, attrs: RequestAttributes) -> k8s.Obj:
    if not attrs.resource_request:
        message = f'forbidden: User "{caller.arn}" cannot {attrs.verb} path "{attrs.path}"'
        return status_doc(403, "Forbidden", message)
    group = f'in API group "{attrs.group}"'
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    name = f' "{attrs.name}"' if attrs.name else ""
    message = (
        f'{attrs.qualified_resource}{name} is forbidden: User "{caller.arn}" cannot {attrs.verb} '
        f'resource "{resource}" {group} {scope}'
    )
    return status_doc(
        403,
        "Forbidden",
        message,
        {"name": attrs.name, "group": attrs.group, "kind": attrs.resource}
        if attrs.name
        else {"group": attrs.group, "kind": attrs.resource},
    )


def version_doc(version: str, cluster: str) -> k8s.Obj:
    major, _, minor = version.partition(".")
    patch = PATCH_VERSIONS.get(minor, 0)
    build = uuid.uuid5(uuid.NAMESPACE_DNS, f"{version}.{cluster}").hex[:7]
    return {
        "major": major,
        "minor": f"{minor}+",
        "gitVersion": f"v{version}.{patch}-eks-{build}",
        "gitCommit": uuid.uuid5(uuid.NAMESPACE_URL, version).hex
        + uuid.uuid5(uuid.NAMESPACE_DNS, version).hex[:8],
        "gitTreeState": "clean",
        "buildDate": "2025-10-14T21:04:22Z",
        "goVersion": "go1.24.6",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def discovery_doc(path: str) -> k8s.Obj | None:
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "172.16.42.10:443"}],
        }
    groups: dict[str, set[str]] = {}
    for k in KINDS.values():
        if k.group:
            groups.setdefault(k.group, set()).add(k.version)
    if path == "/apis":
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": g,
                    "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in sorted(vs)],
                    "preferredVersion": {"groupVersion": f"{g}/{sorted(vs)[-1]}", "version": sorted(vs)[-1]},
                }
                for g, vs in sorted(groups.items())
            ],
        }
    m = re.fullmatch(r"/api/(v1)|/apis/([^/]+)/([^/]+)", path)
    if m is None:
        return None
    group, version = ("", "v1") if m.group(1) else (m.group(2), m.group(3))
    resources = [k for k in KINDS.values() if k.group == group and k.version == version]
    if not resources:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [
            {
                "name": k.resource,
                "singularName": k.singular,
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            }
            for k in resources
        ],
    }


# -- the demo's baseline objects ----------------------------------------------------------------------
def seed_baseline(
    cluster: KubeCluster,
    nodegroups: Sequence[tuple[str, str]] = (),
    addons: dict[str, str] | None = None,
    authentication_mode: str = "API_AND_CONFIG_MAP",
    endpoint: str = "",
    nodes_per_group: int = 2,
) -> None:
    """What every EKS cluster has: system namespaces, nodes, kube-proxy and VPC CNI DaemonSets and
    their pods, CoreDNS, the ``kubernetes`` and ``kube-dns`` Services with EndpointSlices, the
    kube-proxy-config ConfigMap, aws-auth (unless API-only), EKS's pod-identity webhook, and one
    small application. Scenario hazards are added on top by other extensions."""
    region, minor = cluster.region, cluster.version
    zones = [f"{region}a", f"{region}b", f"{region}c"]
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "apps"):
        cluster.add("Namespace", k8s.namespace(ns))
    nodes: list[str] = []
    for group, version in nodegroups:
        for i in range(nodes_per_group):
            name = f"ip-10-0-{len(nodes) + 1}-{10 + i}.{region}.compute.internal"
            patch = PATCH_VERSIONS.get(version.split(".")[1], 0)
            cluster.add(
                "Node",
                k8s.node(
                    name, f"v{version}.{patch}-eks-113cf36", nodegroup=group, zone=zones[len(nodes) % 3]
                ),
            )
            nodes.append(name)
    cni_version = (addons or {}).get("vpc-cni", "v1.20.4-eksbuild.1")
    cluster.add(
        "DaemonSet",
        k8s.aws_node_daemon_set(cni_version, region=region, desired=len(nodes), cluster_endpoint=endpoint),
    )
    cluster.add("DaemonSet", k8s.kube_proxy_daemon_set(minor, region=region, desired=len(nodes)))
    cluster.add("ConfigMap", k8s.kube_proxy_config("iptables"))
    cluster.add(
        "ConfigMap",
        k8s.config_map(
            "kube-system",
            "coredns",
            {"Corefile": _COREFILE},
            {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"},
        ),
    )
    if authentication_mode != "API":
        cluster.add("ConfigMap", k8s.aws_auth([k8s.node_role_mapping(cluster.account)]))
    cluster.add(
        "Service",
        k8s.service(
            "default",
            "kubernetes",
            ports=[("https", 443, 443, "TCP")],
            selector=None,
            cluster_ip="10.100.0.1",
            labels={"component": "apiserver", "provider": "kubernetes"},
        ),
    )
    cluster.add(
        "EndpointSlice",
        k8s.endpoint_slice(
            "default",
            "kubernetes",
            ["172.16.42.10", "172.16.87.23"],
            ports=[("https", 443, "TCP")],
            name="kubernetes",
        ),
    )
    cluster.add(
        "MutatingWebhookConfiguration",
        k8s.webhook_configuration(
            "MutatingWebhookConfiguration",
            "pod-identity-webhook",
            [
                k8s.webhook(
                    "iam-for-pods.amazonaws.com",
                    url="https://127.0.0.1:23443/mutate",
                    rules=[k8s.rule([""], ["v1"], ["pods"], ["CREATE"], "*")],
                    failure_policy="Ignore",
                    timeout_seconds=10,
                    reinvocation_policy="IfNeeded",
                )
            ],
        ),
    )
    for node_name in nodes:
        for ds in ("aws-node", "kube-proxy"):
            image = cluster.get("DaemonSet", ds, "kube-system")["spec"]["template"]["spec"]["containers"]  # type: ignore[index]
            cluster.add(
                "Pod",
                k8s.pod(
                    "kube-system",
                    f"{ds}-{k8s.suffix(ds + node_name)}",
                    [k8s.container(c["name"], c["image"]) for c in image],
                    node_name=node_name,
                    labels={"k8s-app": ds},
                    owner=k8s.owner("DaemonSet", ds),
                    pod_ip=k8s.ip_for(node_name),
                    host_network=True,
                    priority_class="system-node-critical",
                ),
            )
    dns_ips: list[tuple[str, str | None]] = []
    app_ips: list[tuple[str, str | None]] = []
    if nodes:
        coredns_image = f"602401143452.dkr.ecr.{region}.amazonaws.com/eks/coredns:v1.11.4-eksbuild.2"
        cluster.add(
            "Deployment",
            k8s.deployment(
                "kube-system",
                "coredns",
                [k8s.container("coredns", coredns_image)],
                labels={"k8s-app": "kube-dns"},
            ),
        )
        template = k8s.suffix("coredns", 10)
        for i in range(2):
            name = f"coredns-{template}-{k8s.suffix(f'coredns{i}')}"
            p = k8s.pod(
                "kube-system",
                name,
                [k8s.container("coredns", coredns_image, ports=[("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")])],
                node_name=nodes[i % len(nodes)],
                labels={"k8s-app": "kube-dns"},
                owner=k8s.owner("ReplicaSet", f"coredns-{template}"),
                priority_class="system-cluster-critical",
                service_account="coredns",
            )
            cluster.add("Pod", p)
            dns_ips.append((p["status"]["podIP"], name))
        for i in range(2):
            name = f"api-{k8s.suffix('api' + cluster.name, 10)}-{k8s.suffix(f'api{i}{cluster.name}')}"
            p = k8s.pod(
                "apps",
                name,
                [k8s.container("api", "public.ecr.aws/nginx/nginx:1.27", ports=[("http", 8080, "TCP")])],
                node_name=nodes[-1 - i % len(nodes)],
                labels={"app": "api"},
            )
            cluster.add("Pod", p)
            app_ips.append((p["status"]["podIP"], name))
    cluster.add(
        "Service",
        k8s.service(
            "kube-system",
            "kube-dns",
            cluster_ip="10.100.0.10",
            ports=[("dns", 53, 53, "UDP"), ("dns-tcp", 53, 53, "TCP"), ("metrics", 9153, 9153, "TCP")],
            selector={"k8s-app": "kube-dns"},
            labels={"k8s-app": "kube-dns", "eks.amazonaws.com/component": "kube-dns"},
        ),
    )
    cluster.add(
        "EndpointSlice",
        k8s.endpoint_slice(
            "kube-system",
            "kube-dns",
            dns_ips,
            ports=[("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")],
        ),
    )
    cluster.add(
        "Service", k8s.service("apps", "api", ports=[("http", 80, 8080, "TCP")], selector={"app": "api"})
    )
    cluster.add("EndpointSlice", k8s.endpoint_slice("apps", "api", app_ips, ports=[("http", 8080, "TCP")]))


_COREFILE = """.:53 {
    errors
    health {
        lameduck 5s
      }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
"""


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
    "CertificateAuthority",
    "KubeCluster",
    "KubeFault",
    "KubeRequest",
    "KubernetesApi",
    "KubernetesEndpoints",
    "allows",
    "default_metrics",
    "registry_permissions",
    "seed_baseline",
    "verify_token",
]
