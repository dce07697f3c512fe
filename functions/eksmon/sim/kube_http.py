"""The Kubernetes API stand-in's HTTPS server and routes.

One :class:`KubeServer` on 127.0.0.1 serves every simulated cluster under
``/clusters/<account>/<region>/<name>``: TLS with a certificate the simulator's CA
(:mod:`eksmon.sim.tls`) signed, then per request the cluster's faults, authentication and RBAC
(:mod:`eksmon.sim.kube_auth`), and the answer: ``/version``, discovery, health, ``/metrics``, or a
kind's list (:mod:`eksmon.sim.kube_store`) or single object. Bodies over 128 KiB are gzipped when
asked, as kube-apiserver does.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import re
import socket
import ssl
import struct
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from eksmon.kube.paths import RequestAttributes, request_attributes
from eksmon.sim import k8s_objects as k8s
from eksmon.sim.k8s_objects import KINDS, PATCH_VERSIONS, kind_for
from eksmon.sim.kube_auth import Caller, TokenRejected, allows, registry_permissions, verify_token
from eksmon.sim.kube_cluster import KubeCluster, KubeRequest
from eksmon.sim.kube_store import status_doc

log = logging.getLogger(__name__)

GZIP_THRESHOLD = 128 * 1024


class KubeServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, clusters: Mapping[tuple[str, str, str], KubeCluster], context: ssl.SSLContext) -> None:
        self.clusters = clusters  # (account, region, name) -> cluster; the extension's own dict
        self.tls = context
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), KubeHandler)

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


class KubeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KubeServer
    # set per request: the cluster's request log is written before the answer leaves, so a client
    # that has its answer always finds its request in the log
    record: Callable[[int], None] | None = None
    caller: str | None = None
    note: str = ""

    def do_GET(self) -> None:
        self.record, self.caller, self.note = None, None, ""
        serve(self)

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


# -- routes ------------------------------------------------------------------------------------------
def serve(h: KubeHandler) -> None:
    split = urlsplit(h.path)
    length = int(h.headers.get("Content-Length") or 0)
    if length:
        h.rfile.read(length)
    m = re.fullmatch(r"/clusters/([^/]+)/([^/]+)/([^/]+)(/.*)?", split.path)
    cluster = h.server.clusters.get(m.group(1, 2, 3)) if m else None  # type: ignore[arg-type]
    if m is None or cluster is None:
        h.send_bytes(404, "text/plain", b"404 page not found\n")
        return
    path = m.group(4) or "/"
    query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
    h.record = lambda status: cluster.requests.append(
        KubeRequest(h.command, path, query, status, h.caller, h.note)
    )
    _answer(h, cluster, path, query)
    if h.record is not None:  # nothing was sent: the connection was reset
        h.record(0)


def _answer(h: KubeHandler, cluster: KubeCluster, path: str, query: dict[str, str]) -> None:
    fault = cluster.take_fault(path)
    if fault is not None and fault.kind == "reset":
        h.note = "reset"
        h.reset()
        return
    if fault is not None and fault.kind == "slow" and h.server.stopping.wait(fault.seconds):
        h.note = "stopped"  # the stand-in stopped during the wait
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
    _route(h, cluster, attrs, query)


def _route(h: KubeHandler, cluster: KubeCluster, attrs: RequestAttributes, query: dict[str, str]) -> int:
    if not attrs.resource_request:
        return _non_resource(h, cluster, attrs.path)
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


def _non_resource(h: KubeHandler, cluster: KubeCluster, path: str) -> int:
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
