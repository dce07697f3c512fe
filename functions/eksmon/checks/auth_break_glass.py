"""auth.break_glass: no administrator path that survives a broken aws-auth ConfigMap.

In API (or API_AND_CONFIG_MAP) authentication mode, an access entry associated with
AmazonEKSClusterAdminPolicy (or AmazonEKSAdminPolicy) at cluster scope is the way back in when
aws-auth is broken. A namespace-scoped association does not count. CONFIG_MAP clusters are
``auth.config_map_only``'s.

The collector reads only the entries associated with an administrator policy, and stops at the first
one at cluster scope (see ``collectors/access_entries.py``): a healthy cluster costs 2 calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.access import (
    ADMIN_POLICIES,
    API_MODES,
    POLICY_PREFIX,
    AccessEntries,
    is_cluster_admin,
    policy_arns,
)
from eksmon.registry import CollectionNeeds, Thresholds, check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html"
GONE = frozenset({"DELETING", "FAILED"})


class BreakGlassThresholds(Thresholds):
    admin_policies: list[str] = Field(
        default_factory=lambda: list(ADMIN_POLICIES),
        description="access policies that make an entry an administrator path (at cluster scope)",
    )

    def collection_needs(self) -> CollectionNeeds:
        return CollectionNeeds(admin_access_policies=policy_arns(self.admin_policies))


@check(
    id="auth.break_glass",
    title="No break-glass administrator access entry",
    monitor="lifecycle",
    needs=(ClusterInfo, AccessEntries),
    docs=DOCS,
    severity_rules="warning when the authentication mode includes API and no access entry is associated "
    "with AmazonEKSClusterAdminPolicy or AmazonEKSAdminPolicy at cluster scope",
    thresholds=BreakGlassThresholds,
    sources=("eks:DescribeCluster accessConfig", "eks:ListAccessEntries", "eks:ListAssociatedAccessPolicies"),
)
def auth_break_glass(snap: ClusterSnapshot, t: BreakGlassThresholds, now: datetime) -> Iterator[Problem]:
    info = snap.get(ClusterInfo)
    entries = snap.get(AccessEntries)
    if info.status in GONE or info.authentication_mode not in API_MODES or entries.skipped:
        return
    admin_arns = frozenset(policy_arns(t.admin_policies))
    if any(is_cluster_admin(e, admin_arns) for e in entries.items):
        return
    namespaced = sorted(
        e.principal_arn for e in entries.items if any(p.policy_arn in admin_arns for p in e.policies)
    )
    note = (
        f" {len(namespaced)} entr{'ies' if len(namespaced) != 1 else 'y'} hold an admin policy only at "
        f"namespace scope ({', '.join(namespaced)}), which does not reach cluster-wide objects."
        if namespaced
        else ""
    )
    mode = info.authentication_mode
    total = len(entries.items) if entries.total is None else entries.total
    yield Problem(
        Severity.WARNING,
        "access-entries",
        f"Cluster {snap.name} authenticates with {mode}, yet "
        + (
            "it has no access entry at all. "
            if total == 0
            else f"none of its {total} access entr{'ies is' if total != 1 else 'y is'} associated with "
            f"{' or '.join(t.admin_policies)} at cluster scope.{note} "
        )
        + (
            "If the aws-auth ConfigMap is broken or deleted, nobody can administer the cluster."
            if mode == "API_AND_CONFIG_MAP"
            else "If the principals bound through Kubernetes RBAC lose their bindings, nobody can "
            "administer the cluster."
        ),
        "Create an access entry for a tightly held break-glass role and associate "
        "AmazonEKSClusterAdminPolicy at cluster scope: `aws eks create-access-entry --cluster-name "
        f"{snap.name} --principal-arn <role>` then `aws eks associate-access-policy --cluster-name "
        f"{snap.name} --principal-arn <role> --policy-arn {POLICY_PREFIX}AmazonEKSClusterAdminPolicy "
        "--access-scope type=cluster`.",
        {
            "authentication_mode": mode,
            "access_entries": total,
            "admin_entries": [],
            "namespace_scoped_admin_entries": namespaced,
        },
        title=f"{snap.name} has no break-glass administrator access entry",
    )


__all__ = ["BreakGlassThresholds", "auth_break_glass"]
