"""Read-only access to one cluster's API, on the official ``kubernetes`` client.

HTTP, TLS, connection pooling, retries and kubeconfig handling are the library's
(``kubernetes.client.Configuration`` + ``ApiClient``, ``kubernetes.config``), except a kubeconfig
user's exec credential plugin, which :mod:`eksmon.kube.exec_plugin` runs; what is kept here is:

* ``get(path)`` -> one JSON object; ``list(path)`` -> the items of a list, one at a time, read
  ``limit`` items per request and followed through ``continue`` tokens, each page decoded with
  ``json.loads`` from the raw answer (``_preload_content=False``, no model objects), so a
  50,000-pod cluster costs one page of memory; ``stream(path)`` -> the body in 64 KiB chunks
  (``/metrics``), read from the raw response as it is consumed.
* Bounded lists: a ``continue`` token seen twice, or more pages than ``max_pages``
  (``kubernetes.max_list_pages``), ends the list with :class:`~eksmon.kube.errors.KubeListUnbounded`.
* Retries (urllib3's ``Retry``, as the library passes it to its pool): connection failures and
  429/5xx answers, at most ``max_attempts`` tries with exponential backoff (``Retry-After``
  honoured, capped at 5 s). A read timeout is not retried: the server got the request and is
  slow, retrying only multiplies the wait. A 401 re-signs the IAM token once (it may have
  expired) before giving up.
* Every failure is a :class:`~eksmon.kube.errors.KubeError` naming what happened and what to fix:
  connection refused, connection reset, TLS, timeout, 401 (access entry), 403 (the missing
  permission), 404, 410, 429/5xx.

``kubernetes`` is imported on the first client made (:func:`kubernetes_client`), so the Lambdas
that never reach a cluster never load it.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import urllib3
import urllib3.exceptions
from urllib3.util.retry import Retry

from eksmon import __version__
from eksmon.kube.errors import (
    KubeconfigError,
    KubeConnectionError,
    KubeError,
    KubeListUnbounded,
    KubeServerError,
    KubeTimeout,
    KubeTLSError,
    KubeUnauthorized,
    error_for_status,
)
from eksmon.kube.exec_plugin import ExecPlugin
from eksmon.kube.paths import request_attributes

DEFAULT_TIMEOUT = 10.0
DEFAULT_PAGE_SIZE = 500
DEFAULT_MAX_PAGES = 1000
CHUNK_SIZE = 64 * 1024
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.25
MAX_BACKOFF_SECONDS = 2.0
MAX_RETRY_AFTER_SECONDS = 5.0
MAX_ERROR_BODY = 64 * 1024
JSON = "application/json"
PROMETHEUS_TEXT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})

Token = str | Callable[[], str]
"""A bearer token, or a provider called before each request (with ``invalidate()`` if it can renew)."""

_IMPORT_LOCK = threading.Lock()


def kubernetes_client() -> ModuleType:
    """``kubernetes.client``, imported on first use (about 0.2 s; only the Lambdas that read a cluster pay)."""
    with _IMPORT_LOCK:
        import kubernetes.client

        return kubernetes.client


class _Retry(Retry):
    """urllib3's Retry with a capped ``Retry-After``, no retry of a read timeout, and an injectable sleep."""

    DEFAULT_BACKOFF_MAX = int(MAX_BACKOFF_SECONDS)
    sleeper: Callable[[float], None] = staticmethod(time.sleep)

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)

    def sleep_for_retry(self, response: Any) -> bool:
        seconds = self.get_retry_after(response)
        if seconds:
            self.sleeper(seconds)
            return True
        return False

    def _sleep_backoff(self) -> None:
        seconds = self.get_backoff_time()
        if seconds > 0:
            self.sleeper(seconds)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if isinstance(error, urllib3.exceptions.ReadTimeoutError):
            raise error  # a slow server is not asked again: that only multiplies the wait
        again: Self = super().increment(method, url, response, error, _pool, _stacktrace)
        return again


def _retries(max_attempts: int, backoff: float, sleep: Callable[[float], None]) -> Retry:
    cls: type[_Retry] = type("_ClientRetry", (_Retry,), {"sleeper": staticmethod(sleep)})
    again = max(0, max_attempts - 1)
    return cls(
        total=again,
        connect=again,
        read=again,
        status=again,
        other=0,  # TLS failures: asking again does not fix a certificate
        redirect=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRIED_STATUSES,
        backoff_factor=backoff,
        backoff_jitter=backoff / 2,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


class KubeClient:
    """Read-only access to one cluster's API. Thread-safe; reuse it for every request to the cluster."""

    def __init__(
        self,
        server: str,
        *,
        ca_pem: str | bytes | None = None,
        ca_file: str | None = None,
        token: Token | None = None,
        tls_server_name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: float = BACKOFF_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 4,
    ) -> None:
        """``server`` is the endpoint URL (``https://host[:port][/path prefix]``); ``ca_pem`` the CA as
        PEM text (DescribeCluster's ``certificateAuthority.data`` base64-decoded) or ``ca_file`` a
        file; with neither, the system roots. ``token`` is the bearer token or its provider (the
        EKS IAM token, :class:`~eksmon.kube.token.IamToken`), asked before every request through
        the library's ``refresh_api_key_hook``."""
        parts = urlsplit(server)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"Kubernetes API endpoint must be an https:// URL, got {server!r}")
        cadata = ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem
        if cadata is not None or ca_file is not None:
            _check_ca(cadata, ca_file, parts.netloc)
        conf = kubernetes_client().Configuration()
        conf.host = server.rstrip("/")
        conf.ca_cert_data = cadata
        conf.ssl_ca_cert = ca_file
        conf.verify_ssl = True
        conf.tls_server_name = tls_server_name
        conf.connection_pool_maxsize = pool_size
        if token is not None:
            conf.api_key_prefix["BearerToken"] = "Bearer"
            if callable(token):
                provider = token

                def refresh(configuration: Any) -> None:
                    configuration.api_key["BearerToken"] = provider()

                conf.refresh_api_key_hook = refresh
                conf.api_key["BearerToken"] = ""  # the key must exist for the hook to be asked
            else:
                conf.api_key["BearerToken"] = token
        self._token = token
        self._setup(conf, timeout, page_size, max_pages, max_attempts, backoff, sleep)

    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | Path | None,
        context: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_PAGES,
        exec_timeout: float = DEFAULT_TIMEOUT + 5,
    ) -> KubeClient:
        """A client for one context of a kubeconfig: cluster, CA, client certificates and static tokens
        loaded by ``kubernetes.config``, an exec credential plugin run by :mod:`eksmon.kube.exec_plugin`
        (bounded by ``exec_timeout``, on the first request, not here).

        ``None`` reads ``KUBECONFIG`` or ``~/.kube/config`` (a list: the first file naming a context,
        cluster or user wins, as in kubectl). A context that cannot be used is a
        :class:`KubeconfigError` naming the file and context; ``insecure-skip-tls-verify`` is refused
        (eksmon always verifies TLS). A plugin that fails is a
        :class:`~eksmon.kube.errors.KubeCredentialError` of the request that needed its token.
        """
        files = kubeconfig_files(kubeconfig)
        where = f"{files}: context {context}"
        one, exec_config, user_dir = _one_context(files, context, where)
        plugin: ExecPlugin | None = None
        if exec_config is not None:
            cluster = one["clusters"][0]["cluster"]
            try:
                plugin = ExecPlugin(
                    exec_config,
                    where=f"context {context}",
                    base_dir=user_dir,
                    cluster_info={k: cluster[k] for k in CLUSTER_INFO_KEYS if k in cluster},
                    timeout=exec_timeout,
                )
            except ValueError as exc:
                raise KubeconfigError(f"{where}: {exc}") from None
        conf = kubernetes_client().Configuration()
        from kubernetes import config as kube_config

        try:
            with _LoaderLog() as said:  # the library logs some credential failures instead of raising them
                kube_config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
                    one, context=context, client_configuration=conf, persist_config=False
                )
        except (kube_config.ConfigException, OSError, ValueError, KeyError, TypeError) as exc:
            raise KubeconfigError(f"{where}: {_first_line(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - yaml and credential errors come in many types
            raise KubeconfigError(f"{where}: {type(exc).__name__}: {_first_line(exc)}") from None
        if said and not conf.api_key and not conf.cert_file and plugin is None:
            raise KubeconfigError(f"{where}: the user's credentials could not be obtained: {said[0]}")
        if not conf.verify_ssl:
            raise KubeconfigError(
                f"{where}: insecure-skip-tls-verify is set; eksmon always verifies TLS, "
                "give certificate-authority-data instead"
            )
        if not str(conf.host).startswith("https://"):
            raise KubeconfigError(f"{where}: the cluster's server must be an https:// URL, got {conf.host!r}")
        if plugin is not None:
            provider = plugin

            def refresh(configuration: Any) -> None:
                configuration.api_key["BearerToken"] = provider()

            conf.api_key_prefix["BearerToken"] = "Bearer"
            conf.api_key["BearerToken"] = ""  # the key must exist for the hook to be asked
            conf.refresh_api_key_hook = refresh
        self = cls.__new__(cls)
        self._token = plugin
        self._setup(conf, timeout, page_size, max_pages, MAX_ATTEMPTS, BACKOFF_SECONDS, time.sleep)
        return self

    @property
    def plugin(self) -> ExecPlugin | None:
        """The exec credential plugin behind this client's token (a kubeconfig context's), if any."""
        return self._token if isinstance(self._token, ExecPlugin) else None

    def _setup(
        self,
        conf: Any,
        timeout: float,
        page_size: int,
        max_pages: int,
        max_attempts: int,
        backoff: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.server = str(conf.host).rstrip("/")
        self.host = urlsplit(self.server).netloc
        self.timeout = timeout
        self.page_size = page_size
        self.max_pages = max(1, max_pages)
        self.max_attempts = max(1, max_attempts)
        conf.retries = _retries(self.max_attempts, backoff, sleep)
        self._api = kubernetes_client().ApiClient(conf)
        self._api.user_agent = f"eksmon/{__version__}"

    def __repr__(self) -> str:
        return f"KubeClient({self.server!r})"

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the idle connections (a later request opens new ones)."""
        self._api.rest_client.pool_manager.clear()

    # -- reading -----------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """One JSON object, e.g. ``get("/api/v1/namespaces/kube-system/configmaps/kube-proxy-config")``."""
        resp = self._send(path, params, JSON)
        try:
            doc = json.loads(_read_all(resp, path, self))
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
        A ``continue`` token that comes back, or more than ``max_pages`` pages, raises
        :class:`KubeListUnbounded` instead of reading forever.
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

        The request is sent now (errors raise here); the body is read from the raw response as
        the chunks are consumed. Stopping early closes the connection instead of returning it to
        the pool half-read.
        """
        resp = self._send(path, None, accept)
        return self._chunks(resp, path, chunk_size)

    # -- internals ---------------------------------------------------------------------------------
    def _items(self, path: str, params: dict[str, str], page: dict[str, Any]) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        pages = 1
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
            what = request_attributes(path).describe()
            if token in seen:
                raise KubeListUnbounded(
                    None,
                    "RepeatedContinue",
                    path,
                    f"endless list: {what} handed back a continue token it had already given, after "
                    f"{pages} pages; the list was abandoned (the apiserver or a proxy in front of it is "
                    "misbehaving)",
                )
            if pages >= self.max_pages:
                raise KubeListUnbounded(
                    None,
                    "TooManyPages",
                    path,
                    f"endless list: {what} was still not finished after {pages} pages of "
                    f"{params['limit']}; the list was abandoned (raise kubernetes.max_list_pages if "
                    "the cluster really holds that many objects)",
                )
            seen.add(str(token))
            pages += 1
            page = self.get(path, {**params, "continue": str(token)})

    def _chunks(self, resp: Any, path: str, size: int) -> Iterator[bytes]:
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
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise transport_error(exc, path, self.host, self.timeout, 1, during_body=True) from exc
        finally:
            if not finished:
                resp.close()
            resp.release_conn()

    def _send(self, path: str, params: Mapping[str, str] | None, accept: str) -> Any:
        """The raw urllib3 response of a 2xx answer (``_preload_content=False``); a KubeError otherwise."""
        from kubernetes.client.exceptions import ApiException

        renewed = False
        while True:
            try:
                method, url, headers, _, _ = self._api.param_serialize(
                    "GET",
                    path,
                    query_params=list(params.items()) if params else None,
                    header_params={"Accept": accept, "Accept-Encoding": "gzip"},
                    auth_settings=["BearerToken"],
                )
                answer = self._api.call_api(
                    method, url, headers, _request_timeout=(self.timeout, self.timeout)
                )
            except ApiException as exc:  # the library turns urllib3's SSLError into a status-0 ApiException
                raise _api_exception_error(exc, path, self.host) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise transport_error(exc, path, self.host, self.timeout, self.max_attempts) from exc
            resp = answer.response
            if resp.status < 300:
                return resp
            body = _drain(resp)
            if resp.status == 401 and not renewed and hasattr(self._token, "invalidate"):
                renewed = True  # the token may have expired: sign a new one, once
                self._token.invalidate()  # type: ignore[union-attr]
                continue
            history = getattr(getattr(resp, "retries", None), "history", ()) or ()
            message, reason = _status_of(body)
            if resp.status == 401 and self.plugin is not None:
                raise KubeUnauthorized(
                    resp.status,
                    "Unauthorized",
                    path,
                    f"unauthorized: the cluster did not accept the token the credential plugin "
                    f"`{self.plugin.display}` of {self.plugin.where} printed, for GET {path} (the identity "
                    "it signs as has no EKS access entry or aws-auth mapping, or the token is another "
                    "cluster's)",
                )
            raise error_for_status(
                resp.status, path, server_message=message, server_reason=reason, attempts=len(history) + 1
            )


class _LoaderLog(logging.Handler):
    """The error messages logged (on the root logger) while ``kubernetes.config`` loads a context."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage()[:500])

    def __enter__(self) -> list[str]:
        self._lock.acquire()
        logging.getLogger().addHandler(self)
        return self.messages

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self)
        self._lock.release()


CLUSTER_INFO_KEYS = ("server", "tls-server-name", "certificate-authority-data", "proxy-url")
_PATH_KEYS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}


def _read_kubeconfigs(files: str, where: str) -> list[tuple[Path, dict[str, Any]]]:
    """(directory, document) of each kubeconfig file of the list, in order."""
    import yaml

    docs: list[tuple[Path, dict[str, Any]]] = []
    for name in files.split(os.pathsep):
        path = Path(name).expanduser() if name else None
        if path is None or not path.is_file():
            continue  # kubectl skips a missing file of a KUBECONFIG list
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KubeconfigError(f"{where}: {path} cannot be read: {_first_line(exc)}") from None
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise KubeconfigError(f"{where}: {path} is not a kubeconfig (not a mapping)")
        docs.append((path.resolve().parent, doc))
    return docs


def _absolute(base: Path, kind: str, inner: dict[str, Any]) -> dict[str, Any]:
    """``inner`` with its file paths made absolute (relative to the file that holds it, as in kubectl)."""
    inner = dict(inner)
    for field in _PATH_KEYS[kind]:
        value = inner.get(field)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            inner[field] = str(base / value)
    return inner


def _one_context(files: str, context: str, where: str) -> tuple[dict[str, Any], dict[str, Any] | None, Path]:
    """The kubeconfig of ``context`` alone (its cluster and user, file paths made absolute), the user's
    ``exec`` taken out of it (eksmon runs the plugin), and the directory of the file naming the user."""
    docs = _read_kubeconfigs(files, where)

    def find(kind: str, name: Any) -> tuple[Path, dict[str, Any]] | None:
        for base, doc in docs:
            for entry in doc.get(kind) or []:
                if isinstance(entry, dict) and entry.get("name") == name:
                    return base, entry
        return None

    found = find("contexts", context)
    if found is None:
        names = sorted(
            {str(e.get("name")) for _, d in docs for e in d.get("contexts") or [] if isinstance(e, dict)}
        )
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise KubeconfigError(f"{where}: no context named {context} (contexts: {shown or 'none'})")
    body = found[1].get("context")
    if not isinstance(body, dict) or not body.get("cluster"):
        raise KubeconfigError(f"{where}: the context names no cluster")
    parts: dict[str, tuple[Path, dict[str, Any]]] = {}
    for kind, key in (("cluster", "clusters"), ("user", "users")):
        named = body.get(kind)
        if named is None:
            continue
        entry = find(key, named)
        if entry is None:
            raise KubeconfigError(f"{where}: no {kind} named {named}")
        base, raw = entry
        parts[kind] = (base, {"name": named, kind: _absolute(base, kind, raw.get(kind) or {})})
    exec_config: dict[str, Any] | None = None
    user_dir = found[0]
    if "user" in parts:
        user_dir, user = parts["user"]
        inner = user["user"]
        if isinstance(inner.get("exec"), dict) and not any(
            inner.get(k) for k in ("token", "tokenFile", "auth-provider")
        ):  # the order kubernetes.config follows: a static token or auth-provider comes first
            exec_config = inner.pop("exec")
    one: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": context,
        "contexts": [{"name": context, "context": body}],
        "clusters": [parts["cluster"][1]],
        "users": [parts["user"][1]] if "user" in parts else [],
    }
    return one, exec_config, user_dir


def kubeconfig_files(kubeconfig: str | Path | None) -> str:
    """The kubeconfig file(s) to read: the one given, else ``KUBECONFIG``, else ``~/.kube/config``.

    Resolved at each call (``kubernetes.config`` reads ``KUBECONFIG`` once, when it is imported).
    """
    if kubeconfig is not None:
        return str(kubeconfig)
    return os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")


def _check_ca(cadata: str | None, ca_file: str | None, host: str) -> None:
    """Refuse an unusable CA now, with a message, rather than at the first handshake."""
    try:
        ssl.create_default_context(cafile=ca_file, cadata=cadata)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise KubeTLSError(
            None,
            "BadCertificateAuthority",
            "",
            f"the certificate authority of {host} is not a usable PEM certificate: {exc}",
        ) from None


def _read_all(resp: Any, path: str, client: KubeClient) -> bytes:
    try:
        data: bytes = resp.data
        return data
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise transport_error(exc, path, client.host, client.timeout, 1, during_body=True) from exc
    finally:
        resp.release_conn()


def _drain(resp: Any) -> bytes:
    """Up to 64 KiB of an error answer; the connection is reused only if the body was read whole."""
    try:
        body: bytes = resp.read(MAX_ERROR_BODY + 1, decode_content=True)
    except (urllib3.exceptions.HTTPError, OSError):
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


def _api_exception_error(exc: Any, path: str, host: str) -> KubeError:
    """An ``ApiException`` raised before any answer (status 0): the library's wrapping of a TLS failure."""
    status = getattr(exc, "status", 0) or 0
    if status:
        message, reason = _status_of(getattr(exc, "body", b"") or b"")
        return error_for_status(status, path, server_message=message, server_reason=reason)
    detail = str(getattr(exc, "reason", "") or exc).replace("\n", ": ")[:300]
    return KubeTLSError(
        None,
        "TLSVerifyFailed",
        path,
        f"TLS verification of {host} failed: {detail} (the endpoint's certificate is not signed by "
        "the cluster's certificate authority)",
    )


def transport_error(  # noqa: PLR0911 - one return per thing that can happen
    exc: BaseException, path: str, host: str, timeout: float, attempts: int, during_body: bool = False
) -> KubeError:
    """Name what happened to a request that got no answer: refused, reset, TLS, timeout, no route."""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    causes = list(_causes(exc))
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return KubeConnectionError(
            None,
            "ConnectionRefused",
            path,
            f"connection refused by {host} (GET {path}){tries}: nothing listens there; check the "
            "cluster's endpoint and that the monitor's network can reach it",
        )
    verify = _verify_failure(causes)
    if verify is not None:
        return KubeTLSError(
            None,
            "TLSVerifyFailed",
            path,
            f"TLS verification of {host} failed: {verify} (the endpoint's certificate is "
            "not signed by the cluster's certificate authority)",
        )
    if any(isinstance(c, ssl.SSLError) for c in causes) and not _is_reset(causes):
        return KubeTLSError(
            None, "TLSHandshakeFailed", path, f"TLS handshake with {host} failed: {_short(causes)}"
        )
    connect_timeout = any(
        isinstance(c, urllib3.exceptions.ConnectTimeoutError)
        and not isinstance(c, urllib3.exceptions.NewConnectionError)
        for c in causes
    )
    if connect_timeout:
        return KubeTimeout(
            None,
            "ConnectTimeout",
            path,
            f"timeout: could not connect to {host} within {timeout:g} s (GET {path}){tries}; "
            "a private-only endpoint is reachable only from inside the cluster's VPC",
        )
    if any(isinstance(c, urllib3.exceptions.ReadTimeoutError | TimeoutError) for c in causes):
        return KubeTimeout(
            None,
            "Timeout",
            path,
            f"timeout: no answer from {host} within {timeout:g} s (GET {path})",
        )
    if _is_reset(causes) or during_body:
        where = " while reading the answer" if during_body else ""
        return KubeConnectionError(
            None,
            "ConnectionReset",
            path,
            f"connection reset by {host}{where} (GET {path}){tries}",
        )
    return KubeConnectionError(
        None,
        "ConnectionFailed",
        path,
        f"cannot connect to {host} (GET {path}){tries}: {_short(causes)}",
    )


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


def _verify_failure(causes: list[BaseException]) -> str | None:
    for item in causes:
        if isinstance(item, ssl.SSLCertVerificationError):
            return str(item.verify_message or item)
        if isinstance(item, ssl.CertificateError):
            return str(item)
    return None


def _is_reset(causes: list[BaseException]) -> bool:
    for item in causes:
        if isinstance(item, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
            return True
        if type(item).__name__ in {
            "RemoteDisconnected",
            "SSLEOFError",
            "SSLZeroReturnError",
            "IncompleteRead",
            "ProtocolError",
        }:
            return True
    return False


def _short(causes: list[BaseException]) -> str:
    innermost = causes[-1]
    return f"{type(innermost).__name__}: {innermost}"[:300]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
