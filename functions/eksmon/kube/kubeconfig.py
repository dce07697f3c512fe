"""Reach a cluster through a kubeconfig context (``eksmon scan --kubeconfig PATH --kube-context C=CTX``).

Parsed here rather than with the ``kubernetes`` package (0.4 s to import, and a second HTTP stack):
cluster ``server``, ``certificate-authority-data`` / ``certificate-authority`` (relative to the
kubeconfig's folder), ``tls-server-name``; user ``token`` / ``tokenFile``,
``client-certificate(-data)`` + ``client-key(-data)``, and ``exec`` credential plugins
(``client.authentication.k8s.io`` v1 / v1beta1, e.g. ``aws eks get-token``), whose token is reused
until its ``expirationTimestamp``. ``insecure-skip-tls-verify``, legacy ``auth-provider`` and
basic auth are refused with a message naming the context: eksmon always verifies TLS.
``KUBECONFIG``-style lists of files (``a:b``) merge as kubectl merges them: the first file that
defines a name wins.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from eksmon.kube.client import DEFAULT_PAGE_SIZE, DEFAULT_TIMEOUT, KubeClient
from eksmon.kube.errors import KubeconfigError

EXEC_TIMEOUT_SECONDS = 60.0
EXEC_EXPIRY_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class ExecConfig:
    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = "client.authentication.k8s.io/v1beta1"
    provide_cluster_info: bool = False
    workdir: str | None = None


@dataclass(frozen=True)
class ContextConfig:
    """What one kubeconfig context says about reaching its cluster."""

    name: str
    server: str
    ca_pem: bytes | None = None
    ca_file: str | None = None
    tls_server_name: str | None = None
    token: str | None = None
    token_file: str | None = None
    client_cert: tuple[bytes, bytes] | None = None
    client_cert_file: tuple[str, str] | None = None
    exec: ExecConfig | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def default_paths() -> list[Path]:
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def load(paths: str | Path | Sequence[str | Path] | None = None) -> dict[str, Any]:
    """The merged kubeconfig: ``clusters``, ``users``, ``contexts`` as name -> entry (with ``_dir``)."""
    if paths is None:
        files = default_paths()
    elif isinstance(paths, str | Path):
        files = [Path(p).expanduser() for p in str(paths).split(os.pathsep) if p]
    else:
        files = [Path(p).expanduser() for p in paths]
    merged: dict[str, Any] = {"clusters": {}, "users": {}, "contexts": {}, "current-context": None}
    found = False
    for file in files:
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise KubeconfigError(f"{file}: cannot read the kubeconfig ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            raise KubeconfigError(f"{file}: not valid YAML: {exc}") from None
        if not isinstance(doc, dict):
            raise KubeconfigError(f"{file}: a kubeconfig is a mapping, not {type(doc).__name__}")
        found = True
        for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for entry in doc.get(section) or []:
                if not isinstance(entry, dict) or "name" not in entry:
                    raise KubeconfigError(f"{file}: every entry of {section} needs a name")
                body = dict(entry.get(inner) or {})
                body["_dir"] = str(file.parent)
                body["_file"] = str(file)
                merged[section].setdefault(str(entry["name"]), body)
        merged["current-context"] = merged["current-context"] or doc.get("current-context")
    if not found:
        raise KubeconfigError(f"no kubeconfig found at {os.pathsep.join(map(str, files))}")
    return merged


def _path(value: str, base: str) -> str:
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else Path(base) / p)


def _b64(value: str, where: str) -> bytes:
    try:
        return base64.b64decode(value, validate=False)
    except ValueError:
        raise KubeconfigError(f"{where}: not base64") from None


def resolve(config: Mapping[str, Any], context: str) -> ContextConfig:
    """The connection settings of one context of a loaded kubeconfig."""
    ctx = config["contexts"].get(context)
    if ctx is None:
        known = ", ".join(sorted(config["contexts"])) or "none"
        raise KubeconfigError(f"kubeconfig has no context {context!r} (contexts: {known})")
    where = f"{ctx['_file']}: context {context}"
    cluster = config["clusters"].get(str(ctx.get("cluster")))
    if cluster is None:
        raise KubeconfigError(f"{where}: cluster {ctx.get('cluster')!r} is not defined")
    user = config["users"].get(str(ctx.get("user")), {}) if ctx.get("user") else {}
    _refuse_unsupported(cluster, user, where)
    ca_pem = (
        _b64(cluster["certificate-authority-data"], f"{where}: certificate-authority-data")
        if cluster.get("certificate-authority-data")
        else None
    )
    ca_file = (
        _path(cluster["certificate-authority"], cluster["_dir"])
        if cluster.get("certificate-authority")
        else None
    )
    client_cert, client_cert_file = _client_certificate(user, where)
    return ContextConfig(
        name=context,
        server=str(cluster["server"]),
        ca_pem=ca_pem,
        ca_file=ca_file,
        tls_server_name=cluster.get("tls-server-name"),
        token=user.get("token"),
        token_file=_path(user["tokenFile"], user["_dir"]) if user.get("tokenFile") else None,
        client_cert=client_cert,
        client_cert_file=client_cert_file,
        exec=_exec_config(user, where),
        source=where,
    )


def _refuse_unsupported(cluster: Mapping[str, Any], user: Mapping[str, Any], where: str) -> None:
    if not cluster.get("server"):
        raise KubeconfigError(f"{where}: cluster has no server")
    if cluster.get("insecure-skip-tls-verify"):
        raise KubeconfigError(
            f"{where}: insecure-skip-tls-verify is set; eksmon always verifies TLS, "
            "give certificate-authority-data instead"
        )
    for unsupported in ("auth-provider", "username", "password"):
        if user.get(unsupported):
            raise KubeconfigError(
                f"{where}: user.{unsupported} is not supported; use a token, a client "
                "certificate or an exec plugin (aws eks get-token)"
            )


def _client_certificate(
    user: Mapping[str, Any], where: str
) -> tuple[tuple[bytes, bytes] | None, tuple[str, str] | None]:
    cert_data, key_data = user.get("client-certificate-data"), user.get("client-key-data")
    cert_file, key_file = user.get("client-certificate"), user.get("client-key")
    if cert_data or key_data:
        if not (cert_data and key_data):
            raise KubeconfigError(f"{where}: client-certificate-data and client-key-data go together")
        return (
            _b64(cert_data, f"{where}: client-certificate-data"),
            _b64(key_data, f"{where}: client-key-data"),
        ), None
    if cert_file or key_file:
        if not (cert_file and key_file):
            raise KubeconfigError(f"{where}: client-certificate and client-key go together")
        return None, (_path(cert_file, user["_dir"]), _path(key_file, user["_dir"]))
    return None, None


def _exec_config(user: Mapping[str, Any], where: str) -> ExecConfig | None:
    e = user.get("exec")
    if not e:
        return None
    if not e.get("command"):
        raise KubeconfigError(f"{where}: exec has no command")
    return ExecConfig(
        command=str(e["command"]),
        args=tuple(str(a) for a in e.get("args") or ()),
        env=tuple((str(v["name"]), str(v.get("value", ""))) for v in e.get("env") or ()),
        api_version=str(e.get("apiVersion") or ExecConfig.api_version),
        provide_cluster_info=bool(e.get("provideClusterInfo")),
        workdir=user["_dir"],
    )


class ExecCredential:
    """Runs an exec credential plugin; reuses its answer until ``expirationTimestamp`` (minus a minute)."""

    def __init__(self, config: ExecConfig, context: ContextConfig, clock: Any = time.time) -> None:
        self.config = config
        self.context = context
        self._clock = clock
        self._lock = threading.Lock()
        self._status: dict[str, Any] | None = None
        self._expires: float | None = None

    def status(self) -> dict[str, Any]:
        with self._lock:
            if self._status is None or (self._expires is not None and self._clock() >= self._expires):
                self._status, self._expires = self._run()
            return self._status

    def __call__(self) -> str:
        token = self.status().get("token")
        if not token:
            raise KubeconfigError(f"{self.context.source}: the exec plugin gave no token")
        return str(token)

    def invalidate(self) -> None:
        with self._lock:
            self._status = None

    def __repr__(self) -> str:
        return f"ExecCredential({self.config.command!r})"

    def _run(self) -> tuple[dict[str, Any], float | None]:
        spec: dict[str, Any] = {"interactive": False}
        if self.config.provide_cluster_info:
            cluster: dict[str, Any] = {"server": self.context.server}
            if self.context.ca_pem:
                cluster["certificate-authority-data"] = base64.b64encode(self.context.ca_pem).decode()
            spec["cluster"] = cluster
        env = {
            **os.environ,
            **dict(self.config.env),
            "KUBERNETES_EXEC_INFO": json.dumps(
                {"apiVersion": self.config.api_version, "kind": "ExecCredential", "spec": spec}
            ),
        }
        where = f"{self.context.source}: exec {self.config.command}"
        try:
            done = subprocess.run(  # noqa: S603 - the user's own kubeconfig names the command
                [self.config.command, *self.config.args],
                env=env,
                capture_output=True,
                timeout=EXEC_TIMEOUT_SECONDS,
                check=False,
                stdin=subprocess.DEVNULL,
                cwd=self.config.workdir,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise KubeconfigError(f"{where}: {exc}") from None
        if done.returncode != 0:
            raise KubeconfigError(
                f"{where}: exited {done.returncode}: {done.stderr.decode(errors='replace').strip()[-300:]}"
            )
        try:
            status = json.loads(done.stdout)["status"]
        except (ValueError, KeyError, TypeError):
            raise KubeconfigError(f"{where}: did not print an ExecCredential with a status") from None
        expires = None
        if status.get("expirationTimestamp"):
            try:
                moment = datetime.fromisoformat(str(status["expirationTimestamp"]))
            except ValueError:
                raise KubeconfigError(f"{where}: bad expirationTimestamp") from None
            expires = moment.timestamp() - EXEC_EXPIRY_MARGIN_SECONDS
        return dict(status), expires


class _FileToken:
    """``tokenFile``: re-read on every request, as client-go does (a rotated projected token)."""

    def __init__(self, path: str, where: str) -> None:
        self.path = path
        self.where = where

    def __call__(self) -> str:
        try:
            return Path(self.path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise KubeconfigError(
                f"{self.where}: cannot read tokenFile {self.path} ({exc.strerror})"
            ) from None

    def __repr__(self) -> str:
        return f"_FileToken({self.path!r})"


def client_for(
    context: ContextConfig, timeout: float = DEFAULT_TIMEOUT, page_size: int = DEFAULT_PAGE_SIZE
) -> KubeClient:
    """A client for a resolved context; an exec plugin runs now if its answer is a client certificate."""
    token: Any = context.token
    client_cert: tuple[str | bytes, str | bytes] | None = context.client_cert
    if context.token_file and not token:
        token = _FileToken(context.token_file, context.source)
    if context.exec is not None and not token and client_cert is None and context.client_cert_file is None:
        credential = ExecCredential(context.exec, context)
        status = credential.status()
        if status.get("token"):
            token = credential
        elif status.get("clientCertificateData") and status.get("clientKeyData"):
            client_cert = (str(status["clientCertificateData"]), str(status["clientKeyData"]))
        else:
            raise KubeconfigError(
                f"{context.source}: the exec plugin gave neither a token nor a client certificate"
            )
    return KubeClient(
        context.server,
        ca_pem=context.ca_pem,
        ca_file=context.ca_file,
        token=token,
        client_cert=client_cert,
        client_cert_file=context.client_cert_file,
        tls_server_name=context.tls_server_name,
        timeout=timeout,
        page_size=page_size,
    )
