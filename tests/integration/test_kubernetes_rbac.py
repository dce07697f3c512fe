"""`eksmon rbac`: the RBAC is generated from the registry, is exactly what the checks need, grants
cluster-wide only what must be (ConfigMaps and DaemonSets only in kube-system, by name), and never
reaches Secrets.

The simulator's Kubernetes API authorises with the same permission set, so a scan without errors
shows the role is enough; removing any one verb of it shows the role holds nothing superfluous.
"""

from __future__ import annotations

import io
from datetime import datetime

import pytest
import yaml

from eksmon.cli import main
from eksmon.context import COLLECTION_ERROR
from eksmon.rbac import UnsafePermission, cluster_role, manifest, permissions, rules
from eksmon.registry import KubeNonResource, KubePermission, load
from eksmon.sim.kubernetes_api import registry_permissions
from eksmon.sim.server import Simulator

from .test_kubernetes_scan import add_demo_cluster, run

KUBERNETES_PERMISSIONS = sorted(
    {
        (p.api_group, p.resource, verb)
        for c in load().collectors_for(load().select(monitor="kubernetes"))
        for p in c.kube
        if isinstance(p, KubePermission)
        for verb in p.verbs
    }
)


def rbac(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(["rbac", *args], out=out, err=err)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_eksmon_rbac_prints_a_cluster_role_a_kube_system_role_and_bindings_for_kubectl_apply() -> None:
    code, out, _ = rbac()
    assert code == 0
    cluster_role_doc, binding, role_doc, role_binding = list(yaml.safe_load_all(out))
    assert cluster_role_doc["kind"] == "ClusterRole"
    assert cluster_role_doc["apiVersion"] == "rbac.authorization.k8s.io/v1"
    assert binding["kind"] == "ClusterRoleBinding"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "eksmon-reader",
    }
    subjects = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "eksmon-readers"}]
    assert binding["subjects"] == subjects
    assert {"nonResourceURLs": ["/metrics"], "verbs": ["get"]} in cluster_role_doc["rules"]
    assert (role_doc["kind"], role_doc["metadata"]["namespace"]) == ("Role", "kube-system")
    assert role_binding["kind"] == "RoleBinding" and role_binding["metadata"]["namespace"] == "kube-system"
    assert role_binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "eksmon-reader",
    }
    assert role_binding["subjects"] == subjects


def test_configmaps_and_daemonsets_are_readable_only_in_kube_system_and_only_by_name() -> None:
    _, out, _ = rbac()
    cluster_role_doc, _, role_doc, _ = list(yaml.safe_load_all(out))
    wide = {r for rule in cluster_role_doc["rules"] for r in rule.get("resources", [])}
    assert wide == {
        "pods",
        "services",
        "namespaces",
        "endpointslices",
        "validatingwebhookconfigurations",
        "mutatingwebhookconfigurations",
        "poddisruptionbudgets",
        "apiservices",
    }
    assert role_doc["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["aws-auth", "kube-proxy-config"],
            "verbs": ["get"],
        },
        {
            "apiGroups": ["apps"],
            "resources": ["daemonsets"],
            "resourceNames": ["aws-node", "kube-proxy"],
            "verbs": ["get"],
        },
    ]


def test_the_simulator_enforces_the_role_by_namespace_and_name(sim: Simulator, now: datetime) -> None:
    from eksmon.kube import KubeClient, KubeForbidden, get_token
    from eksmon.sim import k8s_objects as k8s
    from eksmon.sim.kubernetes_api import KubernetesApi

    cluster = add_demo_cluster(sim, "ml-training")
    cluster.add("ConfigMap", k8s.config_map("kube-system", "coredns", {"Corefile": "."}))
    cluster.add("ConfigMap", k8s.config_map("default", "aws-auth", {"mapRoles": "[]"}))
    api: KubernetesApi = sim.extension(KubernetesApi)
    token = get_token(sim.session("eu-west-1").client("sts"), cluster.name)
    kc = KubeClient(
        api.endpoint(cluster.account, cluster.region, cluster.name), ca_pem=api.ca_pem, token=token
    )
    assert kc.get("/api/v1/namespaces/kube-system/configmaps/aws-auth")["metadata"]["name"] == "aws-auth"
    with pytest.raises(KubeForbidden, match=r'get configmaps "coredns" in namespace kube-system .*Role'):
        kc.get("/api/v1/namespaces/kube-system/configmaps/coredns")
    with pytest.raises(KubeForbidden, match='get configmaps "aws-auth" in namespace default'):
        kc.get("/api/v1/namespaces/default/configmaps/aws-auth")
    with pytest.raises(KubeForbidden, match="list configmaps in namespace kube-system"):
        kc.list("/api/v1/namespaces/kube-system/configmaps")
    with pytest.raises(KubeForbidden, match=r"list daemonsets\.apps at cluster scope"):
        kc.list("/apis/apps/v1/daemonsets")


def test_the_rbac_is_exactly_what_the_registry_declares_and_what_the_simulator_enforces() -> None:
    _, out, _ = rbac()
    granted = {
        (group, resource, verb, doc["metadata"].get("namespace", ""), tuple(rule.get("resourceNames", ())))
        for doc in yaml.safe_load_all(out)
        if doc["kind"] in ("ClusterRole", "Role")
        for rule in doc["rules"]
        if "resources" in rule
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    declared = {
        (p.api_group, p.resource, v, p.namespace, p.names)
        for p in permissions()
        if isinstance(p, KubePermission)
        for v in p.verbs
    }
    assert granted == declared
    assert set(KUBERNETES_PERMISSIONS) <= {g[:3] for g in granted}
    assert set(permissions()) == set(registry_permissions())


def test_nothing_on_secrets_no_wildcards_no_writes() -> None:
    _, out, _ = rbac()
    every_rule = [rule for doc in yaml.safe_load_all(out) for rule in doc.get("rules", [])]
    for rule in every_rule:
        assert "*" not in rule.get("apiGroups", []) + rule.get("resources", []) + rule["verbs"]
        assert "secrets" not in rule.get("resources", [])
        assert set(rule["verbs"]) <= {"get", "list", "watch"}
    assert "secrets" not in out


@pytest.mark.parametrize(
    "bad",
    [
        KubePermission("", "secrets", ("get",)),
        KubePermission("", "*", ("list",)),
        KubePermission("*", "pods", ("list",)),
        KubePermission("", "pods", ("list", "delete")),
        KubeNonResource("/debug/*"),
    ],
    ids=["secrets", "any-resource", "any-group", "write", "url-wildcard"],
)
def test_a_collector_declaring_an_unsafe_permission_cannot_be_turned_into_a_role(bad) -> None:
    with pytest.raises(UnsafePermission):
        cluster_role([*permissions(), bad])


def test_rules_group_resources_by_api_group_and_verbs() -> None:
    found = rules(
        [
            KubePermission("", "pods", ("list",)),
            KubePermission("", "nodes", ("list",)),
            KubeNonResource("/metrics"),
        ]
    )
    assert found == [
        {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["list"]},
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    ]


def test_the_group_is_configurable_and_checked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = rbac("--group", "platform-monitors")
    assert code == 0 and "name: platform-monitors" in out
    assert "platform-monitors" in manifest(group="platform-monitors")
    code, _, _ = rbac("--group", "system:masters")
    assert code == 2 and "not starting with 'system:'" in capsys.readouterr().err


@pytest.mark.parametrize(("group", "resource", "verb"), KUBERNETES_PERMISSIONS)
def test_every_granted_verb_is_needed(
    sim: Simulator, now: datetime, group: str, resource: str, verb: str
) -> None:
    cluster = add_demo_cluster(sim, "ml-training")
    reduced: list[KubePermission | KubeNonResource] = []
    for p in registry_permissions():
        if isinstance(p, KubePermission) and (p.api_group, p.resource) == (group, resource):
            rest = tuple(v for v in p.verbs if v != verb)
            if rest:
                reduced.append(KubePermission(group, resource, rest, p.namespace, p.names))
        else:
            reduced.append(p)
    cluster.permissions = reduced
    result = run(sim, now, ["ml-training"], "eu-west-1")
    qualified = f"{resource}.{group}" if group else resource
    denied = [
        f
        for f in result.findings
        if f.check == COLLECTION_ERROR
        and f.details["error_code"] == "KubeForbidden"
        and f"{verb} {qualified}" in f.message
    ]
    assert denied, f"removing {verb} {qualified} went unnoticed"
