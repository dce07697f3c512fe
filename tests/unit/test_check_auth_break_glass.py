"""auth.break_glass as a pure function: cluster-scoped administrator access entries."""

from __future__ import annotations

from eksmon.checks.auth_break_glass import BreakGlassThresholds, auth_break_glass
from eksmon.collectors.access_entries import AccessEntries, AccessEntry, AssociatedPolicy
from eksmon.models import Problem, Severity
from tests.unit.metrics_builders import NOW, snapshot

ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


def glass(mode: str, *entries: AccessEntry) -> list[Problem]:
    snap = snapshot(authentication_mode=mode)
    snap.parts[AccessEntries] = AccessEntries(tuple(entries))
    return list(auth_break_glass(snap, BreakGlassThresholds(), NOW))


def entry(arn: str, policy: str, scope: str = "cluster") -> AccessEntry:
    namespaces = ("team-a",) if scope == "namespace" else ()
    return AccessEntry(arn, (AssociatedPolicy(policy, scope, namespaces),))


def test_an_api_cluster_with_a_cluster_scoped_admin_entry_is_fine() -> None:
    assert glass("API", entry("arn:aws:iam::1:role/admin", ADMIN)) == []
    assert glass("API_AND_CONFIG_MAP", entry("arn:aws:iam::1:role/admin", ADMIN)) == []


def test_a_break_glass_entry_at_namespace_scope_does_not_count() -> None:
    (p,) = glass("API", entry("arn:aws:iam::1:role/admin", ADMIN, scope="namespace"))
    assert p.severity is Severity.WARNING
    assert p.details["admin_entries"] == []
    assert p.details["namespace_scoped_admin_entries"] == ["arn:aws:iam::1:role/admin"]
    assert "namespace scope" in p.message


def test_no_admin_entry_at_all_warns_and_config_map_clusters_are_left_to_config_map_only() -> None:
    (p,) = glass("API", entry("arn:aws:iam::1:role/viewer", VIEW))
    assert p.details["authentication_mode"] == "API"
    assert glass("CONFIG_MAP") == []


def test_the_message_counts_every_entry_of_the_cluster_not_only_the_admin_policy_ones() -> None:
    snap = snapshot(authentication_mode="API_AND_CONFIG_MAP")
    namespaced = entry("arn:aws:iam::1:role/team-admin", ADMIN, scope="namespace")
    snap.parts[AccessEntries] = AccessEntries((namespaced,), total=14)
    (p,) = auth_break_glass(snap, BreakGlassThresholds(), NOW)
    assert "none of its 14 access entries is associated" in p.message
    assert "aws-auth ConfigMap is broken" in p.message
    assert p.details["access_entries"] == 14
    assert p.details["namespace_scoped_admin_entries"] == ["arn:aws:iam::1:role/team-admin"]
    snap.parts[AccessEntries] = AccessEntries((), total=0)
    (p,) = auth_break_glass(snap, BreakGlassThresholds(), NOW)
    assert "it has no access entry at all" in p.message and p.details["access_entries"] == 0


def test_only_the_configured_admin_policies_count_and_are_what_the_collectors_are_asked_for() -> None:
    edit_admin = entry(
        "arn:aws:iam::1:role/ops", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy"
    )
    strict = BreakGlassThresholds(admin_policies=["AmazonEKSClusterAdminPolicy"])
    snap = snapshot(authentication_mode="API")
    snap.parts[AccessEntries] = AccessEntries((edit_admin,), total=1)
    assert list(auth_break_glass(snap, BreakGlassThresholds(), NOW)) == []
    (p,) = auth_break_glass(snap, strict, NOW)
    assert "associated with AmazonEKSClusterAdminPolicy at cluster scope" in p.message
    assert strict.collection_needs().admin_access_policies == (ADMIN,)
    both = BreakGlassThresholds().collection_needs().merge(strict.collection_needs())
    assert both.admin_access_policies == (
        ADMIN,
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
    )
