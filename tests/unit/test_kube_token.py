"""The IAM token for the Kubernetes API, made as `aws eks get-token` makes it, and its cache."""

from __future__ import annotations

import base64
import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from eksmon.kube import (
    IamToken,
    TokenCache,
    decode_token,
    encode_token,
    get_token,
    presigner,
    request_attributes,
)
from eksmon.kube.token import TOKEN_PREFIX, TOKEN_REUSE_SECONDS
from eksmon.sim.kubernetes_api import TokenRejected, verify_token
from eksmon.sim.server import ACCESS_KEY, SECRET_KEY


def sts_client(region: str = "eu-west-1", endpoint_url: str | None = None):
    session = boto3.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region
    )
    return session.client("sts", region_name=region, endpoint_url=endpoint_url)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# -- format ---------------------------------------------------------------------------------------------
def test_token_is_a_presigned_get_caller_identity_url_with_the_cluster_header_signed_in() -> None:
    # Given an STS client with credentials, When a token is made for cluster "payments-prod"
    token = get_token(sts_client(), "payments-prod")

    # Then it is k8s-aws-v1. + unpadded base64url of a presigned GetCallerIdentity GET, valid 60 s
    assert token.startswith(TOKEN_PREFIX)
    body = token[len(TOKEN_PREFIX) :]
    assert "=" not in body and re.fullmatch(r"[A-Za-z0-9_-]+", body)
    url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    assert url == decode_token(token)
    parts, q = urlsplit(url), query(url)
    assert parts.scheme == "https" and parts.hostname and parts.hostname.startswith("sts")
    assert q["Action"] == "GetCallerIdentity" and q["Version"] == "2011-06-15"
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert q["X-Amz-Expires"] == "60"
    assert q["X-Amz-SignedHeaders"].split(";") == ["host", "x-k8s-aws-id"]
    assert q["X-Amz-Credential"].split("/")[2:] == ["eu-west-1", "sts", "aws4_request"]
    assert re.fullmatch(r"[0-9a-f]{64}", q["X-Amz-Signature"])
    assert "payments-prod" not in url  # a signed header's value is not in the URL, only in the signature


def test_signature_covers_the_cluster_name() -> None:
    # Given a token for one cluster, When a cluster recomputes the signature with its own name
    token = get_token(sts_client(), "payments-prod")

    # Then the right cluster accepts it and another refuses it
    caller = verify_token(f"Bearer {token}", "payments-prod")
    assert caller.signature_checked and caller.access_key == ACCESS_KEY
    with pytest.raises(TokenRejected, match="signature does not match"):
        verify_token(f"Bearer {token}", "checkout-prod")


def test_a_token_older_than_15_minutes_and_malformed_tokens_are_refused() -> None:
    token = get_token(sts_client(), "c1")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    with pytest.raises(TokenRejected, match="older than 15 minutes"):
        verify_token(f"Bearer {token}", "c1", now=later)
    verify_token(f"Bearer {token}", "c1", now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=14))
    for bad in (None, "Basic abc", "Bearer k8s-aws-v1.bm90IGEgdXJs", f"Bearer {token[len(TOKEN_PREFIX) :]}"):
        with pytest.raises(TokenRejected):
            verify_token(bad, "c1")
    unsigned = encode_token("https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15")
    with pytest.raises(TokenRejected):
        verify_token(f"Bearer {unsigned}", "c1")


def test_token_honours_the_sessions_sts_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # AWS_ENDPOINT_URL (or a simulator session's endpoint) is where the URL points
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    url = decode_token(get_token(sts_client(), "c1"))
    assert url.startswith("http://127.0.0.1:4566/?Action=GetCallerIdentity")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    url = decode_token(get_token(sts_client(endpoint_url="https://sts.example.test"), "c1"))
    assert urlsplit(url).hostname == "sts.example.test"


def test_presigning_leaves_other_calls_of_the_client_alone() -> None:
    client = sts_client()
    presign = presigner(client)
    presigner(client)  # registering twice is harmless
    assert "x-k8s-aws-id" in query(presign("a"))["X-Amz-SignedHeaders"]
    plain = client.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    assert query(plain)["X-Amz-SignedHeaders"] == "host"


# -- cache and refresh ---------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def counting_presigner() -> tuple[list[str], object]:
    calls: list[str] = []

    def presign(cluster: str) -> str:
        calls.append(cluster)
        return f"https://sts.amazonaws.com/?Action=GetCallerIdentity&n={len(calls)}"

    return calls, presign


def test_token_is_reused_for_13_minutes_then_re_signed() -> None:
    clock = Clock()
    calls, presign = counting_presigner()
    token = IamToken(presign, "c1", clock=clock)  # type: ignore[arg-type]

    first = token()
    clock.now += TOKEN_REUSE_SECONDS - 1
    assert token() == first and calls == ["c1"]
    clock.now += 1  # 13 minutes: refreshed well before the 14 a token may be used
    second = token()
    assert second != first and len(calls) == 2
    assert TOKEN_REUSE_SECONDS < 14 * 60
    clock.now -= 3600  # a clock that jumps back never keeps a token from the future
    assert token() != second and len(calls) == 3


def test_invalidate_forces_a_new_token_and_repr_never_shows_it() -> None:
    _, presign = counting_presigner()
    token = IamToken(presign, "c1")  # type: ignore[arg-type]
    value = token()
    token.invalidate()
    assert token() != value and token.signed == 2
    assert value not in repr(token) and "k8s-aws-v1" not in repr(token)


def test_cache_keeps_one_provider_per_account_region_cluster_and_signs_with_the_newest_session() -> None:
    cache = TokenCache()
    calls_a, presign_a = counting_presigner()
    calls_b, presign_b = counting_presigner()
    t1 = cache.get("111111111111", "eu-west-1", "c1", presign_a)  # type: ignore[arg-type]
    assert cache.get("111111111111", "eu-west-1", "c1", presign_a) is t1  # type: ignore[arg-type]
    assert cache.get("111111111111", "us-east-1", "c1", presign_a) is not t1  # type: ignore[arg-type]
    assert cache.get("222222222222", "eu-west-1", "c1", presign_a) is not t1  # type: ignore[arg-type]
    assert len(cache) == 3
    t1()
    cache.get("111111111111", "eu-west-1", "c1", presign_b)  # type: ignore[arg-type]  # next scan's session
    t1.invalidate()
    t1()
    assert calls_a == ["c1"] and calls_b == ["c1"]
    cache.clear()
    assert len(cache) == 0


# -- paths as RBAC reads them ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "described"),
    [
        (
            "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
            "list validatingwebhookconfigurations.admissionregistration.k8s.io at cluster scope",
        ),
        ("/api/v1/pods", "list pods at cluster scope"),
        (
            "/api/v1/namespaces/kube-system/configmaps/aws-auth",
            'get configmaps "aws-auth" in namespace kube-system',
        ),
        (
            "/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node",
            'get daemonsets.apps "aws-node" in namespace kube-system',
        ),
        ("/api/v1/namespaces/kube-system/pods", "list pods in namespace kube-system"),
        ("/api/v1/namespaces/kube-system", 'get namespaces "kube-system" at cluster scope'),
        ("/api/v1/namespaces/apps/pods/p1/log", 'get pods/log "p1" in namespace apps'),
        ("/metrics", "get nonResourceURL /metrics"),
        ("/apis/discovery.k8s.io/v1", "get nonResourceURL /apis/discovery.k8s.io/v1"),
    ],
)
def test_request_attributes_name_the_permission(path: str, described: str) -> None:
    assert request_attributes(path).describe() == described


def test_request_attributes_verbs() -> None:
    assert request_attributes("/api/v1/pods", watch=True).verb == "watch"
    assert request_attributes("/api/v1/namespaces/a/pods", "POST").verb == "create"
    assert request_attributes("/api/v1/namespaces/a/pods", "DELETE").verb == "deletecollection"
    assert request_attributes("/api/v1/namespaces/a/pods/p", "DELETE").verb == "delete"
