"""The Kubernetes checks against the simulator's Kubernetes API over HTTPS, as against EKS.

Given the demo fleet (DescribeCluster gives each cluster's endpoint and CA, the stand-in checks the
IAM token and allows exactly the generated ClusterRole), a scan reports every seeded hazard with
the object named, nothing on the clean clusters, and turns every failure of one cluster's API into a
``monitor.collection_error`` for that cluster only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from eksmon.context import COLLECTION_ERROR
from eksmon.engine import ScanResult, scan
from eksmon.models import Finding, Severity
from eksmon.settings import parse_settings
from eksmon.sim import k8s_objects as k8s
from eksmon.sim.eks import EksExtension
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_FLEET, DEMO_NOW, DEMO_REGIONS
from eksmon.sim.k8s_hazards import DEMO_PODS, DEMO_SERVICES, seed_cluster
from eksmon.sim.kubernetes_api import KubeCluster, KubernetesApi, seed_baseline
from eksmon.sim.server import Simulator

KUBERNETES_CHECKS = {
    "webhook.catch_all",
    "webhook.fail_closed_timeout",
    "webhook.no_endpoints",
    "pod.unsafe_sysctls",
    "kube_proxy.iptables_at_scale",
    "cni.ip_caching",
    "auth.aws_auth_invalid",
    "version.pdb_blocks_drain",
    "webhook.single_point_of_failure",
    "apiserver.aggregated_api_unavailable",
}
EU = "eu-west-1"


def run(
    sim: Simulator, now: datetime, clusters: list[str] | None = None, region: str | None = None, **config: Any
) -> ScanResult:
    settings = parse_settings(
        {
            "regions": [region] if region else list(DEMO_REGIONS),
            "clusters": {"include": clusters or ["*"]},
            **config,
        }
    )
    return scan(
        settings, now, monitor="kubernetes", session_factory=sim.session_factory(region or DEMO_REGIONS[0])
    )


def add_demo_cluster(sim: Simulator, name: str) -> KubeCluster:
    """One demo cluster (EKS, its baseline objects and its scenarios) in the simulated account."""
    demo = next(c for c in DEMO_FLEET if c.name == name)
    sim.extension(EksExtension).add_cluster(demo, DEMO_ACCOUNT)
    api: KubernetesApi = sim.extension(KubernetesApi)
    cluster = api.cluster(DEMO_ACCOUNT, demo.region, demo.name, demo.version)
    seed_baseline(
        cluster,
        nodegroups=demo.nodegroups,
        authentication_mode=demo.authentication_mode,
        endpoint=api.endpoint(DEMO_ACCOUNT, demo.region, demo.name),
    )
    seed_cluster(cluster, demo)
    return cluster


@pytest.fixture
def ml(sim: Simulator) -> KubeCluster:
    """Only ml-training (baseline + failing webhook) in an otherwise empty account: much cheaper than
    re-seeding the whole demo fleet for each failure test."""
    return add_demo_cluster(sim, "ml-training")


def cluster_api(sim: Simulator, name: str) -> KubeCluster:
    region = next(c.region for c in DEMO_FLEET if c.name == name)
    api: KubernetesApi = sim.extension(KubernetesApi)
    return api.clusters[(DEMO_ACCOUNT, region, name)]


def of(result: ScanResult, cluster: str, check: str | None = None) -> list[Finding]:
    return [f for f in result.findings if f.cluster == cluster and (check is None or f.check == check)]


def errors(result: ScanResult, cluster: str | None = None) -> list[Finding]:
    return [
        f
        for f in result.findings
        if f.check == COLLECTION_ERROR and (cluster is None or f.cluster == cluster)
    ]


@dataclass
class DemoScan:
    result: ScanResult
    pod_pages: int
    service_requests: list[dict[str, str]]


@pytest.fixture(scope="module")
def demo_scan(simulator: Simulator) -> DemoScan:
    """One scan of the whole demo fleet, shared by the tests that only read its result."""
    simulator.reset()
    simulator.seed_demo()
    result = run(simulator, DEMO_NOW)
    staging = cluster_api(simulator, "search-staging")
    pods = [r for r in staging.requests if r.path == "/api/v1/pods"]
    services = [r.query for r in staging.requests if r.path == "/api/v1/services"]
    return DemoScan(result, len(pods), services)


# -- the demo fleet -----------------------------------------------------------------------------------
def test_every_seeded_hazard_is_reported_with_the_object_named(demo_scan: DemoScan) -> None:
    found = {(f.check, f.cluster, f.resource): f for f in demo_scan.result.findings}
    expect = {
        (
            "webhook.catch_all",
            "search-staging",
            "ValidatingWebhookConfiguration/gatekeeper-validating-webhook-configuration",
        ): Severity.CRITICAL,
        (
            "webhook.catch_all",
            "search-staging",
            "MutatingWebhookConfiguration/audit-annotator",
        ): Severity.WARNING,
        (
            "webhook.fail_closed_timeout",
            "search-staging",
            "ValidatingWebhookConfiguration/gatekeeper-validating-webhook-configuration",
        ): Severity.WARNING,
        (
            "webhook.no_endpoints",
            "search-staging",
            "MutatingWebhookConfiguration/legacy-sidecar-injector",
        ): Severity.CRITICAL,
        (
            "webhook.no_endpoints",
            "search-staging",
            "ValidatingWebhookConfiguration/external-policy",
        ): Severity.INFO,
        (
            "webhook.no_endpoints",
            "ml-training",
            "ValidatingWebhookConfiguration/kyverno-resource-validating-webhook-cfg",
        ): Severity.CRITICAL,
        (
            "kube_proxy.iptables_at_scale",
            "search-staging",
            "ConfigMap/kube-system/kube-proxy-config",
        ): Severity.WARNING,
        ("cni.ip_caching", "search-staging", "DaemonSet/kube-system/aws-node"): Severity.INFO,
        ("auth.aws_auth_invalid", "search-staging", "ConfigMap/kube-system/aws-auth"): Severity.CRITICAL,
        (
            "webhook.single_point_of_failure",
            "search-staging",
            "MutatingWebhookConfiguration/vault-agent-injector-cfg",
        ): Severity.WARNING,
        (
            "webhook.single_point_of_failure",
            "search-staging",
            "ValidatingWebhookConfiguration/opa-ingress-validation",
        ): Severity.WARNING,
        (
            "apiserver.aggregated_api_unavailable",
            "search-staging",
            "APIService/v1beta1.metrics.k8s.io",
        ): Severity.CRITICAL,
        (
            "version.pdb_blocks_drain",
            "search-staging",
            "PodDisruptionBudget/search/opensearch-data",
        ): Severity.WARNING,
    }
    for key, severity in expect.items():
        assert key in found, f"missing {key}"
        assert found[key].severity is severity, key
    sysctl_pods = sorted(f.resource for f in of(demo_scan.result, "search-staging", "pod.unsafe_sysctls"))
    assert len(sysctl_pods) == 4
    assert sysctl_pods[0].startswith("Pod/batch/etl-worker-")
    assert all(r.startswith("Pod/search/search-indexer-") for r in sysctl_pods[1:])
    refused = next(
        f for f in of(demo_scan.result, "search-staging", "pod.unsafe_sysctls") if "etl-worker" in f.resource
    )
    assert refused.details["sysctl_forbidden"] is True and "kernel.sem" in refused.message
    assert {f.check for f in demo_scan.result.findings} == KUBERNETES_CHECKS


def test_findings_carry_the_numbers_a_user_acts_on(demo_scan: DemoScan) -> None:
    [proxy] = of(demo_scan.result, "search-staging", "kube_proxy.iptables_at_scale")
    assert proxy.details["services"] == DEMO_SERVICES and proxy.details["mode"] == ""
    [injector] = [
        f
        for f in of(demo_scan.result, "search-staging", "webhook.no_endpoints")
        if f.severity is Severity.CRITICAL
    ]
    assert injector.details["blocks_own_recovery"] is True
    assert "none of the 2 endpoints" in injector.message
    [image] = of(demo_scan.result, "ml-training", "webhook.no_endpoints")
    assert image.details["blocks_own_recovery"] is False  # its namespaceSelector spares kyverno
    [auth] = of(demo_scan.result, "search-staging", "auth.aws_auth_invalid")
    assert (
        "mapUsers is not valid YAML" in auth.message
        and "no groups" in auth.message
        and "no rolearn" in auth.message
    )
    [aggregated] = of(demo_scan.result, "search-staging", "apiserver.aggregated_api_unavailable")
    assert aggregated.details["stuck_namespaces"] == ["feature-x-preview"]
    assert aggregated.details["reason"] == "FailedDiscoveryCheck"
    [cni] = of(demo_scan.result, "search-staging", "cni.ip_caching")
    assert cni.details["forces_ec2_call_per_pod_start"] is True


def test_clean_clusters_have_no_finding_and_nothing_failed(demo_scan: DemoScan) -> None:
    assert of(demo_scan.result, "checkout-prod") == []
    hazardous = {"search-staging", "ml-training"}
    assert [f for f in demo_scan.result.findings if f.cluster not in hazardous] == []
    assert errors(demo_scan.result) == []
    assert len(demo_scan.result.clusters) == len(DEMO_FLEET)


def test_thousands_of_pods_are_read_in_pages_and_services_counted_in_one_request(demo_scan: DemoScan) -> None:
    assert demo_scan.pod_pages == math.ceil(DEMO_PODS / 500)  # the default page size
    assert demo_scan.service_requests == [{"limit": "1"}]  # remainingItemCount gave the rest


# -- paging and counting ------------------------------------------------------------------------------
def add_unsafe_pods(cluster: KubeCluster, count: int, ns: str = "apps") -> None:
    cluster.add_many(
        "Pod",
        (
            k8s.pod(
                ns,
                f"tuned-{i:03d}",
                [k8s.container("app", "app:1")],
                node_name="n1",
                sysctls={"kernel.msgmax": "65536"},
            )
            for i in range(count)
        ),
    )


def test_small_pages_still_read_every_pod(sim: Simulator, ml: KubeCluster, now: datetime) -> None:
    cluster = ml
    add_unsafe_pods(cluster, 35)
    total = cluster.count("Pod")
    result = run(sim, now, ["ml-training"], EU, kubernetes={"page_size": 10})
    assert len(of(result, "ml-training", "pod.unsafe_sysctls")) == 35
    assert len([r for r in cluster.requests if r.path == "/api/v1/pods"]) == math.ceil(total / 10)


def test_services_are_counted_page_by_page_when_the_apiserver_gives_no_remaining_count(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    cluster = ml
    cluster.add_many(
        "Service", (k8s.service("apps", f"s{i:04d}", selector={"app": "x"}) for i in range(1100))
    )
    original = cluster.list_page

    def without_remaining(info: Any, namespace: str, query: dict[str, str]) -> tuple[int, Any]:
        status, body = original(info, namespace, query)
        body.get("metadata", {}).pop("remainingItemCount", None)
        return status, body

    cluster.list_page = without_remaining  # type: ignore[method-assign]
    result = run(sim, now, ["ml-training"], EU, checks={"disabled": []})
    [proxy] = of(result, "ml-training", "kube_proxy.iptables_at_scale")
    assert proxy.details["services"] == cluster.count("Service")
    assert len([r for r in cluster.requests if r.path == "/api/v1/services"]) > 2


# -- failures of one cluster's API --------------------------------------------------------------------
def test_no_access_entry_is_one_collection_error_for_that_cluster_only(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    # Given a cluster whose API refuses the monitor's token (no access entry)
    other = add_demo_cluster(sim, "analytics-legacy")
    other.access_entry = False

    # When the Kubernetes monitor scans the region
    result = run(sim, now, None, EU)

    # Then that cluster gives exactly one finding, naming the cause, the fix and every skipped check
    [failed] = errors(result, "analytics-legacy")
    assert failed.resource == "source/kubernetes" and failed.details["error_code"] == "KubeUnauthorized"
    assert "access entry" in failed.message and "not asked again" in failed.message
    assert "access entry" in failed.remediation and "eksmon rbac" in failed.remediation
    assert set(failed.details["affected_checks"]) == KUBERNETES_CHECKS
    # after the first refusal (and its one re-signed retry) the cluster is not called again
    assert len(other.requests) == 2
    assert of(result, "ml-training", "webhook.no_endpoints")  # the other cluster is still scanned
    assert errors(result, "ml-training") == []


def test_a_missing_permission_names_it_and_hides_nothing_else(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    from eksmon.sim.kubernetes_api import registry_permissions

    ml.permissions = [p for p in registry_permissions() if getattr(p, "resource", "") != "endpointslices"]
    add_unsafe_pods(ml, 1)
    result = run(sim, now, ["ml-training"], EU)
    [failed] = errors(result, "ml-training")
    assert failed.details["error_code"] == "KubeForbidden"
    assert "list endpointslices.discovery.k8s.io" in failed.message and "eksmon rbac" in failed.message
    assert of(result, "ml-training", "webhook.no_endpoints") == []
    assert of(result, "ml-training", "pod.unsafe_sysctls")


def test_a_slow_apiserver_times_out_as_a_collection_error(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    cluster = ml
    cluster.slow(30, path="/api/v1/pods")
    result = run(sim, now, ["ml-training"], EU, kubernetes={"timeout_seconds": 0.5})
    [failed] = errors(result, "ml-training")
    assert failed.details["error_code"] == "KubeTimeout" and "/api/v1/pods" in failed.message
    assert of(result, "ml-training", "webhook.no_endpoints")  # the other collectors still ran


def test_an_endpoint_that_resets_connections_is_one_collection_error(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    cluster = ml
    cluster.unreachable()
    result = run(sim, now, ["ml-training"], EU)
    [failed] = errors(result, "ml-training")
    assert failed.resource == "source/kubernetes" and failed.details["error_code"] == "KubeConnectionError"
    assert "connection reset" in failed.message and "kubernetes.vpc" in failed.remediation
    assert [f for f in result.findings if f.check != COLLECTION_ERROR] == []
    assert len(cluster.requests) == 3  # one request, tried three times, and nothing after it


def test_a_refused_connection_is_one_collection_error_named_refused(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    # Given a cluster whose endpoint has nothing listening (the collectors' client is pointed there)
    import socket

    from eksmon.engine import Services
    from eksmon.kube import KubeClient

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    made: list[KubeClient] = []

    def closed_port(ctx: Any) -> KubeClient:
        if not made:
            made.append(KubeClient(f"https://127.0.0.1:{port}", token="t", sleep=lambda _: None))
        return made[0]

    settings = parse_settings({"regions": [EU], "clusters": {"include": ["ml-training"]}})
    result = scan(
        settings,
        now,
        monitor="kubernetes",
        session_factory=sim.session_factory(EU),
        services=Services(kubernetes=closed_port),
    )

    # Then one finding says the connection was refused (not a timeout), with the affected checks
    [failed] = errors(result, "ml-training")
    assert failed.resource == "source/kubernetes" and failed.details["error_code"] == "KubeConnectionError"
    assert "connection refused by 127.0.0.1" in failed.message and "timeout" not in failed.message
    assert set(failed.details["affected_checks"]) == KUBERNETES_CHECKS


@pytest.mark.parametrize("repeat", [True, False], ids=["repeated-token", "new-token-each-page"])
def test_a_list_that_never_ends_is_bounded_and_one_collection_error(
    sim: Simulator, ml: KubeCluster, now: datetime, repeat: bool
) -> None:
    # Given an apiserver whose pod list hands out a continue token on every page
    ml.endless_list("/api/v1/pods", repeat=repeat)

    # When the cluster is scanned with a ceiling of 20 pages per list
    result = run(sim, now, ["ml-training"], EU, kubernetes={"max_list_pages": 20})

    # Then the list stops after a bounded number of requests, as one collection error for the cluster
    pods = [r for r in ml.requests if r.path == "/api/v1/pods"]
    assert len(pods) == (2 if repeat else 20)
    [failed] = errors(result, "ml-training")
    assert failed.details["error_code"] == "KubeListUnbounded" and failed.resource == "source/kubernetes"
    assert "endless list: list pods at cluster scope" in failed.message
    assert ("already given" if repeat else "max_list_pages") in failed.message
    assert "kubernetes_pods.pods_with_sysctls" in failed.details["skipped_collectors"]


def test_an_api_whose_every_list_is_endless_is_given_up_after_one_list(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    # Given an apiserver (or a proxy) that puts a fresh continue token on every list answer
    ml.endless_list(repeat=False)

    # When the cluster is scanned with a ceiling of 50 pages per list (the reads run 4 at a time)
    result = run(
        sim, now, ["ml-training"], EU, kubernetes={"max_list_pages": 50}, aws={"max_in_flight_per_region": 4}
    )

    # Then the cluster is given up after the first list that proved endless: one collection error, the
    # cluster's other Kubernetes reads skipped, and only the lists already under way run to the ceiling
    [failed] = errors(result, "ml-training")
    assert failed.details["error_code"] == "KubeListUnbounded" and failed.resource == "source/kubernetes"
    assert "max_list_pages" in failed.message and "not asked again" in failed.message
    assert failed.details["skipped_collectors"] and failed.details["affected_checks"]
    lists = [r for r in ml.requests if r.note == "endless"]
    assert 50 <= len(lists) <= 4 * 50


def test_an_expired_continue_token_restarts_the_list_once(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    cluster = ml
    add_unsafe_pods(cluster, 3)
    cluster.fail(410, path="/api/v1/pods", times=1)
    result = run(sim, now, ["ml-training"], EU, checks={"disabled": []})
    assert errors(result, "ml-training") == []
    assert len(of(result, "ml-training", "pod.unsafe_sysctls")) == 3
    cluster.fail(410, path="/api/v1/pods", times=2)
    again = run(sim, now, ["ml-training"], EU)
    [failed] = errors(again, "ml-training")
    assert failed.details["error_code"] == "KubeGone"
    assert of(again, "ml-training", "pod.unsafe_sysctls") == []


def test_server_errors_are_retried_then_reported(sim: Simulator, ml: KubeCluster, now: datetime) -> None:
    cluster = ml
    cluster.fail(503, path="/api/v1/services")
    result = run(sim, now, ["ml-training"], EU)
    [failed] = errors(result, "ml-training")
    assert failed.details["error_code"] == "KubeServerError" and "503" in failed.message
    assert len([r for r in cluster.requests if r.path == "/api/v1/services"]) == 3  # bounded retries


# -- odd objects ----------------------------------------------------------------------------------------
def test_objects_with_wrong_fields_are_skipped_with_a_reason_and_the_rest_checked(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    cluster = ml
    add_unsafe_pods(cluster, 2)
    bad_pod = k8s.pod("apps", "odd", [k8s.container("a", "a:1")])
    bad_pod["spec"]["securityContext"] = {"sysctls": "kernel.msgmax=1"}
    cluster.add("Pod", bad_pod)
    cluster.add(
        "ValidatingWebhookConfiguration",
        {"metadata": {"name": "half-written"}, "webhooks": [{"name": "x.example.com", "clientConfig": None}]},
    )
    result = run(sim, now, ["ml-training"], EU)
    skipped = {f.details["source"]: f for f in errors(result, "ml-training")}
    assert set(skipped) == {"kubernetes:pods", "kubernetes:webhookconfigurations"}
    assert (
        "Pod/apps/odd: spec.securityContext.sysctls is a str, not a list"
        in skipped["kubernetes:pods"].message
    )
    assert (
        "ValidatingWebhookConfiguration/half-written" in skipped["kubernetes:webhookconfigurations"].message
    )
    assert len(of(result, "ml-training", "pod.unsafe_sysctls")) == 2
    assert of(result, "ml-training", "webhook.no_endpoints")


def test_null_fields_read_as_v1_defaults(sim: Simulator, ml: KubeCluster, now: datetime) -> None:
    cluster = ml
    hook = k8s.webhook(
        "everything.example.com", service=("kube-system", "kube-dns"), rules=[k8s.rule()], failure_policy=None
    )
    hook.update(
        {"namespaceSelector": None, "objectSelector": None, "timeoutSeconds": None, "matchConditions": None}
    )
    cluster.add(
        "MutatingWebhookConfiguration",
        k8s.webhook_configuration("MutatingWebhookConfiguration", "defaults-only", [hook]),
    )
    result = run(sim, now, ["ml-training"], EU)
    [found] = [f for f in of(result, "ml-training", "webhook.catch_all")]
    assert found.severity is Severity.CRITICAL  # failurePolicy unset is Fail
    assert found.details["webhooks"][0]["timeout_seconds"] == 10
    assert errors(result, "ml-training") == []


def test_absent_system_objects_are_not_hazards_nor_errors(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    cluster = ml
    for kind, name in (
        ("DaemonSet", "aws-node"),
        ("DaemonSet", "kube-proxy"),
        ("ConfigMap", "kube-proxy-config"),
        ("ConfigMap", "aws-auth"),
    ):
        cluster.remove(kind, name, "kube-system")
    cluster.clear("ValidatingWebhookConfiguration")
    cluster.clear("MutatingWebhookConfiguration")
    result = run(sim, now, ["ml-training"], EU)
    assert result.findings == []


def test_an_unreadable_kube_proxy_config_is_reported_not_passed(
    sim: Simulator, ml: KubeCluster, now: datetime
) -> None:
    cluster = ml
    cluster.add("ConfigMap", k8s.config_map("kube-system", "kube-proxy-config", {"config": "mode: [ipvs"}))
    result = run(sim, now, ["ml-training"], EU)
    [failed] = errors(result, "ml-training")
    assert failed.details["source"] == "kubernetes:configmaps/kube-proxy-config"
    assert "not valid YAML" in failed.message
