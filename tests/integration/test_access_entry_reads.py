"""auth.break_glass reads access entries in a number of calls that does not grow with the cluster's entries."""

from __future__ import annotations

from typing import Any

from eksmon.context import COLLECTION_ERROR
from eksmon.engine import ScanResult, scan
from eksmon.models import Finding
from eksmon.settings import parse_settings
from eksmon.sim.eks import PAGE, EksExtension, _association
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_NOW, DemoCluster
from eksmon.sim.server import Simulator

REGION = "eu-west-1"
ROLE = f"arn:aws:iam::{DEMO_ACCOUNT}:role/"
ACCESS_READS = ("eks.ListAccessEntries", "eks.ListAssociatedAccessPolicies")


def seed(sim: Simulator, name: str, policies: dict[str, list[dict[str, Any]]], node_roles: int = 12) -> None:
    """A cluster with ``node_roles`` entries that hold no access policy (as EC2 node roles do) besides
    the given principals and their associations."""
    eks = sim.extension(EksExtension)
    eks.add_cluster(DemoCluster(name=name, region=REGION, version="1.34"), DEMO_ACCOUNT)
    extra = eks.cluster(DEMO_ACCOUNT, REGION, name)
    nodes = [f"{ROLE}nodes-{i:02d}" for i in range(node_roles)]
    extra.access_entries = sorted([*nodes, *(ROLE + p for p in policies)])
    extra.access_policies = {ROLE + p: a for p, a in policies.items()}


def lifecycle(sim: Simulator, **thresholds: object) -> ScanResult:
    raw: dict[str, Any] = {"regions": [REGION], "kubernetes": {"enabled": False}}
    if thresholds:
        raw["checks"] = {"thresholds": {"auth.break_glass": thresholds}}
    settings = parse_settings(raw)
    return scan(settings, DEMO_NOW, monitor="lifecycle", session_factory=sim.session_factory())


def access_reads(result: ScanResult) -> int:
    return sum(result.api_calls.calls[op] for op in ACCESS_READS)


def glass(result: ScanResult) -> list[Finding]:
    assert not [f for f in result.findings if f.check == COLLECTION_ERROR]
    return [f for f in result.findings if f.check == "auth.break_glass"]


def test_a_cluster_admin_among_many_entries_costs_two_calls(sim: Simulator) -> None:
    seed(sim, "busy", {"break-glass": [_association("AmazonEKSClusterAdminPolicy")]}, node_roles=12)
    result = lifecycle(sim)
    assert glass(result) == []
    # one filtered ListAccessEntries and the admin's policies, not 1 + 13 calls
    assert result.api_calls.calls["eks.ListAccessEntries"] == 1
    assert result.api_calls.calls["eks.ListAssociatedAccessPolicies"] == 1


def test_an_admin_through_the_second_admin_policy_costs_three(sim: Simulator) -> None:
    seed(sim, "ops", {"ops": [_association("AmazonEKSAdminPolicy")]}, node_roles=30)
    result = lifecycle(sim)
    assert glass(result) == []
    assert access_reads(result) == 3  # ClusterAdmin list (empty), Admin list, the ops role's policies


def test_no_cluster_scope_admin_is_found_and_every_entry_is_counted(sim: Simulator) -> None:
    seed(
        sim,
        "locked",
        {
            "team-admin": [_association("AmazonEKSClusterAdminPolicy", ("checkout",))],
            "auditors": [_association("AmazonEKSViewPolicy")],
        },
        node_roles=20,
    )
    result = lifecycle(sim)
    (finding,) = glass(result)
    assert finding.details["access_entries"] == 22
    assert finding.details["namespace_scoped_admin_entries"] == [ROLE + "team-admin"]
    assert "none of its 22 access entries" in finding.message
    # two filtered lists, the namespaced admin's policies, then the pages of one list to count them,
    # instead of a ListAssociatedAccessPolicies per entry
    assert access_reads(result) == 3 + -(-22 // PAGE)
    assert sim.repeats() == {}


def test_admin_policies_in_the_configuration_decide_what_is_asked(sim: Simulator) -> None:
    seed(sim, "ops", {"ops": [_association("AmazonEKSAdminPolicy")]}, node_roles=3)
    result = lifecycle(sim, admin_policies=["AmazonEKSClusterAdminPolicy"])
    (finding,) = glass(result)
    assert finding.details["access_entries"] == 4
    assert PAGE < 4 < 2 * PAGE  # so the count takes two pages
    # the ClusterAdmin list and the count's two pages; AmazonEKSAdminPolicy was not asked about
    assert result.api_calls.calls["eks.ListAccessEntries"] == 3
    assert result.api_calls.calls["eks.ListAssociatedAccessPolicies"] == 0


def test_config_map_clusters_read_no_access_entries(sim: Simulator) -> None:
    eks = sim.extension(EksExtension)
    eks.add_cluster(
        DemoCluster(name="legacy", region=REGION, version="1.33", authentication_mode="CONFIG_MAP"),
        DEMO_ACCOUNT,
    )
    result = lifecycle(sim)
    assert glass(result) == [] and access_reads(result) == 0
