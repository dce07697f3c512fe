"""The IAM bearer token for an EKS cluster, made exactly as ``aws eks get-token`` makes it.

A presigned STS GetCallerIdentity URL (GET, valid 60 s) with the header ``x-k8s-aws-id: <cluster
name>`` signed in, base64url-encoded without ``=`` padding behind ``k8s-aws-v1.``. The cluster
accepts it for 15 minutes after signing; :class:`IamToken` reuses one for at most 13 minutes,
so a token is never sent older than 14. The token is a credential: it is never logged, never put
in an error message, and ``repr`` of a provider does not show it.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 - the token format's prefix, not a secret
CLUSTER_ID_HEADER = "x-k8s-aws-id"
PRESIGN_EXPIRES_SECONDS = 60
TOKEN_VALID_SECONDS = 15 * 60
TOKEN_REUSE_SECONDS = 13 * 60  # refresh before 14 minutes, with a minute to spare for long lists

Presigner = Callable[[str], str]  # cluster name -> presigned GetCallerIdentity URL


def _pop_cluster_id(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if CLUSTER_ID_HEADER in params:
        context[CLUSTER_ID_HEADER] = params.pop(CLUSTER_ID_HEADER)


def _sign_cluster_id(request: Any, **_: Any) -> None:
    if CLUSTER_ID_HEADER in request.context:
        request.headers[CLUSTER_ID_HEADER] = request.context[CLUSTER_ID_HEADER]


def presigner(sts_client: Any) -> Presigner:
    """Presign GetCallerIdentity with ``x-k8s-aws-id`` in the signed headers (as the AWS CLI does).

    ``sts_client`` is any botocore STS client; its credentials, region and endpoint (the session's,
    ``AWS_ENDPOINT_URL``, or a simulator's) are the ones signed into the URL. Registering the two
    handlers is idempotent and does nothing to other calls of the same client.
    """
    events = sts_client.meta.events
    events.register(
        "provide-client-params.sts.GetCallerIdentity", _pop_cluster_id, unique_id="eksmon-k8s-aws-id-param"
    )
    events.register(
        "before-sign.sts.GetCallerIdentity", _sign_cluster_id, unique_id="eksmon-k8s-aws-id-header"
    )

    def presign(cluster: str) -> str:
        url: str = sts_client.generate_presigned_url(
            "get_caller_identity",
            Params={CLUSTER_ID_HEADER: cluster},
            ExpiresIn=PRESIGN_EXPIRES_SECONDS,
            HttpMethod="GET",
        )
        return url

    return presign


def encode_token(url: str) -> str:
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def decode_token(token: str) -> str:
    """The presigned URL inside a token; ValueError when it is not a ``k8s-aws-v1.`` token."""
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("not a k8s-aws-v1 token")
    body = token[len(TOKEN_PREFIX) :]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("token body is not base64url") from exc


def get_token(sts_client: Any, cluster: str) -> str:
    """One token, as ``aws eks get-token --cluster-name CLUSTER`` prints in ``status.token``."""
    return encode_token(presigner(sts_client)(cluster))


class IamToken:
    """The token of one cluster, re-signed when older than ``reuse_seconds``. Thread-safe.

    Call it for the current token; ``invalidate()`` after a 401 makes the next call sign anew.
    """

    def __init__(
        self,
        presign: Presigner,
        cluster: str,
        reuse_seconds: float = TOKEN_REUSE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._presign = presign
        self.cluster = cluster
        self.reuse_seconds = reuse_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._signed_at = 0.0
        self.signed = 0  # how many tokens were made (for tests and metrics)

    def __call__(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now - self._signed_at >= self.reuse_seconds or now < self._signed_at:
                self._token = encode_token(self._presign(self.cluster))
                self._signed_at = now
                self.signed += 1
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def use(self, presign: Presigner) -> None:
        """Sign the next tokens with these credentials (a new scan's session)."""
        with self._lock:
            self._presign = presign

    def __repr__(self) -> str:
        return f"IamToken(cluster={self.cluster!r}, signed={self.signed})"


class TokenCache:
    """One :class:`IamToken` per (account, region, cluster), kept across scans (a warm Lambda)."""

    def __init__(
        self, reuse_seconds: float = TOKEN_REUSE_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self.reuse_seconds = reuse_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str], IamToken] = {}

    def get(self, account: str, region: str, cluster: str, presign: Presigner) -> IamToken:
        """The cluster's provider, signing from now on with ``presign`` (this scan's credentials).

        A cached token stays in use while young enough; if the credentials that signed it have
        expired since, the cluster answers 401 and the client signs a new one with ``presign``.
        """
        key = (account, region, cluster)
        with self._lock:
            found = self._tokens.get(key)
            if found is None:
                found = IamToken(presign, cluster, self.reuse_seconds, self._clock)
                self._tokens[key] = found
            else:
                found.use(presign)
            return found

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def __len__(self) -> int:
        return len(self._tokens)


TOKENS = TokenCache()  # the process-wide cache: a warm Lambda reuses tokens across invocations
