"""The Kubernetes access layer against the simulator's API stand-in, over real TLS.

Given the demo fleet (DescribeCluster points each cluster at the stand-in, with its CA), the
client authenticates with an IAM token signed by the simulator's STS credentials, pages through
lists holding one page at a time, streams /metrics, and turns every failure into a KubeError
that says what to fix.
"""

from __future__ import annotations

import base64
import itertools
import json
import socket
import sys
import textwrap
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from eksmon.aws import ApiCallCounter
from eksmon.aws_io import AwsAccount
from eksmon.collectors.eks import describe_cluster
from eksmon.context import CollectContext, Services
from eksmon.errors import ConfigError
from eksmon.kube import (
    CHUNK_SIZE,
    IamToken,
    KubeClient,
    KubeconfigError,
    KubeConnectionError,
    KubeForbidden,
    KubeGone,
    KubeNotFound,
    KubernetesAccess,
    KubernetesDisabled,
    KubeServerError,
    KubeTimeout,
    KubeTLSError,
    KubeUnauthorized,
    KubeUnavailable,
    TokenCache,
    cli_services,
    get_token,
    kube_client,
    presigner,
)
from eksmon.parts import ClusterInfo
from eksmon.registry import KubeNonResource, KubePermission, load
from eksmon.settings import parse_settings
from eksmon.sim import k8s_objects as k8s
from eksmon.sim.dumps import read_dump
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_FLEET
from eksmon.sim.kubernetes_api import (
    METRICS_FIXTURE,
    CertificateAuthority,
    KubeCluster,
    KubernetesApi,
    default_metrics,
    registry_permissions,
    seed_baseline,
)
from eksmon.sim.server import Simulator
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot

REGION = "us-east-1"
# What the Kubernetes checks will read; tests grant it explicitly so they do not depend on which
# collectors have landed. The default (the registry's ClusterRole) is tested on its own below.
READER = [
    KubePermission("", "pods"),
    KubePermission("", "services"),
    KubePermission("", "configmaps"),
    KubePermission("", "namespaces"),
    KubePermission("apps", "daemonsets"),
    KubePermission("discovery.k8s.io", "endpointslices"),
    KubePermission("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
    KubeNonResource("/metrics"),
]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator().start()
    simulator.reset()  # moto's backends are per process: start from an empty account
    simulator.seed_demo()
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def demo_fleet(sim: Simulator) -> None:
    """moto's backends are per process: under xdist another module's tests may have emptied them."""
    from moto.eks.models import eks_backends

    if not all(c.name in eks_backends[DEMO_ACCOUNT][c.region].clusters for c in DEMO_FLEET):
        sim.reset()
        sim.seed_demo()


@pytest.fixture(scope="module")
def api(sim: Simulator) -> KubernetesApi:
    ext: KubernetesApi = sim.extension(KubernetesApi)
    return ext


def no_sleep(_: float) -> None:
    return None


_names = itertools.count(1)


@pytest.fixture
def cluster(api: KubernetesApi) -> KubeCluster:
    """A fresh cluster of the stand-in (not in EKS), readable with READER."""
    c = api.cluster(DEMO_ACCOUNT, REGION, f"kube-test-{next(_names)}", "1.33", register=False)
    c.permissions = list(READER)
    c.add("Namespace", k8s.namespace("default"))
    return c


def token_for(sim: Simulator, name: str, region: str = REGION) -> IamToken:
    return IamToken(presigner(sim.session(region).client("sts")), name)


def client(sim: Simulator, api: KubernetesApi, c: KubeCluster, **kwargs: Any) -> KubeClient:
    kwargs.setdefault("token", token_for(sim, c.name, c.region))
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("sleep", no_sleep)
    kwargs.setdefault("ca_pem", api.ca_pem)
    return KubeClient(api.endpoint(c.account, c.region, c.name), **kwargs)


def context(
    sim: Simulator, region: str, name: str, services: Services | None = None, **settings: Any
) -> CollectContext:
    """A CollectContext for one demo cluster, with its ClusterInfo collected by the real collector."""
    account = AwsAccount(
        DEMO_ACCOUNT, sim.session(region), Config(retries={"max_attempts": 2}), ApiCallCounter()
    )
    region_snap = RegionSnapshot(DEMO_ACCOUNT, region)
    ctx = CollectContext(
        account=DEMO_ACCOUNT,
        region=region,
        aws=account,
        settings=parse_settings(settings),
        now=datetime.now(UTC),
        region_snapshot=region_snap,
        cluster_snapshot=ClusterSnapshot(DEMO_ACCOUNT, region, name, region_snap),
        services=services,
    )
    assert ctx.cluster_snapshot is not None
    ctx.cluster_snapshot.parts[ClusterInfo] = describe_cluster(ctx)
    return ctx


def test_the_stand_in_is_installed_once_though_it_spans_several_modules(sim: Simulator) -> None:
    """Every ``eksmon.sim`` module defining ``install`` adds extensions: only the entry point may."""
    import importlib
    import pkgutil

    import eksmon.sim
    from eksmon.sim.kubernetes_api import KubernetesEndpoints

    assert [type(e) for e in sim.extensions].count(KubernetesApi) == 1
    assert [type(e) for e in sim.extensions].count(KubernetesEndpoints) == 1
    kube_modules = [
        m.name
        for m in pkgutil.iter_modules(eksmon.sim.__path__, "eksmon.sim.")
        if m.name.startswith(("eksmon.sim.kube_", "eksmon.sim.kubernetes_"))
    ]
    assert len(kube_modules) > 1
    installers = [m for m in kube_modules if hasattr(importlib.import_module(m), "install")]
    assert installers == ["eksmon.sim.kubernetes_api"]


# -- the default path: DescribeCluster endpoint + CA + IAM token ------------------------------------------
def test_describe_cluster_points_every_demo_cluster_at_the_stand_in(
    sim: Simulator, api: KubernetesApi
) -> None:
    for demo in DEMO_FLEET:
        c = sim.session(demo.region).client("eks").describe_cluster(name=demo.name)["cluster"]
        assert c["endpoint"] == f"{api.base_url}/clusters/{DEMO_ACCOUNT}/{demo.region}/{demo.name}"
        assert base64.b64decode(c["certificateAuthority"]["data"]) == api.ca_pem
        assert api.base_url.startswith("https://127.0.0.1:")


def test_collectors_get_a_client_from_describe_cluster_and_an_iam_token(
    sim: Simulator, api: KubernetesApi
) -> None:
    # Given the engine's context for a demo cluster, with the default access factory
    access = KubernetesAccess(tokens=TokenCache())
    ctx = context(
        sim, "eu-west-1", "search-staging", Services(kubernetes=access), kubernetes={"page_size": 50}
    )

    # When a collector asks for its client
    kc = kube_client(ctx)

    # Then it reaches that cluster, authenticated as the simulator's principal, signature checked
    assert kc.get("/version")["gitVersion"].startswith("v1.35.")
    assert kube_client(ctx) is kc  # one client per cluster, shared by its collectors
    assert kc.page_size == 50 and kc.timeout == 10.0
    stand_in = api.clusters[(DEMO_ACCOUNT, "eu-west-1", "search-staging")]
    last = stand_in.requests[-1]
    assert (last.path, last.status) == ("/version", 200)
    assert last.caller == f"arn:aws:iam::{DEMO_ACCOUNT}:user/eksmon-simulator"
    assert len(access.tokens) == 1


def test_without_services_the_process_wide_default_is_used(sim: Simulator) -> None:
    ctx = context(sim, REGION, "checkout-prod")  # Services() as the engine makes it by default
    assert kube_client(ctx).get("/version")["minor"] == "35+"


def test_a_plain_moto_cluster_is_pointed_at_the_stand_in_too(sim: Simulator, api: KubernetesApi) -> None:
    # Given a cluster created through the EKS API only (no demo seeding, no registration)
    eks = sim.session("eu-west-1").client("eks")
    name = f"plain-{next(_names)}"
    eks.create_cluster(
        name=name,
        version="1.33",
        roleArn=f"arn:aws:iam::{DEMO_ACCOUNT}:role/eks-cluster-role",
        resourcesVpcConfig={"subnetIds": ["subnet-0a1b2c3d"]},
    )

    # When it is described, Then its endpoint is the stand-in (never a real *.eks.amazonaws.com host)
    c = eks.describe_cluster(name=name)["cluster"]
    assert c["endpoint"] == api.endpoint(DEMO_ACCOUNT, "eu-west-1", name)
    assert "upgradePolicy" not in c  # everything else stays moto's answer
    ctx = context(sim, "eu-west-1", name)
    stand_in = api.clusters[(DEMO_ACCOUNT, "eu-west-1", name)]
    stand_in.permissions = list(READER)
    kc = kube_client(ctx)
    assert kc.get("/version")["minor"] == "33+"
    assert kc.get("/api/v1/namespaces/kube-system/configmaps/kube-proxy-config")["kind"] == "ConfigMap"


def test_kubernetes_switched_off_raises_kubernetes_disabled(sim: Simulator) -> None:
    ctx = context(sim, REGION, "payments-prod", kubernetes={"enabled": False})
    with pytest.raises(KubernetesDisabled, match=r"kubernetes\.enabled"):
        kube_client(ctx)


def test_a_cluster_without_endpoint_is_unavailable(sim: Simulator) -> None:
    ctx = context(sim, REGION, "payments-prod")
    assert ctx.cluster_snapshot is not None
    info = ctx.get(ClusterInfo)
    ctx.cluster_snapshot.parts[ClusterInfo] = ClusterInfo(
        **{f: getattr(info, f) for f in info.__slots__} | {"endpoint": None, "status": "CREATING"}  # type: ignore[attr-defined]
    )
    with pytest.raises(KubeUnavailable, match=r"no API endpoint yet .status CREATING"):
        KubernetesAccess(tokens=TokenCache())(ctx)


def test_demo_clusters_carry_the_baseline_objects(sim: Simulator, api: KubernetesApi) -> None:
    for demo in DEMO_FLEET:  # other extensions add their scenarios on top of this baseline
        c = api.clusters[(DEMO_ACCOUNT, demo.region, demo.name)]
        assert c.version == demo.version
        proxy = c.get("ConfigMap", "kube-proxy-config", "kube-system")
        assert proxy is not None and "kind: KubeProxyConfiguration" in proxy["data"]["config"]
        assert c.get("DaemonSet", "aws-node", "kube-system") is not None
        assert c.get("DaemonSet", "kube-proxy", "kube-system") is not None
        assert {s["metadata"]["name"] for s in c.objects("Service")} >= {"kubernetes", "kube-dns"}
        if demo.authentication_mode != "API":
            assert c.get("ConfigMap", "aws-auth", "kube-system") is not None
        assert c.count("Node") == 2 * len(demo.nodegroups)
        assert c.objects("MutatingWebhookConfiguration")


def test_the_baseline_is_what_a_fresh_eks_cluster_has() -> None:
    c = KubeCluster(DEMO_ACCOUNT, REGION, "fresh", "1.33")
    seed_baseline(c, nodegroups=[("general", "1.33"), ("old", "1.32")], authentication_mode="API")
    proxy = c.get("ConfigMap", "kube-proxy-config", "kube-system")
    assert proxy is not None and 'mode: "iptables"' in proxy["data"]["config"]
    cni = c.get("DaemonSet", "aws-node", "kube-system")
    assert cni is not None
    env = {e["name"]: e.get("value") for e in cni["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["WARM_ENI_TARGET"] == "1" and "WARM_IP_TARGET" not in env and "MINIMUM_IP_TARGET" not in env
    assert c.get("ConfigMap", "aws-auth", "kube-system") is None  # API-only: access entries, no aws-auth
    assert (
        c.count("Node") == 4 and c.count("Pod") == 2 * 4 + 4
    )  # aws-node, kube-proxy per node; 2 coredns, 2 app
    kube_dns = next(
        s
        for s in c.objects("EndpointSlice")
        if s["metadata"]["labels"]["kubernetes.io/service-name"] == "kube-dns"
    )
    assert len(kube_dns["endpoints"]) == 2 and all(e["conditions"]["ready"] for e in kube_dns["endpoints"])
    hook = c.objects("MutatingWebhookConfiguration")[0]["webhooks"][0]
    assert hook["failurePolicy"] == "Ignore" and hook["timeoutSeconds"] == 10
    assert all(p["metadata"]["uid"] and p["metadata"]["resourceVersion"] for p in c.objects("Pod"))


def test_objects_are_real_shaped_v1_json(sim: Simulator, api: KubernetesApi) -> None:
    stand_in = api.clusters[(DEMO_ACCOUNT, REGION, "payments-prod")]
    stand_in.permissions = list(READER)
    try:
        kc = client(sim, api, stand_in)
        cm = kc.get("/api/v1/namespaces/kube-system/configmaps/kube-proxy-config")
        assert (cm["apiVersion"], cm["kind"]) == ("v1", "ConfigMap")
        assert cm["metadata"]["namespace"] == "kube-system" and cm["metadata"]["resourceVersion"].isdigit()
        ds = kc.get("/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node")
        assert (ds["apiVersion"], ds["kind"]) == ("apps/v1", "DaemonSet")
        slices = list(
            kc.list("/apis/discovery.k8s.io/v1/endpointslices", labels="kubernetes.io/service-name=kube-dns")
        )
        assert len(slices) == 1 and all(e["conditions"]["ready"] for e in slices[0]["endpoints"])
        assert "kind" not in slices[0]  # list items carry no kind, as the apiserver sends them
        hooks = list(kc.list("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"))
        assert [h["metadata"]["name"] for h in hooks] == ["pod-identity-webhook"]
        running = list(kc.list("/api/v1/namespaces/kube-system/pods", fields="status.phase=Running"))
        assert running and all(p["metadata"]["namespace"] == "kube-system" for p in running)
        with pytest.raises(KubeNotFound, match="not found"):
            kc.get("/api/v1/namespaces/kube-system/configmaps/no-such-map")
    finally:
        stand_in.permissions = None


# -- lists: pagination with bounded memory -----------------------------------------------------------------
def test_list_pages_through_thousands_of_items_one_page_at_a_time(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    # Given 4,000 pods of about 1 KB each
    padding = "x" * 700
    cluster.add_many(
        "Pod",
        (
            k8s.pod(
                f"ns-{i % 7}",
                f"pod-{i:05d}",
                [k8s.container("c", "img")],
                node_name="n1",
                labels={"app": f"a{i % 3}", "pad": padding[:60]},
            )
            | {
                "metadata": {
                    "name": f"pod-{i:05d}",
                    "namespace": f"ns-{i % 7}",
                    "annotations": {"p": padding},
                }
            }
            for i in range(4000)
        ),
    )
    kc = client(sim, api, cluster, page_size=250)

    # When the client lists them, Then pages are read only as the items are consumed
    items = kc.list("/api/v1/pods")
    lists = lambda: [r for r in cluster.requests if r.path == "/api/v1/pods"]  # noqa: E731
    assert len(lists()) == 1
    first = [next(items) for _ in range(250)]
    assert len(lists()) == 1
    next(items)
    assert len(lists()) == 2
    rest = list(items)
    names = [p["metadata"]["name"] for p in first] + [p["metadata"]["name"] for p in rest]
    assert len(names) == 3999 and len(set(names)) == 3999  # every one once (the 251st was consumed above)
    requests = lists()
    assert len(requests) == 16
    assert all(r.query["limit"] == "250" for r in requests)
    assert "continue" not in requests[0].query and all("continue" in r.query for r in requests[1:])

    # And the memory held while iterating stays near one page, far below the whole list
    whole = sum(len(json.dumps(p)) for p in cluster.objects("Pod"))
    one_page = whole // 16
    tracemalloc.start()
    try:
        count = 0
        for _ in kc.list("/api/v1/pods"):
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 4000
    assert peak < 8 * one_page, (peak, one_page)
    assert peak < whole / 3, (peak, whole)


def test_list_follows_resource_version_namespaces_and_selectors(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    for ns in ("a", "b", "c"):
        cluster.add_many(
            "Service",
            (k8s.service(ns, f"svc-{i:03d}", labels={"tier": "web" if i % 2 else "db"}) for i in range(40)),
        )
    kc = client(sim, api, cluster, page_size=15)
    in_b = list(kc.list("/api/v1/namespaces/b/services"))
    assert [s["metadata"]["name"] for s in in_b] == [f"svc-{i:03d}" for i in range(40)]
    assert {s["metadata"]["namespace"] for s in in_b} == {"b"}
    web = list(kc.list("/api/v1/services", labels="tier=web"))
    assert len(web) == 60 and all(s["metadata"]["labels"]["tier"] == "web" for s in web)
    assert len(list(kc.list("/api/v1/services", labels="tier in (web,db),tier!=db"))) == 60
    assert len(list(kc.list("/api/v1/services", fields="metadata.namespace!=a"))) == 80

    page = kc.get("/api/v1/services", {"limit": "50"})
    assert page["kind"] == "ServiceList" and page["metadata"]["remainingItemCount"] == 70
    again = kc.get("/api/v1/services", {"limit": "50", "continue": page["metadata"]["continue"]})
    assert again["metadata"]["resourceVersion"] == page["metadata"]["resourceVersion"]


def test_an_expired_continue_token_is_gone(sim: Simulator, api: KubernetesApi, cluster: KubeCluster) -> None:
    cluster.add_many("ConfigMap", (k8s.config_map("default", f"cm-{i}", {"k": "v"}) for i in range(30)))
    items = client(sim, api, cluster, page_size=10).list("/api/v1/configmaps")
    for _ in range(10):
        next(items)
    cluster.compact()  # etcd compacted while the list was being read
    with pytest.raises(KubeGone, match=r"continue token .* expired"):
        next(items)


# -- authentication and authorisation ---------------------------------------------------------------------
def test_no_token_or_a_bad_token_is_unauthorized(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    for token in (None, "k8s-aws-v1.aHR0cHM6Ly9leGFtcGxlLmNvbS8", "not-even-a-token"):
        with pytest.raises(KubeUnauthorized, match=r"unauthorized: .*access entry") as err:
            client(sim, api, cluster, token=token).get("/version")
        assert err.value.status == 401
    other = get_token(sim.session(REGION).client("sts"), "some-other-cluster")
    with pytest.raises(KubeUnauthorized) as err:
        client(sim, api, cluster, token=other).get("/version")
    assert other not in str(err.value) and other[20:60] not in repr(err.value.args)
    assert "signature does not match" in cluster.requests[-1].note


def test_a_401_re_signs_the_token_once_then_reports_the_missing_access_entry(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    token = token_for(sim, cluster.name)
    kc = client(sim, api, cluster, token=token)
    kc.get("/version")
    assert token.signed == 1
    cluster.access_entry = False  # the monitor's role has no access entry
    with pytest.raises(KubeUnauthorized, match="no EKS access entry"):
        kc.get("/version")
    assert token.signed == 2
    assert [r.status for r in cluster.requests][-2:] == [401, 401]


def test_forbidden_names_the_missing_permission(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    kc = client(sim, api, cluster)
    with pytest.raises(KubeForbidden) as err:
        kc.list("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations")
    assert str(err.value).startswith(
        "forbidden: list validatingwebhookconfigurations.admissionregistration.k8s.io at cluster scope"
    )
    assert err.value.status == 403 and err.value.reason == "Forbidden"
    with pytest.raises(KubeForbidden, match='get serviceaccounts "default" in namespace default'):
        kc.get("/api/v1/namespaces/default/serviceaccounts/default")
    cluster.permissions = [p for p in READER if not isinstance(p, KubeNonResource)]
    with pytest.raises(KubeForbidden, match="get nonResourceURL /metrics"):
        kc.stream("/metrics")
    assert kc.get("/version")["major"] == "1"  # discovery and /version: every authenticated user


def test_secrets_are_never_readable_even_if_granted(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    cluster.add("Secret", {"metadata": {"name": "db", "namespace": "default"}, "data": {"p": "c2VjcmV0"}})
    cluster.permissions = [*READER, KubePermission("", "secrets"), KubePermission("*", "*")]
    kc = client(sim, api, cluster)
    with pytest.raises(KubeForbidden, match='get secrets "db" in namespace default'):
        kc.get("/api/v1/namespaces/default/secrets/db")
    with pytest.raises(KubeForbidden, match="list secrets at cluster scope"):
        kc.list("/api/v1/secrets")


def test_default_rbac_is_exactly_the_registrys_cluster_role(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    registry = load()
    declared = registry.kube_permissions(registry.checks.values())
    assert set(registry_permissions()) == {*declared, KubeNonResource("/metrics")}
    assert not any(isinstance(p, KubePermission) and p.resource == "secrets" for p in declared)

    cluster.permissions = None  # the registry's ClusterRole
    kc = client(sim, api, cluster)
    for p in declared:
        if isinstance(p, KubePermission) and "list" in p.verbs:
            kind = next(
                (k for k in k8s.KINDS.values() if (k.group, k.resource) == (p.api_group, p.resource)), None
            )
            if kind is not None:
                base = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
                list(kc.list(f"{base}/{kind.resource}"))  # allowed: no KubeForbidden
    assert b"# TYPE apiserver_" in b"".join(itertools.islice(kc.stream("/metrics"), 5))
    undeclared = next(
        k
        for k in k8s.KINDS.values()
        if not any(
            isinstance(p, KubePermission) and (p.api_group, p.resource) == (k.group, k.resource)
            for p in declared
        )
    )
    base = (
        f"/apis/{undeclared.group}/{undeclared.version}" if undeclared.group else f"/api/{undeclared.version}"
    )
    with pytest.raises(KubeForbidden, match=f"list {undeclared.resource}"):
        kc.list(f"{base}/{undeclared.resource}")


# -- failures ------------------------------------------------------------------------------------------------
def test_a_slow_apiserver_times_out_without_retries(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    cluster.slow(5)
    kc = client(sim, api, cluster, timeout=0.4)
    started = time.monotonic()
    with pytest.raises(
        KubeTimeout, match=r"timeout: no answer from 127\.0\.0\.1:\d+ within 0\.4 s \(GET /version\)"
    ):
        kc.get("/version")
    assert time.monotonic() - started < 1.5  # one attempt: a slow server is not asked three times
    cluster.clear_faults()


def test_a_reset_connection_is_retried_then_reported(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    delays: list[float] = []
    kc = client(sim, api, cluster, sleep=delays.append)
    once = cluster.unreachable(times=1)
    assert kc.get("/version")["major"] == "1"  # a single reset is absorbed by a retry
    assert once.hits == 1
    cluster.clear_faults()
    fault = cluster.unreachable()
    with pytest.raises(
        KubeConnectionError, match=r"connection reset by 127.0.0.1:\d+ \(GET /version\) after 3 attempts"
    ) as err:
        kc.get("/version")
    assert err.value.reason == "ConnectionReset" and fault.hits == 3
    assert delays and all(0 < d <= 2.0 for d in delays)  # backoff between the tries, capped
    cluster.clear_faults()


def test_a_refused_connection_is_named_refused_not_a_timeout(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    # Given an endpoint where nothing listens (a port just closed)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    kc = KubeClient(f"https://127.0.0.1:{port}", ca_pem=api.ca_pem, token="t", sleep=no_sleep, timeout=2)

    # When it is asked, Then the error says refused, after the bounded attempts, quickly
    started = time.monotonic()
    with pytest.raises(
        KubeConnectionError, match=r"connection refused by 127\.0\.0\.1:\d+ .*after 3 attempts"
    ):
        kc.get("/version")
    assert time.monotonic() - started < 2
    with pytest.raises(KubeConnectionError) as err:
        kc.list("/api/v1/pods")
    assert err.value.reason == "ConnectionRefused" and not isinstance(err.value, KubeTimeout)


def test_429_and_5xx_are_retried_with_backoff_and_other_errors_are_not(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    delays: list[float] = []
    kc = client(sim, api, cluster, sleep=delays.append)
    twice = cluster.fail(503, path="/version", times=2)
    assert kc.get("/version")["major"] == "1"
    assert twice.hits == 2 and len(delays) == 1  # urllib3 retries the first at once, then backs off
    cluster.clear_faults()

    delays.clear()
    cluster.fail(429, times=1, retry_after=1)
    kc.get("/version")
    assert delays == [1.0]  # Retry-After honoured
    cluster.clear_faults()
    delays.clear()
    cluster.fail(429, times=1, retry_after=600)
    kc.get("/version")
    assert delays == [5.0]  # and capped
    cluster.clear_faults()

    fault = cluster.fail(500, path="/api/v1/pods", message="etcdserver: request timed out")
    with pytest.raises(
        KubeServerError, match=r"answered 500 .* after 3 attempts: etcdserver: request timed out"
    ):
        kc.list("/api/v1/pods")
    assert fault.hits == 3
    cluster.clear_faults()
    cluster.fail(404, path="/version")
    with pytest.raises(KubeNotFound):
        kc.get("/version")
    assert [r.status for r in cluster.requests][-1:] == [404] and cluster.faults[0].hits == 1
    cluster.clear_faults()


def test_an_endpoint_whose_certificate_is_not_signed_by_the_cluster_ca_fails_tls(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    other = CertificateAuthority()
    before = len(cluster.requests)
    with pytest.raises(
        KubeTLSError, match=r"TLS verification of 127.0.0.1:.* failed: .*certificate authority"
    ):
        client(sim, api, cluster, ca_pem=other.pem).get("/version")
    assert len(cluster.requests) == before  # never reached HTTP, never retried
    with pytest.raises(KubeTLSError, match="not a usable PEM"):
        client(sim, api, cluster, ca_pem=b"not a certificate")
    with pytest.raises(ValueError, match="https://"):
        KubeClient("http://127.0.0.1:1", ca_pem=api.ca_pem)


def test_an_unknown_endpoint_path_is_not_found(sim: Simulator, api: KubernetesApi) -> None:
    kc = KubeClient(
        f"{api.base_url}/clusters/{DEMO_ACCOUNT}/{REGION}/nope", ca_pem=api.ca_pem, sleep=no_sleep
    )
    with pytest.raises(KubeNotFound):
        kc.get("/version")


# -- /metrics -------------------------------------------------------------------------------------------------
def test_metrics_stream_in_64_kib_chunks(sim: Simulator, api: KubernetesApi, cluster: KubeCluster) -> None:
    kc = client(sim, api, cluster)
    chunks = list(kc.stream("/metrics"))
    body = b"".join(chunks)
    assert body == default_metrics()
    assert body == read_dump(METRICS_FIXTURE) and len(chunks) > 40  # the real 3 MB dump, not a stand-in
    assert all(len(c) == CHUNK_SIZE for c in chunks[:-1]) and 0 < len(chunks[-1]) <= CHUNK_SIZE


def test_metrics_from_a_generator_are_chunked_and_gzipped_and_early_stop_is_clean(
    sim: Simulator, api: KubernetesApi, cluster: KubeCluster
) -> None:
    line = b'apiserver_request_total{code="200",resource="pods",verb="LIST",version="v1"} 12345\n'
    total = 200_000

    def big() -> Iterator[bytes]:  # ~16 MB, produced in odd-sized pieces
        for start in range(0, total, 997):
            yield line * min(997, total - start)

    cluster.set_metrics(big)
    kc = client(sim, api, cluster)
    size = 0
    sizes = set()
    for chunk in kc.stream("/metrics"):
        size += len(chunk)
        sizes.add(len(chunk))
    assert size == len(line) * total and max(sizes) == CHUNK_SIZE

    stream = kc.stream("/metrics")
    next(stream)
    stream.close()  # stop early: the half-read connection is closed, not reused
    assert kc.get("/version")["major"] == "1"
    cluster.set_metrics("# TYPE up gauge\nup 1\n")
    assert b"".join(kc.stream("/metrics")) == b"# TYPE up gauge\nup 1\n"


# -- kubeconfig contexts (eksmon scan --kubeconfig PATH --kube-context CLUSTER=CONTEXT) --------------------
def write_kubeconfig(tmp_path: Path, api: KubernetesApi, sim: Simulator, cluster: str, region: str) -> Path:
    plugin = tmp_path / "get_token.py"
    plugin.write_text(
        textwrap.dedent(f"""
        import json, sys
        from eksmon.kube import get_token
        from eksmon.sim.server import _EndpointSession
        sts = _EndpointSession({sim.endpoint_url!r}, region_name={region!r}).client("sts")
        print(json.dumps({{"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1beta1",
                          "status": {{"token": get_token(sts, sys.argv[1]),
                                     "expirationTimestamp": "2999-01-01T00:00:00Z"}}}}))
    """)
    )
    (tmp_path / "ca.crt").write_bytes(api.ca_pem)
    static = get_token(sim.session(region).client("sts"), cluster)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "sim",
                "cluster": {
                    "server": api.endpoint(DEMO_ACCOUNT, region, cluster),
                    "certificate-authority-data": api.ca_b64,
                },
            },
            {
                "name": "sim-file",
                "cluster": {
                    "server": api.endpoint(DEMO_ACCOUNT, region, cluster),
                    "certificate-authority": "ca.crt",
                },
            },
            {
                "name": "insecure",
                "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True},
            },
        ],
        "users": [
            {
                "name": "exec",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": sys.executable,
                        "args": [str(plugin), cluster],
                    }
                },
            },
            {"name": "static", "user": {"token": static}},
        ],
        "contexts": [
            {"name": "via-exec", "context": {"cluster": "sim", "user": "exec"}},
            {"name": "via-token", "context": {"cluster": "sim-file", "user": "static"}},
            {"name": "insecure", "context": {"cluster": "insecure", "user": "static"}},
        ],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def test_kubeconfig_contexts_reach_the_cluster_with_exec_plugins_and_tokens(
    sim: Simulator, api: KubernetesApi, tmp_path: Path
) -> None:
    path = write_kubeconfig(tmp_path, api, sim, "data-platform", REGION)
    services = cli_services(
        parse_settings({}),
        kubeconfig=str(path),
        contexts={"data-platform": "via-exec", f"{REGION}/payments-prod": "via-token"},
    )
    ctx = context(sim, REGION, "data-platform", services)
    assert kube_client(ctx).get("/version")["minor"] == "32+"
    # a context for another cluster name only applies to that cluster; region/name keys work too
    access = services.kubernetes
    assert access.context_for(DEMO_ACCOUNT, REGION, "payments-prod") == "via-token"
    assert access.context_for(DEMO_ACCOUNT, "eu-west-1", "payments-prod") is None
    direct = access._kubeconfig_client(ctx, "via-token")  # CA from a file relative to the kubeconfig
    assert direct.get("/version")["minor"] == "32+"


def test_unusable_kubeconfig_contexts_are_configuration_errors(
    sim: Simulator, api: KubernetesApi, tmp_path: Path
) -> None:
    path = write_kubeconfig(tmp_path, api, sim, "data-platform", REGION)
    with pytest.raises(
        KubeconfigError,
        match=r"kubeconfig: context nope: no context named nope \(contexts: insecure, via-exec, via-token\)",
    ):
        cli_services(None, kubeconfig=str(path), contexts={"data-platform": "nope"})
    with pytest.raises(ConfigError, match="insecure-skip-tls-verify"):
        cli_services(None, kubeconfig=str(path), contexts={"data-platform": "insecure"})
    with pytest.raises(KubeconfigError, match="without --kube-context"):
        cli_services(None, kubeconfig=str(path), contexts={})
    with pytest.raises(KubeconfigError, match="no kubeconfig found"):
        cli_services(None, kubeconfig=str(tmp_path / "missing"), contexts={"x": "y"})
    assert (
        cli_services(parse_settings({"kubernetes": {"enabled": False}}), None, {"x": "y"}).kubernetes
        is not None
    )


# -- lifecycle ------------------------------------------------------------------------------------------------
def test_the_stand_in_stops_with_the_simulator_and_reset_forgets_clusters() -> None:
    other = Simulator().start()
    ext: KubernetesApi = other.extension(KubernetesApi)
    ext.cluster(DEMO_ACCOUNT, REGION, "temp", register=False)
    host, port = ext.base_url.removeprefix("https://").split(":")
    socket.create_connection((host, int(port)), timeout=2).close()
    ext.reset()
    assert ext.clusters == {}
    other.stop()
    assert not ext.running
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2).close()
