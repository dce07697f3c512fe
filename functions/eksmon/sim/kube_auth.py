"""Who may ask the Kubernetes API stand-in what: EKS's IAM authenticator and kube-apiserver's RBAC.

* **Authentication** (:func:`verify_token`): a ``Bearer k8s-aws-v1.…`` token whose presigned URL is
  an STS GetCallerIdentity with ``x-k8s-aws-id`` signed and an ``X-Amz-Date`` under 15 minutes old;
  for a key the simulator issued, the signature is recomputed for this cluster's name.
* **Authorisation** (:func:`allows`): exactly the RBAC eksmon generates
  (:func:`registry_permissions`: a ClusterRole, plus namespaced Role rules with ``resourceNames``)
  and the discovery URLs every authenticated user may read. Secrets are never readable.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from eksmon.kube.paths import RequestAttributes
from eksmon.kube.token import CLUSTER_ID_HEADER, decode_token
from eksmon.registry import KubeNonResource, KubePermission
from eksmon.sim.server import ACCESS_KEY, SECRET_KEY

Permission = KubePermission | KubeNonResource

TOKEN_MAX_AGE = dt.timedelta(minutes=15)
CLOCK_SKEW = dt.timedelta(minutes=5)
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
