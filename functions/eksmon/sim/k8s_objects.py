"""Builders of real-shaped Kubernetes v1 objects for the simulator's Kubernetes API stand-in.

Each returns a plain dict as ``kubectl get -o json`` shows it (``apiVersion``, ``kind``, ``metadata``,
``spec``...); :meth:`eksmon.sim.kube_store.ObjectStore.add` fills in uid, resourceVersion and
creationTimestamp. Seeding code composes them, e.g.::

    cluster.add("ValidatingWebhookConfiguration", webhook_configuration(
        "ValidatingWebhookConfiguration", "gatekeeper",
        [webhook("validation.gatekeeper.sh", service=("gatekeeper-system", "gatekeeper-webhook"),
                 rules=[rule()], failure_policy="Fail", timeout_seconds=30)]))
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
# EKS's patch release per Kubernetes minor (kubelet versions, ``/version``'s gitVersion)
PATCH_VERSIONS = {"28": 15, "29": 13, "30": 11, "31": 10, "32": 6, "33": 4, "34": 2, "35": 1, "36": 0}


@dataclass(frozen=True)
class Kind:
    """One API resource the stand-in serves."""

    kind: str
    group: str
    version: str
    resource: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def singular(self) -> str:
        return self.kind.lower()


KINDS: dict[str, Kind] = {
    k.kind: k
    for k in (
        Kind("Namespace", "", "v1", "namespaces", False),
        Kind("Node", "", "v1", "nodes", False),
        Kind("Pod", "", "v1", "pods", True),
        Kind("Service", "", "v1", "services", True),
        Kind("Endpoints", "", "v1", "endpoints", True),
        Kind("ConfigMap", "", "v1", "configmaps", True),
        Kind("Secret", "", "v1", "secrets", True),
        Kind("ServiceAccount", "", "v1", "serviceaccounts", True),
        Kind("EndpointSlice", "discovery.k8s.io", "v1", "endpointslices", True),
        Kind("DaemonSet", "apps", "v1", "daemonsets", True),
        Kind("Deployment", "apps", "v1", "deployments", True),
        Kind(
            "ValidatingWebhookConfiguration",
            "admissionregistration.k8s.io",
            "v1",
            "validatingwebhookconfigurations",
            False,
        ),
        Kind(
            "MutatingWebhookConfiguration",
            "admissionregistration.k8s.io",
            "v1",
            "mutatingwebhookconfigurations",
            False,
        ),
        Kind("FlowSchema", "flowcontrol.apiserver.k8s.io", "v1", "flowschemas", False),
        Kind("PodDisruptionBudget", "policy", "v1", "poddisruptionbudgets", True),
        Kind("APIService", "apiregistration.k8s.io", "v1", "apiservices", False),
    )
}


def register_kind(kind: Kind) -> Kind:
    """Serve one more resource (e.g. a CRD an extension seeds)."""
    KINDS[kind.kind] = kind
    return kind


def kind_for(group: str, version: str, resource: str) -> Kind | None:
    for k in KINDS.values():
        if k.group == group and k.version == version and k.resource == resource:
            return k
    return None


# -- helpers ------------------------------------------------------------------------------------------
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes uses for generated names


def suffix(seed: str, length: int = 5) -> str:
    """A stable generated-name suffix (``coredns-5d8f7c9b4-x7k2p``) derived from ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:length])


def ip_for(seed: str, prefix: str = "10.0") -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return f"{prefix}.{digest[0] % 250 + 2}.{digest[1] % 250 + 2}"


def meta(
    name: str,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    owner: Obj | None = None,
) -> Obj:
    m: Obj = {"name": name}
    if namespace is not None:
        m["namespace"] = namespace
    if labels:
        m["labels"] = dict(labels)
    if annotations:
        m["annotations"] = dict(annotations)
    if owner is not None:
        m["ownerReferences"] = [owner]
    return m


def _obj(kind: str, metadata: Obj, **body: Any) -> Obj:
    k = KINDS[kind]
    return {"apiVersion": k.api_version, "kind": kind, "metadata": metadata, **body}


# -- core ---------------------------------------------------------------------------------------------
def namespace(name: str, labels: Mapping[str, str] | None = None) -> Obj:
    return _obj(
        "Namespace",
        meta(name, labels={"kubernetes.io/metadata.name": name, **(labels or {})}),
        spec={"finalizers": ["kubernetes"]},
        status={"phase": "Active"},
    )


def node(
    name: str,
    kubelet_version: str,
    *,
    nodegroup: str | None = None,
    zone: str = "us-east-1a",
    instance_type: str = "m6i.xlarge",
    internal_ip: str | None = None,
) -> Obj:
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": instance_type,
        "topology.kubernetes.io/zone": zone,
        "topology.kubernetes.io/region": zone[:-1],
    }
    if nodegroup:
        labels["eks.amazonaws.com/nodegroup"] = nodegroup
        labels["eks.amazonaws.com/capacityType"] = "ON_DEMAND"
    return _obj(
        "Node",
        meta(name, labels=labels),
        spec={"providerID": f"aws:///{zone}/i-0{hashlib.sha256(name.encode()).hexdigest()[:16]}"},
        status={
            "addresses": [
                {"type": "InternalIP", "address": internal_ip or ip_for(name)},
                {"type": "Hostname", "address": name},
            ],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "nodeInfo": {
                "kubeletVersion": kubelet_version,
                "kubeProxyVersion": kubelet_version,
                "containerRuntimeVersion": "containerd://1.7.27",
                "osImage": "Amazon Linux 2023.7.20250512",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    )


def config_map(ns: str, name: str, data: Mapping[str, str], labels: Mapping[str, str] | None = None) -> Obj:
    return _obj("ConfigMap", meta(name, ns, labels), data=dict(data))


def container(
    name: str,
    image: str,
    *,
    env: Mapping[str, str] | Sequence[Obj] | None = None,
    ports: Sequence[tuple[str, int, str]] = (),
    args: Sequence[str] = (),
    security_context: Obj | None = None,
) -> Obj:
    c: Obj = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {"requests": {"cpu": "25m", "memory": "64Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    if env:
        c["env"] = (
            [{"name": k, "value": v} for k, v in env.items()] if isinstance(env, Mapping) else list(env)
        )
    if ports:
        c["ports"] = [{"name": n, "containerPort": p, "protocol": proto} for n, p, proto in ports]
    if args:
        c["args"] = list(args)
    if security_context:
        c["securityContext"] = security_context
    return c


def pod(
    ns: str,
    name: str,
    containers: Sequence[Obj],
    *,
    node_name: str | None = None,
    labels: Mapping[str, str] | None = None,
    owner: Obj | None = None,
    sysctls: Mapping[str, str] | None = None,
    phase: str = "Running",
    pod_ip: str | None = None,
    host_network: bool = False,
    priority_class: str | None = None,
    reason: str | None = None,
    service_account: str = "default",
) -> Obj:
    spec: Obj = {
        "containers": list(containers),
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": service_account,
        "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30,
        "securityContext": {},
    }
    if node_name:
        spec["nodeName"] = node_name
    if sysctls:
        spec["securityContext"]["sysctls"] = [{"name": k, "value": v} for k, v in sysctls.items()]
    if host_network:
        spec["hostNetwork"] = True
    if priority_class:
        spec["priorityClassName"] = priority_class
    ready = phase == "Running"
    status: Obj = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "containerStatuses": [
            {"name": c["name"], "image": c["image"], "ready": ready, "restartCount": 0, "started": ready}
            for c in containers
        ],
        "qosClass": "Burstable",
    }
    if node_name and phase != "Pending":
        status["podIP"] = pod_ip or ip_for(f"{ns}/{name}")
        status["hostIP"] = ip_for(node_name)
    if reason:
        status["reason"] = reason
    return _obj("Pod", meta(name, ns, labels, owner=owner), spec=spec, status=status)


def service(
    ns: str,
    name: str,
    *,
    ports: Sequence[tuple[str, int, int | str, str]] = (("https", 443, 8443, "TCP"),),
    selector: Mapping[str, str] | None = None,
    cluster_ip: str | None = None,
    type_: str = "ClusterIP",
    labels: Mapping[str, str] | None = None,
) -> Obj:
    ip = cluster_ip or ip_for(f"svc/{ns}/{name}", "10.100")
    spec: Obj = {
        "type": type_,
        "clusterIP": ip,
        "clusterIPs": [ip],
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": "Cluster",
        "sessionAffinity": "None",
        "ports": [{"name": n, "port": p, "targetPort": t, "protocol": proto} for n, p, t, proto in ports],
    }
    if selector is not None:
        spec["selector"] = dict(selector)
    return _obj("Service", meta(name, ns, labels), spec=spec, status={"loadBalancer": {}})


def endpoint_slice(
    ns: str,
    service_name: str,
    addresses: Sequence[str | tuple[str, str | None]],
    *,
    ports: Sequence[tuple[str, int, str]] = (("https", 8443, "TCP"),),
    ready: bool = True,
    name: str | None = None,
    target_kind: str = "Pod",
    zones: Sequence[str] = ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
) -> Obj:
    """``addresses``: IPs, or (IP, target pod name) pairs; ``ready`` for all of them. Pod endpoints
    are placed on one node per address, spread over ``zones`` in turn, as a Deployment with
    topology spread would be."""
    endpoints = []
    for i, a in enumerate(addresses):
        ip, target = (a, None) if isinstance(a, str) else a
        ep: Obj = {"addresses": [ip], "conditions": {"ready": ready, "serving": ready, "terminating": False}}
        if target:
            zone = zones[i % len(zones)]
            ep["targetRef"] = {"kind": target_kind, "namespace": ns, "name": target}
            ep["zone"] = zone
            ep["nodeName"] = f"ip-10-0-{i % 250 + 1}-{ip.rsplit('.', 1)[-1]}.{zone[:-1]}.compute.internal"
        endpoints.append(ep)
    return _obj(
        "EndpointSlice",
        meta(
            name or f"{service_name}-{suffix('eps/' + ns + '/' + service_name)}",
            ns,
            {
                "kubernetes.io/service-name": service_name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
        ),
        addressType="IPv4",
        endpoints=endpoints,
        ports=[{"name": n, "port": p, "protocol": proto} for n, p, proto in ports],
    )


# -- workloads ----------------------------------------------------------------------------------------
def daemon_set(
    ns: str,
    name: str,
    containers: Sequence[Obj],
    *,
    labels: Mapping[str, str] | None = None,
    desired: int = 0,
    host_network: bool = False,
) -> Obj:
    selector = dict(labels or {"k8s-app": name})
    template_spec: Obj = {
        "containers": list(containers),
        "serviceAccountName": name,
        "priorityClassName": "system-node-critical",
        "tolerations": [{"operator": "Exists"}],
    }
    if host_network:
        template_spec["hostNetwork"] = True
    return _obj(
        "DaemonSet",
        meta(name, ns, selector),
        spec={
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": selector}, "spec": template_spec},
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "10%", "maxSurge": 0},
            },
        },
        status={
            "desiredNumberScheduled": desired,
            "currentNumberScheduled": desired,
            "numberReady": desired,
            "numberAvailable": desired,
            "updatedNumberScheduled": desired,
            "numberMisscheduled": 0,
            "observedGeneration": 1,
        },
    )


def deployment(
    ns: str,
    name: str,
    containers: Sequence[Obj],
    *,
    replicas: int = 2,
    labels: Mapping[str, str] | None = None,
) -> Obj:
    selector = dict(labels or {"app": name})
    return _obj(
        "Deployment",
        meta(name, ns, selector),
        spec={
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": selector}, "spec": {"containers": list(containers)}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
        },
        status={
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "updatedReplicas": replicas,
            "observedGeneration": 1,
        },
    )


def pod_disruption_budget(
    ns: str,
    name: str,
    *,
    expected: int,
    healthy: int,
    min_available: int | str | None = None,
    max_unavailable: int | str | None = None,
    match_labels: Mapping[str, str] | None = None,
) -> Obj:
    """A PDB with the status the disruption controller computes from its spec and ``expected`` pods,
    ``healthy`` of them healthy now."""
    spec: Obj = {"selector": {"matchLabels": dict(match_labels or {"app": name})}}
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
        desired = expected - _count(max_unavailable, expected, round_up=True)
    else:
        spec["minAvailable"] = min_available if min_available is not None else 1
        desired = _count(spec["minAvailable"], expected, round_up=True)
    desired = max(desired, 0)
    return _obj(
        "PodDisruptionBudget",
        meta(name, ns),
        spec=spec,
        status={
            "observedGeneration": 1,
            "expectedPods": expected,
            "desiredHealthy": desired,
            "currentHealthy": healthy,
            "disruptionsAllowed": max(healthy - desired, 0),
        },
    )


def _count(value: int | str, total: int, *, round_up: bool) -> int:
    """An IntOrString of a PDB as the controller resolves it (percentages rounded up)."""
    if isinstance(value, int):
        return value
    percent = int(value.rstrip("%"))
    return -(-total * percent // 100) if round_up else total * percent // 100


def api_service(
    group: str,
    version: str,
    service: tuple[str, str] | None = None,
    *,
    available: bool = True,
    reason: str | None = None,
    message: str | None = None,
    since: str = "2025-09-01T08:00:00Z",
) -> Obj:
    """An APIService: Local (``service`` None, served by the apiserver) or aggregated."""
    spec: Obj = {"group": group, "version": version, "groupPriorityMinimum": 100, "versionPriority": 100}
    if service is not None:
        spec["service"] = {"namespace": service[0], "name": service[1], "port": 443}
        spec["insecureSkipTLSVerify"] = True
    condition: Obj = {
        "type": "Available",
        "status": "True" if available else "False",
        "lastTransitionTime": since,
        "reason": reason or ("Passed" if available else "FailedDiscoveryCheck"),
    }
    if message or available:
        condition["message"] = message or "all checks passed"
    return _obj(
        "APIService",
        meta(f"{version}.{group}" if group else version),
        spec=spec,
        status={"conditions": [condition]},
    )


def terminating_namespace(name: str, failing: str, since: str) -> Obj:
    """A namespace whose deletion waits on discovery of ``failing`` (group/version)."""
    ns = namespace(name)
    ns["metadata"]["deletionTimestamp"] = since
    ns["status"] = {
        "phase": "Terminating",
        "conditions": [
            {
                "type": "NamespaceDeletionDiscoveryFailure",
                "status": "True",
                "lastTransitionTime": since,
                "reason": "DiscoveryFailed",
                "message": "Discovery failed for some groups, 1 failing: unable to retrieve the complete "
                f"list of server APIs: {failing}: the server is currently unable to handle the request",
            }
        ],
    }
    return ns


def owner(kind: str, name: str, api_version: str = "apps/v1") -> Obj:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "controller": True,
        "blockOwnerDeletion": True,
        "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{api_version}/{kind}/{name}")),
    }


# -- admission webhooks -------------------------------------------------------------------------------
def rule(
    api_groups: Sequence[str] = ("*",),
    api_versions: Sequence[str] = ("*",),
    resources: Sequence[str] = ("*",),
    operations: Sequence[str] = ("*",),
    scope: str = "*",
) -> Obj:
    """A RuleWithOperations; the defaults match everything (a catch-all rule)."""
    return {
        "apiGroups": list(api_groups),
        "apiVersions": list(api_versions),
        "resources": list(resources),
        "operations": list(operations),
        "scope": scope,
    }


_FAKE_CA_BUNDLE = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\nMIIB...simulated...\n-----END CERTIFICATE-----\n"
)


def webhook(
    name: str,
    *,
    service: tuple[str, str] | tuple[str, str, str | None, int] | None = None,
    url: str | None = None,
    rules: Iterable[Obj] = (),
    failure_policy: str | None = "Fail",
    timeout_seconds: int | None = None,
    side_effects: str = "None",
    namespace_selector: Obj | None = None,
    object_selector: Obj | None = None,
    match_policy: str = "Equivalent",
    reinvocation_policy: str | None = None,
) -> Obj:
    """One webhook of a configuration. ``service`` is (namespace, name[, path, port]); unset
    ``failure_policy``/``timeout_seconds`` are left out, as an object created without them would
    show only after defaulting -- pass None to model an object read from a lenient source."""
    client: Obj = {"caBundle": _FAKE_CA_BUNDLE.decode()}
    if service is not None:
        ns, svc = service[0], service[1]
        ref: Obj = {"namespace": ns, "name": svc}
        if len(service) == 4:
            if service[2]:
                ref["path"] = service[2]
            ref["port"] = service[3]
        else:
            ref["port"] = 443
        client["service"] = ref
    if url is not None:
        client["url"] = url
    hook: Obj = {
        "name": name,
        "clientConfig": client,
        "rules": list(rules),
        "sideEffects": side_effects,
        "admissionReviewVersions": ["v1", "v1beta1"],
        "matchPolicy": match_policy,
        "namespaceSelector": namespace_selector or {},
        "objectSelector": object_selector or {},
    }
    if failure_policy is not None:
        hook["failurePolicy"] = failure_policy
    if timeout_seconds is not None:
        hook["timeoutSeconds"] = timeout_seconds
    if reinvocation_policy is not None:
        hook["reinvocationPolicy"] = reinvocation_policy
    return hook


def webhook_configuration(
    kind: str, name: str, webhooks: Sequence[Obj], labels: Mapping[str, str] | None = None
) -> Obj:
    if kind not in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        raise ValueError(f"not a webhook configuration kind: {kind}")
    return _obj(kind, meta(name, labels=labels), webhooks=list(webhooks))


# -- EKS system objects -------------------------------------------------------------------------------
KUBE_PROXY_CONFIG = """apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
clientConnection:
  acceptContentTypes: ""
  burst: 10
  contentType: application/vnd.kubernetes.protobuf
  kubeconfig: /var/lib/kube-proxy/kubeconfig
  qps: 5
clusterCIDR: ""
configSyncPeriod: 15m0s
conntrack:
  maxPerCore: 32768
  min: 131072
  tcpCloseWaitTimeout: 1h0m0s
  tcpEstablishedTimeout: 24h0m0s
enableProfiling: false
healthzBindAddress: 0.0.0.0:10256
hostnameOverride: ""
iptables:
  masqueradeAll: false
  masqueradeBit: 14
  minSyncPeriod: 0s
  syncPeriod: 30s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: ""
  syncPeriod: 30s
kind: KubeProxyConfiguration
metricsBindAddress: 0.0.0.0:10249
mode: "{mode}"
nodePortAddresses: null
oomScoreAdj: -998
portRange: ""
"""


def kube_proxy_config(mode: str = "iptables") -> Obj:
    """kube-system/kube-proxy-config as EKS installs it; ``mode`` "" also means iptables."""
    return config_map(
        "kube-system",
        "kube-proxy-config",
        {"config": KUBE_PROXY_CONFIG.replace("{mode}", mode)},
        {"eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"},
    )


AWS_NODE_ENV: dict[str, str] = {
    "ADDITIONAL_ENI_TAGS": "{}",
    "ANNOTATE_POD_IP": "false",
    "AWS_VPC_CNI_NODE_PORT_SUPPORT": "true",
    "AWS_VPC_ENI_MTU": "9001",
    "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "false",
    "AWS_VPC_K8S_CNI_EXTERNALSNAT": "false",
    "AWS_VPC_K8S_CNI_LOGLEVEL": "DEBUG",
    "AWS_VPC_K8S_CNI_LOG_FILE": "/host/var/log/aws-routed-eni/ipamd.log",
    "AWS_VPC_K8S_CNI_RANDOMIZESNAT": "prng",
    "AWS_VPC_K8S_CNI_VETHPREFIX": "eni",
    "AWS_VPC_K8S_PLUGIN_LOG_FILE": "/var/log/aws-routed-eni/plugin.log",
    "AWS_VPC_K8S_PLUGIN_LOG_LEVEL": "DEBUG",
    "CLUSTER_ENDPOINT": "",
    "DISABLE_INTROSPECTION": "false",
    "DISABLE_METRICS": "false",
    "DISABLE_NETWORK_RESOURCE_PROVISIONING": "false",
    "ENABLE_IPv4": "true",
    "ENABLE_IPv6": "false",
    "ENABLE_POD_ENI": "false",
    "ENABLE_PREFIX_DELEGATION": "false",
    "ENABLE_SUBNET_DISCOVERY": "true",
    "NETWORK_POLICY_ENFORCING_MODE": "standard",
    "VPC_CNI_VERSION": "",
    "VPC_ID": "vpc-0a1b2c3d4e5f60718",
    "WARM_ENI_TARGET": "1",
    "WARM_PREFIX_TARGET": "1",
}


def aws_node_daemon_set(
    version: str = "v1.20.4-eksbuild.1",
    env: Mapping[str, str | None] | None = None,
    region: str = "us-east-1",
    desired: int = 0,
    cluster_endpoint: str = "",
) -> Obj:
    """kube-system/aws-node (VPC CNI). ``env`` overrides the defaults; a None value removes a variable."""
    values: dict[str, str] = {
        **AWS_NODE_ENV,
        "VPC_CNI_VERSION": version,
        "CLUSTER_ENDPOINT": cluster_endpoint,
    }
    for k, v in (env or {}).items():
        if v is None:
            values.pop(k, None)
        else:
            values[k] = v
    env_list: list[Obj] = [{"name": k, "value": v} for k, v in sorted(values.items())]
    env_list.append(
        {
            "name": "MY_NODE_NAME",
            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
        }
    )
    registry = f"602401143452.dkr.ecr.{region}.amazonaws.com"
    cni = container(
        "aws-node",
        f"{registry}/amazon-k8s-cni:{version}",
        env=env_list,
        ports=[("metrics", 61678, "TCP")],
        security_context={"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
    )
    agent = container(
        "aws-eks-nodeagent",
        f"{registry}/amazon/aws-network-policy-agent:v1.2.1-eksbuild.1",
        args=["--enable-ipv6=false", "--enable-network-policy=false"],
    )
    return daemon_set(
        "kube-system",
        "aws-node",
        [cni, agent],
        labels={"k8s-app": "aws-node"},
        desired=desired,
        host_network=True,
    )


def kube_proxy_daemon_set(kubernetes_minor: str, region: str = "us-east-1", desired: int = 0) -> Obj:
    image = (
        f"602401143452.dkr.ecr.{region}.amazonaws.com/eks/kube-proxy:v{kubernetes_minor}.0-minimal-eksbuild.2"
    )
    c = container(
        "kube-proxy",
        image,
        args=["--config=/var/lib/kube-proxy-config/config", "--hostname-override=$(NODE_NAME)"],
        security_context={"privileged": True},
    )
    return daemon_set(
        "kube-system", "kube-proxy", [c], labels={"k8s-app": "kube-proxy"}, desired=desired, host_network=True
    )


def aws_auth(
    map_roles: Sequence[Obj] = (), map_users: Sequence[Obj] = (), raw: Mapping[str, str] | None = None
) -> Obj:
    """kube-system/aws-auth; ``raw`` gives the data keys verbatim (to model a broken edit)."""
    import yaml

    data = dict(raw) if raw is not None else {}
    if raw is None:
        data["mapRoles"] = yaml.safe_dump(list(map_roles), default_flow_style=False, sort_keys=False)
        if map_users:
            data["mapUsers"] = yaml.safe_dump(list(map_users), default_flow_style=False, sort_keys=False)
    return config_map("kube-system", "aws-auth", data)


def node_role_mapping(account: str, role: str = "eks-node-role") -> Obj:
    return {
        "rolearn": f"arn:aws:iam::{account}:role/{role}",
        "username": "system:node:{{EC2PrivateDNSName}}",
        "groups": ["system:bootstrappers", "system:nodes"],
    }
