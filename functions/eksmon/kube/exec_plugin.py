"""A kubeconfig user's exec credential plugin (``users[].user.exec``), run by eksmon itself.

What ``aws eks update-kubeconfig`` writes: ``command``, ``args``, ``env`` and ``apiVersion``
(``client.authentication.k8s.io/v1beta1`` or ``v1``); the plugin prints an ``ExecCredential``
whose ``status.token`` is the bearer token and ``status.expirationTimestamp`` when it expires.

eksmon runs the plugin here rather than through ``kubernetes.config``'s ``ExecProvider`` because
that one waits for the plugin without a timeout, logs its failure instead of raising it (the old
token is then sent and the cluster's 401 blamed on an access entry), and re-runs it on every
request once the token is within 5 minutes of expiry. Here:

* the plugin runs in its own process group, stdin closed, for at most ``timeout`` seconds and never
  past the scan's deadline (it is stopped a second before, so that its error, not the deadline's,
  is what the cluster's finding says); a plugin still running then is killed with its children;
* a plugin that exits non-zero, hangs, or prints anything but an ExecCredential with a token is a
  :class:`~eksmon.kube.errors.KubeCredentialError` naming the command and its trimmed stderr (with
  anything token-like redacted; what it printed on stdout is never shown). The error is
  cluster-wide: the engine reports it once for that cluster and scans every other one. A plugin that
  failed is not run again by the same client (one scan): the other readers of that cluster get the
  same error at once instead of each waiting for it;
* the credential is kept until ``REFRESH_MARGIN_SECONDS`` before it expires, then fetched once more;
  if the plugin hands back a token that is already that close to expiry, it is used until it
  actually expires, so a plugin whose tokens live a few minutes runs once per token, not per request.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eksmon.kube.errors import KubeCredentialError

REFRESH_MARGIN_SECONDS = 60.0
DEADLINE_MARGIN_SECONDS = 1.0
MAX_STDERR = 400
MAX_OUTPUT = 1024 * 1024
API_VERSIONS = ("client.authentication.k8s.io/v1beta1", "client.authentication.k8s.io/v1")

# what a plugin's stderr or arguments may carry that is a credential: EKS tokens, bearer tokens, JWTs,
# "token=..."-style pairs, AWS secret-looking strings and any other long base64/hex run
_SECRETS = (
    re.compile(r"k8s-aws-v1\.[A-Za-z0-9_\-.=]+"),
    re.compile(r"(?i)\bbearer\s+\S+"),
    re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"),
    # key=value, "key": "value" and --key value, for keys that name a credential
    re.compile(
        r"(?i)\b((?:[a-z]+[_-])?(?:token|secret|password|passwd|api[_-]?key))(\s*=\s*|\"\s*:\s*\")[^\s\"',;&]+"
    ),
    re.compile(r"(?i)(--?(?:[a-z]+-)*(?:token|secret|password|key))(\s+|=)[^\s\"',;&]+"),
    # a long base64/hex run with digits and letters (a path's segments are shorter or punctuated)
    re.compile(r"(?=[A-Za-z0-9+_\-]*[0-9])(?=[A-Za-z0-9+_\-]*[A-Za-z])[A-Za-z0-9+_\-]{32,}={0,2}"),
    # an AWS secret access key's shape: 40 characters of base64 with '/' or '+'
    re.compile(
        r"(?<![A-Za-z0-9+/])(?=[A-Za-z0-9+/]*[0-9])(?=[A-Za-z0-9+/]*[A-Z])[A-Za-z0-9][A-Za-z0-9+/]{39,}={0,2}"
    ),
)


def redact(text: str, known: Sequence[str] = ()) -> str:
    """``text`` with every credential-looking part replaced by ``<redacted>``."""
    for secret in known:
        if secret:
            text = text.replace(secret, "<redacted>")
    for pattern in _SECRETS:
        text = pattern.sub(
            lambda m: f"{m.group(1)}{m.group(2)}<redacted>" if m.re.groups >= 2 else "<redacted>", text
        )
    return text


class ExecPlugin:
    """The bearer-token provider of one kubeconfig user's exec plugin. Thread-safe.

    Call it for the current token (running the plugin when needed); ``invalidate()`` after a 401
    makes the next call run it again. ``deadline`` (seconds left of the scan, or None) is asked before
    each run; the scan that uses the client sets it (:class:`~eksmon.kube.access.KubernetesAccess`).
    """

    def __init__(
        self,
        exec_config: Mapping[str, Any],
        *,
        where: str,
        base_dir: Path | None = None,
        cluster_info: Mapping[str, Any] | None = None,
        timeout: float = 15.0,
        margin: float = REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``exec_config`` is the ``exec`` mapping of the kubeconfig user (validated here: a
        ``ValueError`` says what is wrong), ``where`` names the kubeconfig and context in messages,
        ``base_dir`` the kubeconfig's directory (a relative command with a ``/`` is resolved there,
        as kubectl does)."""
        command = exec_config.get("command")
        if not isinstance(command, str) or not command:
            raise ValueError("exec: command is missing")
        api_version = exec_config.get("apiVersion")
        if api_version not in API_VERSIONS:
            raise ValueError(
                f"exec: apiVersion must be one of {', '.join(API_VERSIONS)}, got {api_version!r}"
            )
        args = exec_config.get("args") or []
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ValueError("exec: args must be a list of strings")
        env: dict[str, str] = {}
        for item in exec_config.get("env") or []:
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise ValueError("exec: env must be a list of {name, value}")
            env[item["name"]] = str(item.get("value", ""))
        if "/" in command and not Path(command).is_absolute() and base_dir is not None:
            command = str(base_dir / command)
        self.command = command
        self.args = list(args)
        self.env = env
        self.api_version = str(api_version)
        self.cluster_info = (
            dict(cluster_info) if exec_config.get("provideClusterInfo") and cluster_info else None
        )
        self.where = where
        self.timeout = timeout
        self.margin = margin
        self.deadline: Callable[[], float] | None = None
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires: float | None = None  # epoch seconds; None: the plugin gave no expiry
        self._near_expiry = False  # the plugin's last token was already within the margin
        self._failed: KubeCredentialError | None = None
        self.runs = 0  # how many times the plugin ran (for tests and the README's promise)

    @property
    def display(self) -> str:
        """The command line as shown in messages (redacted: arguments may carry secrets)."""
        return redact(
            " ".join([Path(self.command).name if "/" in self.command else self.command, *self.args])
        )

    def __call__(self) -> str:
        with self._lock:
            if self._failed is not None:
                raise self._failed
            now = self._clock()
            if self._token is None or self._stale(now):
                try:
                    self._token, self._expires = self._run()
                except KubeCredentialError as exc:
                    self._failed = exc
                    self._token = None
                    raise
                self._near_expiry = self._expires is not None and self._expires - self.margin <= self._clock()
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _stale(self, now: float) -> bool:
        if self._expires is None:
            return False
        if now >= self._expires:
            return True
        return not self._near_expiry and now >= self._expires - self.margin

    # -- running it ----------------------------------------------------------------------------------
    def _limit(self) -> tuple[float, str]:
        # stopped a little before the scan's deadline, so that its own error (naming the plugin) is
        # reported for the cluster rather than a deadline finding listing the readers it held up
        left = self.deadline() - DEADLINE_MARGIN_SECONDS if self.deadline is not None else float("inf")
        if left < self.timeout:
            return max(0.0, left), "before the scan's deadline"
        return self.timeout, "within kubernetes.exec_timeout_seconds"

    def _fail(self, reason: str, what: str, stderr: str = "") -> KubeCredentialError:
        said = _trim(stderr)
        message = f"the credential plugin `{self.display}` of {self.where} {what}" + (
            f": {said}" if said else ""
        )
        return KubeCredentialError(
            None, reason, "", redact(message, [self._token or ""]), plugin=self.display
        )

    def _run(self) -> tuple[str, float | None]:
        seconds, bound = self._limit()
        if seconds <= 0:
            raise self._fail("ExecPluginTimeout", "was not run: the scan's deadline was too close")
        info: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": "ExecCredential",
            "spec": {"interactive": False},
        }
        if self.cluster_info is not None:
            info["spec"]["cluster"] = self.cluster_info
        env = {**os.environ, **self.env, "KUBERNETES_EXEC_INFO": json.dumps(info)}
        self.runs += 1
        try:
            proc = subprocess.Popen(  # noqa: S603 - the command the user's kubeconfig names, as kubectl runs it
                [self.command, *self.args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,  # its own process group, so a timeout kills its children too
            )
        except OSError as exc:
            raise self._fail("ExecPluginFailed", f"could not be started ({exc.strerror or exc})") from None
        try:
            out, err = proc.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            _kill(proc)
            try:
                _, err = proc.communicate(timeout=1)
            except subprocess.TimeoutExpired:
                err = b""
            raise self._fail(
                "ExecPluginTimeout",
                f"did not finish {bound} ({round(seconds, 1):g} s) and was stopped",
                _text(err),
            ) from None
        if proc.returncode != 0:
            raise self._fail("ExecPluginFailed", f"exited with status {proc.returncode}", _text(err))
        return self._credential(out[:MAX_OUTPUT], _text(err))

    def _credential(self, out: bytes, err: str) -> tuple[str, float | None]:
        try:
            doc = json.loads(out)
        except ValueError:
            raise self._fail(
                "ExecPluginBadOutput",
                f"printed something that is not JSON ({len(out)} bytes), not an ExecCredential",
                err,
            ) from None
        if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
            raise self._fail("ExecPluginBadOutput", "printed JSON that is not an ExecCredential", err)
        if doc.get("apiVersion") != self.api_version:
            raise self._fail(
                "ExecPluginBadOutput",
                f"printed an ExecCredential of apiVersion {str(doc.get('apiVersion'))[:80]!r}, not {self.api_version}",
                err,
            )
        status = doc.get("status")
        token = status.get("token") if isinstance(status, dict) else None
        if not isinstance(token, str) or not token:
            what = (
                "printed a client certificate, not a token (eksmon authenticates with bearer tokens only)"
                if isinstance(status, dict) and status.get("clientCertificateData")
                else "printed an ExecCredential without status.token"
            )
            raise self._fail("ExecPluginBadOutput", what, err)
        expiry = status.get("expirationTimestamp") if isinstance(status, dict) else None
        if expiry is None:
            return token, None
        try:
            when = datetime.fromisoformat(str(expiry).replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
        except ValueError:
            raise self._fail(
                "ExecPluginBadOutput",
                f"printed an expirationTimestamp that is not RFC 3339 ({str(expiry)[:40]!r})",
                err,
            ) from None
        expires = when.timestamp()
        if expires <= self._clock():
            raise self._fail(
                "ExecPluginBadOutput", f"printed a token that had already expired ({expiry})", err
            )
        return token, expires

    def __repr__(self) -> str:
        return f"ExecPlugin({self.display!r}, runs={self.runs})"


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _text(data: bytes | None) -> str:
    return (data or b"")[: 64 * 1024].decode(errors="replace")


def _trim(stderr: str) -> str:
    """The plugin's stderr on one line, at most ``MAX_STDERR`` characters."""
    said = " | ".join(line.strip() for line in stderr.splitlines() if line.strip())
    return said if len(said) <= MAX_STDERR else said[: MAX_STDERR - 1] + "…"
