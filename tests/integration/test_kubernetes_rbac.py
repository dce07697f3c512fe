"""`eksmon rbac`: the ClusterRole is generated from the registry, is exactly what the checks need, and
never reaches Secrets.

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


def test_eksmon_rbac_prints_a_cluster_role_and_binding_ready_for_kubectl_apply() -> None:
    code, out, _ = rbac()
    assert code == 0
    role, binding = list(yaml.safe_load_all(out))
    assert role["kind"] == "ClusterRole" and role["apiVersion"] == "rbac.authorization.k8s.io/v1"
    assert binding["kind"] == "ClusterRoleBinding"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "eksmon-reader",
    }
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "eksmon-readers"}
    ]
    assert {"nonResourceURLs": ["/metrics"], "verbs": ["get"]} in role["rules"]


def test_the_role_is_exactly_what_the_registry_declares_and_what_the_simulator_enforces() -> None:
    _, out, _ = rbac()
    role = next(yaml.safe_load_all(out))
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        if "resources" in rule
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    declared = {
        (p.api_group, p.resource, v) for p in permissions() if isinstance(p, KubePermission) for v in p.verbs
    }
    assert granted == declared
    assert set(KUBERNETES_PERMISSIONS) <= granted
    assert set(permissions()) == set(registry_permissions())


def test_nothing_on_secrets_no_wildcards_no_writes() -> None:
    _, out, _ = rbac()
    role = next(yaml.safe_load_all(out))
    for rule in role["rules"]:
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
                reduced.append(KubePermission(group, resource, rest))
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
