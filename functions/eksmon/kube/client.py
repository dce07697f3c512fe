"""A small read-only Kubernetes API client on urllib3 (already loaded by botocore; no ``kubernetes``).

* ``get(path)`` -> one JSON object; ``list(path)`` -> the items of a list, one at a time, read
  ``limit`` items per request and followed through ``continue`` tokens, so a 50,000-pod cluster
  costs one page of memory; ``stream(path)`` -> the body in 64 KiB chunks (``/metrics``).
* TLS is always verified, against the cluster's CA only (never the system roots when a CA is given).
* Retries: connection failures (refused, reset, dropped keep-alive) and 429/5xx answers, at most
  ``max_attempts`` tries with jittered exponential backoff (``Retry-After`` honoured, capped).
  A read timeout is not retried: the server got the request and is slow, retrying only multiplies
  the wait. A 401 re-signs the token once (it may have expired) before giving up.
* Every failure is a :class:`~eksmon.kube.errors.KubeError` naming what to fix; a 403 names the
  missing permission (``forbidden: list pods at cluster scope``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import ssl
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
import urllib3.exceptions

from eksmon import __version__
from eksmon.kube.errors import (
    KubeConnectionError,
    KubeError,
    KubeServerError,
    KubeTimeout,
    KubeTLSError,
    error_for_status,
)

DEFAULT_TIMEOUT = 10.0
DEFAULT_PAGE_SIZE = 500
CHUNK_SIZE = 64 * 1024
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.25
MAX_BACKOFF_SECONDS = 2.0
MAX_RETRY_AFTER_SECONDS = 5.0
MAX_ERROR_BODY = 64 * 1024
JSON = "application/json"
PROMETHEUS_TEXT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

Token = str | Callable[[], str]
"""A bearer token, or a provider called before each request (with ``invalidate()`` if it can renew)."""


class KubeClient:
    """Read-only access to one cluster's API. Thread-safe; reuse it for every request to the cluster."""

    def __init__(
        self,
        server: str,
        *,
        ca_pem: str | bytes | None = None,
        ca_file: str | None = None,
        token: Token | None = None,
        client_cert: tuple[str | bytes, str | bytes] | None = None,
        client_cert_file: tuple[str, str] | None = None,
        tls_server_name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: float = BACKOFF_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 4,
    ) -> None:
        """``server`` is the endpoint URL (``https://host[:port][/path prefix]``); ``ca_pem`` the CA as
        PEM text (DescribeCluster's ``certificateAuthority.data`` base64-decoded) or ``ca_file`` a
        file; with neither, the system roots. ``client_cert`` is (certificate PEM, key PEM),
        ``client_cert_file`` (certificate path, key path)."""
        parts = urlsplit(server)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"Kubernetes API endpoint must be an https:// URL, got {server!r}")
        self.server = server.rstrip("/")
        self.host = parts.netloc
        self.timeout = timeout
        self.page_size = page_size
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self._sleep = sleep
        self._token = token
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        context = _ssl_context(ca_pem, ca_file, client_cert, client_cert_file, self.host)
        self._http = urllib3.PoolManager(
            num_pools=2,
            maxsize=pool_size,
            block=False,
            ssl_context=context,
            server_hostname=tls_server_name,
            retries=False,
        )

    def __repr__(self) -> str:
        return f"KubeClient({self.server!r})"

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the idle connections (a later request opens new ones)."""
        self._http.clear()

    # -- reading -----------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """One JSON object, e.g. ``get("/api/v1/namespaces/kube-system/configmaps/kube-proxy-config")``."""
        resp = self._send(path, params, JSON, preload=True)
        try:
            doc = json.loads(resp.data)
        except ValueError:
            raise KubeServerError(
                resp.status, "BadResponse", path, f"not JSON: the answer to GET {path}"
            ) from None
        if not isinstance(doc, dict):
            raise KubeServerError(
                resp.status, "BadResponse", path, f"not a JSON object: the answer to GET {path}"
            )
        return doc

    def list(
        self,
        path: str,
        fields: str | None = None,
        labels: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The items of a list (``/api/v1/pods``), one at a time, ``page_size`` per request.

        ``fields`` and ``labels`` are a fieldSelector and labelSelector (``status.phase=Running``,
        ``k8s-app=kube-dns``). The first page is read now, so a 401/403 raises here; the next
        pages as the items are consumed. At most one page is held: each item is dropped from it
        as it is handed out, and the next page is read only when the previous one is used up.
        Items of a list carry no ``kind``/``apiVersion`` (as the apiserver sends them).
        """
        params = {"limit": str(page_size or self.page_size)}
        if fields:
            params["fieldSelector"] = fields
        if labels:
            params["labelSelector"] = labels
        first = self.get(path, params)
        return self._items(path, params, first)

    def stream(
        self, path: str, chunk_size: int = CHUNK_SIZE, accept: str = PROMETHEUS_TEXT
    ) -> Iterator[bytes]:
        """The body in chunks of ``chunk_size`` bytes (the last may be shorter), e.g. ``/metrics``.

        The request is sent now (errors raise here); the body is read as the chunks are consumed.
        Stopping early closes the connection instead of returning it to the pool half-read.
        """
        resp = self._send(path, None, accept, preload=False)
        return self._chunks(resp, path, chunk_size)

    # -- internals ---------------------------------------------------------------------------------
    def _items(self, path: str, params: dict[str, str], page: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while True:
            items: Any = page.get("items") or []
            token = (page.get("metadata") or {}).get("continue") or None
            del page
            items.reverse()
            while items:
                yield items.pop()
            del items
            if not token:
                return
            page = self.get(path, {**params, "continue": token})

    def _chunks(self, resp: urllib3.BaseHTTPResponse, path: str, size: int) -> Iterator[bytes]:
        finished = False
        buffer = bytearray()
        try:
            for data in resp.stream(size, decode_content=True):
                buffer += data
                while len(buffer) >= size:
                    yield bytes(buffer[:size])
                    del buffer[:size]
            if buffer:
                yield bytes(buffer)
            finished = True
        except urllib3.exceptions.HTTPError as exc:
            raise self._transport_error(exc, path, 1, during_body=True) from exc
        finally:
            if not finished:
                resp.close()
            resp.release_conn()

    def _url(self, path: str, params: Mapping[str, str] | None) -> str:
        url = self.server + "/" + path.lstrip("/")
        return f"{url}?{urlencode(params)}" if params else url

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "Accept-Encoding": "gzip", "User-Agent": f"eksmon/{__version__}"}
        token = self._token() if callable(self._token) else self._token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _send(
        self, path: str, params: Mapping[str, str] | None, accept: str, preload: bool
    ) -> urllib3.BaseHTTPResponse:
        url = self._url(path, params)
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            try:
                resp = self._http.request(
                    "GET",
                    url,
                    headers=self._headers(accept),
                    preload_content=preload,
                    timeout=self._timeout,
                    retries=False,
                    redirect=False,
                )
            except urllib3.exceptions.HTTPError as exc:
                error = self._transport_error(exc, path, attempt)
                if isinstance(error, KubeConnectionError) and attempt < self.max_attempts:
                    self._sleep(self._delay(attempt))
                    continue
                raise error from exc
            if resp.status < 300:
                return resp
            body = _drain(resp, preload)
            if resp.status == 401 and not renewed and hasattr(self._token, "invalidate"):
                renewed = True  # the token may have expired: sign a new one, once
                self._token.invalidate()  # type: ignore[union-attr]
                attempt -= 1
                continue
            if _retryable_status(resp.status) and attempt < self.max_attempts:
                self._sleep(self._delay(attempt, resp.headers.get("Retry-After")))
                continue
            message, reason = _status_of(body)
            raise error_for_status(
                resp.status, path, server_message=message, server_reason=reason, attempts=attempt
            )

    def _delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            with contextlib.suppress(ValueError):
                return min(max(float(retry_after), 0.0), MAX_RETRY_AFTER_SECONDS)
        base: float = min(self.backoff * 2.0 ** (attempt - 1), MAX_BACKOFF_SECONDS)
        return base * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography

    def _transport_error(
        self, exc: Exception, path: str, attempts: int, during_body: bool = False
    ) -> KubeError:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
            return KubeTimeout(
                None,
                "ConnectTimeout",
                path,
                f"timeout: could not connect to {self.host} within {self.timeout:g} s (GET {path}); "
                "a private-only endpoint is reachable only from inside the cluster's VPC",
            )
        if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
            return KubeTimeout(
                None,
                "Timeout",
                path,
                f"timeout: no answer from {self.host} within {self.timeout:g} s (GET {path})",
            )
        verify = _verify_failure(exc)
        if verify is not None:
            return KubeTLSError(
                None,
                "TLSVerifyFailed",
                path,
                f"TLS verification of {self.host} failed: {verify} (the endpoint's certificate is "
                "not signed by the cluster's certificate authority)",
            )
        if _is_reset(exc) or during_body:
            where = "while reading the answer" if during_body else ""
            return KubeConnectionError(
                None,
                "ConnectionReset",
                path,
                f"connection reset by {self.host} {where}(GET {path}){tries}".replace("  ", " "),
            )
        return KubeConnectionError(
            None,
            "ConnectionFailed",
            path,
            f"cannot connect to {self.host} (GET {path}){tries}: {_short(exc)}",
        )


def _retryable_status(status: int) -> bool:
    return status == 429 or (status >= 500 and status != 501)


def _drain(resp: urllib3.BaseHTTPResponse, preloaded: bool) -> bytes:
    """Up to 64 KiB of an error answer; the connection is reused only if the body was read whole."""
    if preloaded:
        return bytes(resp.data[:MAX_ERROR_BODY])
    try:
        body = resp.read(MAX_ERROR_BODY + 1, decode_content=True)
    except urllib3.exceptions.HTTPError:
        body = b""
    if len(body) > MAX_ERROR_BODY:
        resp.close()
    resp.release_conn()
    return body[:MAX_ERROR_BODY]


def _status_of(body: bytes) -> tuple[str, str]:
    """(message, reason) of a Kubernetes ``Status`` error body; empty strings when it is not one."""
    try:
        doc = json.loads(body)
    except ValueError:
        return body.decode(errors="replace").strip()[:300], ""
    if not isinstance(doc, dict):
        return "", ""
    return str(doc.get("message") or ""), str(doc.get("reason") or "")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend([item.__cause__, item.__context__])
        todo.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)


def _verify_failure(exc: BaseException) -> str | None:
    for item in _causes(exc):
        if isinstance(item, ssl.SSLCertVerificationError):
            return str(item.verify_message or item)
        if isinstance(item, ssl.CertificateError):
            return str(item)
    return None


def _is_reset(exc: BaseException) -> bool:
    for item in _causes(exc):
        if isinstance(item, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
            return True
        if type(item).__name__ in {
            "RemoteDisconnected",
            "SSLEOFError",
            "SSLZeroReturnError",
            "IncompleteRead",
        }:
            return True
    return False


def _short(exc: BaseException) -> str:
    innermost = list(_causes(exc))[-1]
    return f"{type(innermost).__name__}: {innermost}"[:300]


def _ssl_context(
    ca_pem: str | bytes | None,
    ca_file: str | None,
    client_cert: tuple[str | bytes, str | bytes] | None,
    client_cert_file: tuple[str, str] | None,
    host: str,
) -> ssl.SSLContext:
    cadata = ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem
    try:
        context = ssl.create_default_context(cafile=ca_file, cadata=cadata)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise KubeTLSError(
            None,
            "BadCertificateAuthority",
            "",
            f"the certificate authority of {host} is not a usable PEM certificate: {exc}",
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        if client_cert_file is not None:
            context.load_cert_chain(*client_cert_file)
        elif client_cert is not None:
            _load_cert_data(context, *client_cert)
    except (ssl.SSLError, OSError) as exc:
        raise KubeTLSError(
            None, "BadClientCertificate", "", f"the client certificate for {host} cannot be used: {exc}"
        ) from None
    return context


def _load_cert_data(context: ssl.SSLContext, cert: str | bytes, key: str | bytes) -> None:
    """ssl loads a certificate chain only from files: write them (0600) to a private directory, briefly."""
    with tempfile.TemporaryDirectory(prefix="eksmon-") as folder:
        paths = []
        for name, data in (("cert.pem", cert), ("key.pem", key)):
            path = os.path.join(folder, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.encode() if isinstance(data, str) else data)
            paths.append(path)
        context.load_cert_chain(paths[0], paths[1])
