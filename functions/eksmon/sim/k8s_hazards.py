"""The demo fleet's Kubernetes configuration hazards, seeded on top of the stand-in's baseline.

By ``scenarios`` tag of :data:`eksmon.sim.fleet.DEMO_FLEET`:

* ``k8s-hazards`` (search-staging): one object per hazard the Kubernetes checks look for -- a
  catch-all fail-closed webhook with a 30 s timeout (gatekeeper), a catch-all Ignore webhook, a
  fail-closed sidecar injector whose pods are not ready and that blocks its own recovery, a
  fail-closed webhook called by URL, pods with unsafe sysctls and one refused (SysctlForbidden),
  kube-proxy mode "" (iptables), WARM_IP_TARGET without MINIMUM_IP_TARGET, a broken aws-auth, a
  PodDisruptionBudget with maxUnavailable 0 (no drain can ever evict its pods), fail-closed webhooks
  served by one pod or from one zone, metrics-server's APIService unavailable with a namespace stuck
  Terminating on it.
* ``many-services``: 1,200 Services (over the 1,000 of kube_proxy.iptables_at_scale).
* ``many-pods``: the cluster holds 5,000 pods, read in pages.
* ``k8s-clean`` (checkout-prod): near misses that must not be reported -- partial wildcards, an
  Ignore webhook with a 30 s timeout, healthy fail-closed webhooks, safe sysctls (one written
  with slashes), warm settings with MINIMUM_IP_TARGET, kube-proxy in IPVS mode, PodDisruptionBudgets
  that allow one eviction, that are at zero only while a pod is unhealthy, or that select no pod;
  metrics-server's APIService available again after an outage, and a Local APIService.
* ``webhook-failing`` (ml-training): Kyverno's fail-closed webhook with no ready pod, whose
  namespaceSelector spares its own namespace (its calls fail in the metrics extension too).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import yaml

from eksmon.sim import k8s_objects as k8s
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_FLEET, DemoCluster
from eksmon.sim.kubernetes_api import KubeCluster, KubernetesApi
from eksmon.sim.server import Extension, Simulator

DEMO_PODS = 5_000
DEMO_SERVICES = 1_200
TEAMS = 12
NAME = "kubernetes.io/metadata.name"

FAILING_WEBHOOK = (
    "ValidatingWebhookConfiguration",
    "kyverno-resource-validating-webhook-cfg",
    "validate.kyverno.svc-fail",  # as in the metrics extension's rejections (control_plane_metrics)
)


class KubernetesHazards(Extension):
    service = ""  # never sees AWS requests
    seed_order = 30  # after the Kubernetes API stand-in (20) made the clusters and their baseline

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def seed_demo(self, sim: Simulator) -> None:
        api = sim.extension(KubernetesApi)
        for demo in DEMO_FLEET:
            cluster = api.clusters.get((DEMO_ACCOUNT, demo.region, demo.name))
            if cluster is not None:
                seed_cluster(cluster, demo)


def seed_cluster(cluster: KubeCluster, demo: DemoCluster) -> None:
    tags = demo.scenarios
    if "k8s-hazards" in tags:
        seed_hazards(cluster)
    if "k8s-clean" in tags:
        seed_clean(cluster)
    if "webhook-failing" in tags:
        seed_failing_webhook(cluster)
    if "many-services" in tags:
        seed_services(cluster, DEMO_SERVICES)
    if "many-pods" in tags:
        seed_pods(cluster, DEMO_PODS)


# -- helpers ------------------------------------------------------------------------------------------
def _webhook_service(
    cluster: KubeCluster,
    ns: str,
    name: str,
    ready: int,
    not_ready: int = 0,
    target_port: int = 8443,
    zones: tuple[str, ...] = ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
) -> None:
    """A webhook's Service (443 -> target_port) with an EndpointSlice of its pods."""
    cluster.add("Namespace", k8s.namespace(ns))
    cluster.add(
        "Service", k8s.service(ns, name, ports=[("https", 443, target_port, "TCP")], selector={"app": name})
    )
    addresses: list[str | tuple[str, str | None]] = [
        (k8s.ip_for(f"{ns}/{name}/{i}"), f"{name}-{k8s.suffix(f'{name}{i}')}") for i in range(ready)
    ]
    cluster.add(
        "EndpointSlice",
        k8s.endpoint_slice(
            ns, name, addresses, ports=[("https", target_port, "TCP")], ready=True, zones=zones
        ),
    )
    if not_ready:
        down: list[str | tuple[str, str | None]] = [
            (k8s.ip_for(f"{ns}/{name}/down{i}"), f"{name}-{k8s.suffix(f'{name}down{i}')}")
            for i in range(not_ready)
        ]
        cluster.add(
            "EndpointSlice",
            k8s.endpoint_slice(
                ns, name, down, ports=[("https", target_port, "TCP")], ready=False, name=f"{name}-notready"
            ),
        )


def _replicas(ns: str, deployment: str, count: int, **kwargs: object) -> Iterator[k8s.Obj]:
    template = k8s.suffix(f"{ns}/{deployment}", 10)
    for i in range(count):
        yield k8s.pod(
            ns,
            f"{deployment}-{template}-{k8s.suffix(f'{ns}/{deployment}/{i}')}",
            [k8s.container(deployment, f"public.ecr.aws/eksmon-demo/{deployment}:1.4.2")],
            node_name=f"ip-10-0-1-{10 + i % 2}.eu-west-1.compute.internal",
            labels={"app": deployment},
            owner=k8s.owner("ReplicaSet", f"{deployment}-{template}"),
            **kwargs,  # type: ignore[arg-type]
        )


# -- scenarios ----------------------------------------------------------------------------------------
def seed_hazards(cluster: KubeCluster) -> None:
    # apiserver.aggregated_api_unavailable (critical): metrics-server down, a namespace stuck on it
    cluster.add(
        "APIService",
        k8s.api_service(
            "metrics.k8s.io",
            "v1beta1",
            ("kube-system", "metrics-server"),
            available=False,
            reason="FailedDiscoveryCheck",
            message="failing or missing response from https://10.100.37.12:443/apis/metrics.k8s.io/v1beta1: "
            'Get "https://10.100.37.12:443/apis/metrics.k8s.io/v1beta1": dial tcp 10.100.37.12:443: i/o timeout',
            since="2026-11-28T03:12:44Z",
        ),
    )
    cluster.add(
        "Namespace",
        k8s.terminating_namespace("feature-x-preview", "metrics.k8s.io/v1beta1", "2026-11-29T10:02:00Z"),
    )
    # version.pdb_blocks_drain: maxUnavailable 0 over three healthy replicas
    cluster.add("Namespace", k8s.namespace("search"))
    cluster.add(
        "PodDisruptionBudget",
        k8s.pod_disruption_budget("search", "opensearch-data", expected=3, healthy=3, max_unavailable=0),
    )
    # webhook.catch_all (critical) + webhook.fail_closed_timeout: gatekeeper, fail-closed, 30 s
    _webhook_service(cluster, "gatekeeper-system", "gatekeeper-webhook-service", ready=3)
    cluster.add(
        "ValidatingWebhookConfiguration",
        k8s.webhook_configuration(
            "ValidatingWebhookConfiguration",
            "gatekeeper-validating-webhook-configuration",
            [
                k8s.webhook(
                    "validation.gatekeeper.sh",
                    service=("gatekeeper-system", "gatekeeper-webhook-service", "/v1/admit", 443),
                    rules=[k8s.rule()],
                    failure_policy="Fail",
                    timeout_seconds=30,
                    namespace_selector={
                        "matchExpressions": [
                            {"key": "admission.gatekeeper.sh/ignore", "operator": "DoesNotExist"}
                        ]
                    },
                )
            ],
        ),
    )
    # webhook.catch_all (warning): every operation listed one by one, failurePolicy Ignore
    _webhook_service(cluster, "audit-system", "audit-annotator", ready=2)
    cluster.add(
        "MutatingWebhookConfiguration",
        k8s.webhook_configuration(
            "MutatingWebhookConfiguration",
            "audit-annotator",
            [
                k8s.webhook(
                    "annotate.audit.example.com",
                    service=("audit-system", "audit-annotator"),
                    rules=[
                        k8s.rule(operations=("CREATE", "UPDATE", "DELETE", "CONNECT"), resources=("*/*",))
                    ],
                    failure_policy="Ignore",
                    timeout_seconds=5,
                )
            ],
        ),
    )
    # webhook.no_endpoints (critical, blocks its own recovery): injector with no ready pod
    _webhook_service(cluster, "legacy-injector", "sidecar-injector", ready=0, not_ready=2)
    cluster.add(
        "MutatingWebhookConfiguration",
        k8s.webhook_configuration(
            "MutatingWebhookConfiguration",
            "legacy-sidecar-injector",
            [
                k8s.webhook(
                    "inject.legacy.example.com",
                    service=("legacy-injector", "sidecar-injector"),
                    rules=[k8s.rule([""], ["v1"], ["pods"], ["CREATE"], "Namespaced")],
                    failure_policy=None,  # unset: v1's default, Fail
                )
            ],
        ),
    )
    # webhook.single_point_of_failure: a fail-closed injector with one ready pod, and a fail-closed
    # validator whose two ready pods share one zone
    _webhook_service(cluster, "vault", "vault-agent-injector-svc", ready=1)
    cluster.add(
        "MutatingWebhookConfiguration",
        k8s.webhook_configuration(
            "MutatingWebhookConfiguration",
            "vault-agent-injector-cfg",
            [
                k8s.webhook(
                    "vault.hashicorp.com",
                    service=("vault", "vault-agent-injector-svc"),
                    rules=[k8s.rule([""], ["v1"], ["pods"], ["CREATE", "UPDATE"], "Namespaced")],
                    failure_policy="Fail",
                    timeout_seconds=10,
                )
            ],
        ),
    )
    _webhook_service(cluster, "opa", "opa-webhook", ready=2, zones=("eu-west-1b",))
    cluster.add(
        "ValidatingWebhookConfiguration",
        k8s.webhook_configuration(
            "ValidatingWebhookConfiguration",
            "opa-ingress-validation",
            [
                k8s.webhook(
                    "ingress.opa.example.com",
                    service=("opa", "opa-webhook"),
                    rules=[k8s.rule(["networking.k8s.io"], ["v1"], ["ingresses"], ["CREATE", "UPDATE"])],
                    failure_policy="Fail",
                    timeout_seconds=5,
                )
            ],
        ),
    )
    # webhook.no_endpoints (info): fail-closed webhook called by URL, cannot be verified
    cluster.add(
        "ValidatingWebhookConfiguration",
        k8s.webhook_configuration(
            "ValidatingWebhookConfiguration",
            "external-policy",
            [
                k8s.webhook(
                    "deployments.policy.example.com",
                    url="https://policy.example.internal:8443/validate",
                    rules=[k8s.rule(["apps"], ["v1"], ["deployments"], ["CREATE", "UPDATE"], "Namespaced")],
                    failure_policy="Fail",
                    timeout_seconds=10,
                )
            ],
        ),
    )
    # pod.unsafe_sysctls: three replicas with unsafe sysctls, one pod refused by the kubelet
    cluster.add("Namespace", k8s.namespace("search"))
    cluster.add("Namespace", k8s.namespace("batch"))
    cluster.add_many(
        "Pod",
        _replicas(
            "search", "search-indexer", 3, sysctls={"net.core.somaxconn": "4096", "kernel.msgmax": "65536"}
        ),
    )
    cluster.add_many(
        "Pod",
        (
            {
                **p,
                "status": {
                    **p["status"],
                    "message": 'Pod was rejected: forbidden sysctl: "kernel.sem" not allowlisted',
                },
            }
            for p in _replicas(
                "batch",
                "etl-worker",
                1,
                sysctls={"kernel.sem": "250 32000 100 128"},
                phase="Failed",
                reason="SysctlForbidden",
            )
        ),
    )
    # a safe one (1.32+), written with slashes: not reported on 1.35
    cluster.add_many(
        "Pod", _replicas("search", "query-frontend", 2, sysctls={"net/ipv4/tcp_rmem": "4096 87380 6291456"})
    )
    # kube_proxy.iptables_at_scale: mode "" means iptables (with many-services)
    cluster.add("ConfigMap", k8s.kube_proxy_config(""))
    # cni.ip_caching: WARM_IP_TARGET without MINIMUM_IP_TARGET
    _set_cni_env(cluster, {"WARM_IP_TARGET": "1", "WARM_ENI_TARGET": None})
    # auth.aws_auth_invalid: an entry without groups, one whose ARN key is misspelt, mapUsers not YAML
    broken_roles = [
        k8s.node_role_mapping(cluster.account),
        {"rolearn": f"arn:aws:iam::{cluster.account}:role/platform-admins", "username": "platform-admin"},
        {
            "roleARN": f"arn:aws:iam::{cluster.account}:role/ci-deployer",
            "username": "ci",
            "groups": ["deployers"],
        },
    ]
    cluster.add(
        "ConfigMap",
        k8s.aws_auth(
            raw={
                "mapRoles": yaml.safe_dump(broken_roles, sort_keys=False),
                "mapUsers": f"- userarn: arn:aws:iam::{cluster.account}:user/alice\n  username: alice\n\tgroups: [admins]\n",
            }
        ),
    )


def seed_clean(cluster: KubeCluster) -> None:
    """Configurations close to each hazard that must not be reported."""
    _webhook_service(cluster, "kyverno", "kyverno-svc", ready=3, target_port=9443)
    cluster.add(
        "ValidatingWebhookConfiguration",
        k8s.webhook_configuration(
            "ValidatingWebhookConfiguration",
            "kyverno-resource-validating-webhook-cfg",
            [
                k8s.webhook(
                    "validate.kyverno.svc-fail",
                    service=("kyverno", "kyverno-svc", "/validate/fail", 443),
                    # partial wildcards: every subresource, every group but only some operations
                    rules=[
                        k8s.rule(resources=("pods/*",)),
                        k8s.rule(resources=("*",), operations=("CREATE", "UPDATE")),
                        k8s.rule(api_groups=("", "apps"), resources=("*",)),
                    ],
                    failure_policy="Fail",
                    timeout_seconds=10,
                    namespace_selector={
                        "matchExpressions": [
                            {"key": NAME, "operator": "NotIn", "values": ["kube-system", "kyverno"]}
                        ]
                    },
                )
            ],
        ),
    )
    _webhook_service(cluster, "cert-manager", "cert-manager-webhook", ready=2, target_port=10250)
    cluster.add(
        "MutatingWebhookConfiguration",
        k8s.webhook_configuration(
            "MutatingWebhookConfiguration",
            "cert-manager-webhook",
            [
                k8s.webhook(
                    "webhook.cert-manager.io",
                    service=("cert-manager", "cert-manager-webhook"),
                    rules=[
                        k8s.rule(
                            ["cert-manager.io", "acme.cert-manager.io"], ["v1"], ["*/*"], ["CREATE", "UPDATE"]
                        )
                    ],
                    failure_policy="Ignore",
                    timeout_seconds=30,  # long, but fails open
                )
            ],
        ),
    )
    cluster.add("Namespace", k8s.namespace("checkout"))
    cluster.add_many(
        "Pod",
        _replicas(
            "checkout",
            "checkout-api",
            3,
            sysctls={"net.ipv4.tcp_keepalive_time": "600", "net.ipv4.ip_local_port_range": "1024 65000"},
        ),
    )
    cluster.add("ConfigMap", k8s.kube_proxy_config("ipvs"))
    # apiserver.aggregated_api_unavailable near misses: available again, and a Local APIService
    cluster.add(
        "APIService",
        k8s.api_service(
            "metrics.k8s.io", "v1beta1", ("kube-system", "metrics-server"), since="2026-11-30T09:00:00Z"
        ),
    )
    cluster.add("APIService", k8s.api_service("apps", "v1"))
    # version.pdb_blocks_drain near misses: one eviction allowed; zero only while a pod is unhealthy
    # (desiredHealthy 2 < expectedPods 3); minAvailable 100% over a selector that matches no pod
    pdb = functools.partial(k8s.pod_disruption_budget, "checkout")
    cluster.add("PodDisruptionBudget", pdb("checkout-api", expected=3, healthy=3, min_available=2))
    cluster.add("PodDisruptionBudget", pdb("checkout-worker", expected=3, healthy=2, max_unavailable=1))
    cluster.add("PodDisruptionBudget", pdb("checkout-canary", expected=0, healthy=0, min_available="100%"))
    _set_cni_env(cluster, {"WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "20"})


def seed_failing_webhook(cluster: KubeCluster) -> None:
    """Kyverno's fail-closed webhook with its pods gone: the same webhook whose calls the metrics
    extension shows failing (``calling_webhook_error``) on this cluster."""
    kind, configuration, webhook = FAILING_WEBHOOK
    _webhook_service(cluster, "kyverno", "kyverno-svc", ready=0, target_port=9443)
    cluster.add(
        kind,
        k8s.webhook_configuration(
            kind,
            configuration,
            [
                k8s.webhook(
                    webhook,
                    service=("kyverno", "kyverno-svc", "/validate/fail", 443),
                    rules=[
                        k8s.rule([""], ["v1"], ["pods"], ["CREATE", "UPDATE"], "Namespaced"),
                        k8s.rule(
                            ["apps"],
                            ["v1"],
                            ["deployments", "statefulsets"],
                            ["CREATE", "UPDATE"],
                            "Namespaced",
                        ),
                    ],
                    failure_policy="Fail",
                    timeout_seconds=10,
                    namespace_selector={
                        "matchExpressions": [
                            {"key": NAME, "operator": "NotIn", "values": ["kube-system", "kyverno"]}
                        ]
                    },
                )
            ],
        ),
    )


def seed_services(cluster: KubeCluster, total: int) -> None:
    for t in range(TEAMS):
        cluster.add("Namespace", k8s.namespace(f"team-{t:02d}"))
    missing = max(0, total - cluster.count("Service"))
    cluster.add_many("Service", _filler_services()[:missing])


def seed_pods(cluster: KubeCluster, total: int) -> None:
    """Fill the cluster up to ``total`` pods, spread over the team namespaces, 50 per Deployment."""
    for t in range(TEAMS):
        cluster.add("Namespace", k8s.namespace(f"team-{t:02d}"))
    missing = max(0, total - cluster.count("Pod"))
    if missing:  # the list's tail: on a top-up its head is already in the cluster
        cluster.add_many("Pod", _filler_pods(max(total, DEMO_PODS))[-missing:])


@functools.cache
def _filler_services() -> tuple[k8s.Obj, ...]:
    """Built once per process (the demo fleet is re-seeded for every test); the store copies each."""
    return tuple(
        k8s.service(
            f"team-{i % TEAMS:02d}",
            f"svc-{i:04d}",
            ports=[("http", 80, 8080, "TCP")],
            selector={"app": f"svc-{i:04d}"},
        )
        for i in range(DEMO_SERVICES)
    )


@functools.cache
def _filler_pods(total: int) -> tuple[k8s.Obj, ...]:
    out: list[k8s.Obj] = []
    deployment = 0
    while len(out) < total:
        count = min(50, total - len(out))
        out.extend(_replicas(f"team-{deployment % TEAMS:02d}", f"worker-{deployment:03d}", count))
        deployment += 1
    return tuple(out)


def _set_cni_env(cluster: KubeCluster, env: dict[str, str | None]) -> None:
    """Re-create kube-system/aws-node with ``env`` over the baseline's settings (same version)."""
    ds = cluster.get("DaemonSet", "aws-node", "kube-system") or {}
    desired = ds.get("status", {}).get("desiredNumberScheduled", 0)
    containers = ds.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    baseline = {
        e["name"]: e.get("value", "")
        for c in containers
        if c.get("name") == "aws-node"
        for e in c.get("env", [])
        if "value" in e
    }
    cluster.add(
        "DaemonSet",
        k8s.aws_node_daemon_set(
            baseline.get("VPC_CNI_VERSION") or "v1.20.4-eksbuild.1",
            env=env,
            region=cluster.region,
            desired=desired,
            cluster_endpoint=baseline.get("CLUSTER_ENDPOINT", ""),
        ),
    )


def install(sim: Simulator) -> None:
    sim.extensions.append(KubernetesHazards(sim))
