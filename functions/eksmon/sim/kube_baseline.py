"""What every simulated EKS cluster's Kubernetes API holds before any scenario hazard is added."""

from __future__ import annotations

from collections.abc import Sequence

from eksmon.sim import k8s_objects as k8s
from eksmon.sim.k8s_objects import PATCH_VERSIONS
from eksmon.sim.kube_cluster import KubeCluster


def seed_baseline(
    cluster: KubeCluster,
    nodegroups: Sequence[tuple[str, str]] = (),
    addons: dict[str, str] | None = None,
    authentication_mode: str = "API_AND_CONFIG_MAP",
    endpoint: str = "",
    nodes_per_group: int = 2,
) -> None:
    """What every EKS cluster has: system namespaces, nodes, kube-proxy and VPC CNI DaemonSets and
    their pods, CoreDNS, the ``kubernetes`` and ``kube-dns`` Services with EndpointSlices, the
    kube-proxy-config ConfigMap, aws-auth (unless API-only), EKS's pod-identity webhook, and one
    small application. Scenario hazards are added on top by other extensions."""
    region, minor = cluster.region, cluster.version
    zones = [f"{region}a", f"{region}b", f"{region}c"]
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "apps"):
        cluster.add("Namespace", k8s.namespace(ns))
    nodes: list[str] = []
    for group, version in nodegroups:
        for i in range(nodes_per_group):
            name = f"ip-10-0-{len(nodes) + 1}-{10 + i}.{region}.compute.internal"
            patch = PATCH_VERSIONS.get(version.split(".")[1], 0)
            cluster.add(
                "Node",
                k8s.node(
                    name, f"v{version}.{patch}-eks-113cf36", nodegroup=group, zone=zones[len(nodes) % 3]
                ),
            )
            nodes.append(name)
    cni_version = (addons or {}).get("vpc-cni", "v1.20.4-eksbuild.1")
    cluster.add(
        "DaemonSet",
        k8s.aws_node_daemon_set(cni_version, region=region, desired=len(nodes), cluster_endpoint=endpoint),
    )
    cluster.add("DaemonSet", k8s.kube_proxy_daemon_set(minor, region=region, desired=len(nodes)))
    cluster.add("ConfigMap", k8s.kube_proxy_config("iptables"))
    cluster.add(
        "ConfigMap",
        k8s.config_map(
            "kube-system",
            "coredns",
            {"Corefile": _COREFILE},
            {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"},
        ),
    )
    if authentication_mode != "API":
        cluster.add("ConfigMap", k8s.aws_auth([k8s.node_role_mapping(cluster.account)]))
    cluster.add(
        "Service",
        k8s.service(
            "default",
            "kubernetes",
            ports=[("https", 443, 443, "TCP")],
            selector=None,
            cluster_ip="10.100.0.1",
            labels={"component": "apiserver", "provider": "kubernetes"},
        ),
    )
    cluster.add(
        "EndpointSlice",
        k8s.endpoint_slice(
            "default",
            "kubernetes",
            ["172.16.42.10", "172.16.87.23"],
            ports=[("https", 443, "TCP")],
            name="kubernetes",
        ),
    )
    cluster.add(
        "MutatingWebhookConfiguration",
        k8s.webhook_configuration(
            "MutatingWebhookConfiguration",
            "pod-identity-webhook",
            [
                k8s.webhook(
                    "iam-for-pods.amazonaws.com",
                    url="https://127.0.0.1:23443/mutate",
                    rules=[k8s.rule([""], ["v1"], ["pods"], ["CREATE"], "*")],
                    failure_policy="Ignore",
                    timeout_seconds=10,
                    reinvocation_policy="IfNeeded",
                )
            ],
        ),
    )
    for node_name in nodes:
        for ds in ("aws-node", "kube-proxy"):
            image = cluster.get("DaemonSet", ds, "kube-system")["spec"]["template"]["spec"]["containers"]  # type: ignore[index]
            cluster.add(
                "Pod",
                k8s.pod(
                    "kube-system",
                    f"{ds}-{k8s.suffix(ds + node_name)}",
                    [k8s.container(c["name"], c["image"]) for c in image],
                    node_name=node_name,
                    labels={"k8s-app": ds},
                    owner=k8s.owner("DaemonSet", ds),
                    pod_ip=k8s.ip_for(node_name),
                    host_network=True,
                    priority_class="system-node-critical",
                ),
            )
    dns_ips: list[tuple[str, str | None]] = []
    app_ips: list[tuple[str, str | None]] = []
    if nodes:
        coredns_image = f"602401143452.dkr.ecr.{region}.amazonaws.com/eks/coredns:v1.11.4-eksbuild.2"
        cluster.add(
            "Deployment",
            k8s.deployment(
                "kube-system",
                "coredns",
                [k8s.container("coredns", coredns_image)],
                labels={"k8s-app": "kube-dns"},
            ),
        )
        template = k8s.suffix("coredns", 10)
        for i in range(2):
            name = f"coredns-{template}-{k8s.suffix(f'coredns{i}')}"
            p = k8s.pod(
                "kube-system",
                name,
                [k8s.container("coredns", coredns_image, ports=[("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")])],
                node_name=nodes[i % len(nodes)],
                labels={"k8s-app": "kube-dns"},
                owner=k8s.owner("ReplicaSet", f"coredns-{template}"),
                priority_class="system-cluster-critical",
                service_account="coredns",
            )
            cluster.add("Pod", p)
            dns_ips.append((p["status"]["podIP"], name))
        for i in range(2):
            name = f"api-{k8s.suffix('api' + cluster.name, 10)}-{k8s.suffix(f'api{i}{cluster.name}')}"
            p = k8s.pod(
                "apps",
                name,
                [k8s.container("api", "public.ecr.aws/nginx/nginx:1.27", ports=[("http", 8080, "TCP")])],
                node_name=nodes[-1 - i % len(nodes)],
                labels={"app": "api"},
            )
            cluster.add("Pod", p)
            app_ips.append((p["status"]["podIP"], name))
    cluster.add(
        "Service",
        k8s.service(
            "kube-system",
            "kube-dns",
            cluster_ip="10.100.0.10",
            ports=[("dns", 53, 53, "UDP"), ("dns-tcp", 53, 53, "TCP"), ("metrics", 9153, 9153, "TCP")],
            selector={"k8s-app": "kube-dns"},
            labels={"k8s-app": "kube-dns", "eks.amazonaws.com/component": "kube-dns"},
        ),
    )
    cluster.add(
        "EndpointSlice",
        k8s.endpoint_slice(
            "kube-system",
            "kube-dns",
            dns_ips,
            ports=[("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")],
        ),
    )
    cluster.add(
        "Service", k8s.service("apps", "api", ports=[("http", 80, 8080, "TCP")], selector={"app": "api"})
    )
    cluster.add("EndpointSlice", k8s.endpoint_slice("apps", "api", app_ips, ports=[("http", 8080, "TCP")]))


_COREFILE = """.:53 {
    errors
    health {
        lameduck 5s
      }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
"""
