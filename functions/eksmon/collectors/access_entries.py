"""EKS access entries that hold an administrator access policy (the break-glass path).

A cluster may have dozens of access entries (one per node role, per team, per CI role), and
ListAssociatedAccessPolicies answers for one principal at a time. Reading every entry's policies would
cost 1 + N calls per cluster, every run. Instead the collector asks ListAccessEntries for the entries
associated with each administrator policy (its ``associatedPolicyArn`` filter), reads the policies of
those entries only, and stops at the first one that holds an administrator policy at cluster scope:
2 calls for a healthy cluster, whatever its number of entries. Only when no such entry exists does it
list the cluster's entries once more, to count them for the finding.
"""

from __future__ import annotations

from typing import Any

from eksmon.aws import pages
from eksmon.context import CollectContext
from eksmon.parts import ClusterInfo
from eksmon.parts.access import (
    ADMIN_POLICIES,
    API_MODES,
    POLICY_PREFIX,
    AccessEntries,
    AccessEntry,
    AssociatedPolicy,
    is_cluster_admin,
    policy_arns,
)
from eksmon.registry import collector


def _policies(eks: Any, cluster: str | None, principal: str) -> tuple[AssociatedPolicy, ...]:
    return tuple(
        AssociatedPolicy(
            p.get("policyArn", ""),
            str((p.get("accessScope") or {}).get("type", "cluster")),
            tuple((p.get("accessScope") or {}).get("namespaces") or ()),
        )
        for p in pages(
            eks,
            "list_associated_access_policies",
            "associatedAccessPolicies",
            clusterName=cluster,
            principalArn=principal,
        )
    )


@collector(
    provides=AccessEntries,
    iam_actions=("eks:ListAccessEntries", "eks:ListAssociatedAccessPolicies"),
    needs=(ClusterInfo,),
)
def access_entries(ctx: CollectContext) -> AccessEntries:
    """Per administrator policy, ListAccessEntries filtered by it, then ListAssociatedAccessPolicies of
    each entry found, until one holds it at cluster scope (only when the mode has API)."""
    info = ctx.get(ClusterInfo)
    if info.authentication_mode not in API_MODES:
        return AccessEntries(skipped=f"authentication mode {info.authentication_mode or 'unknown'}")
    eks = ctx.client("eks")
    admin_arns = ctx.needs.admin_access_policies or policy_arns(ADMIN_POLICIES)
    admins = frozenset(admin_arns)
    found: dict[str, AccessEntry] = {}
    for policy_arn in admin_arns:
        for principal in pages(
            eks,
            "list_access_entries",
            "accessEntries",
            clusterName=ctx.cluster,
            associatedPolicyArn=policy_arn,
        ):
            if principal in found:
                continue
            entry = found[principal] = AccessEntry(principal, _policies(eks, ctx.cluster, principal))
            if is_cluster_admin(entry, admins):
                return AccessEntries(tuple(found.values()))  # the way back in exists: nothing more to read
    total = sum(1 for _ in pages(eks, "list_access_entries", "accessEntries", clusterName=ctx.cluster))
    return AccessEntries(tuple(found.values()), total=total)


__all__ = [
    "ADMIN_POLICIES",
    "API_MODES",
    "POLICY_PREFIX",
    "AccessEntries",
    "AccessEntry",
    "AssociatedPolicy",
    "access_entries",
    "is_cluster_admin",
    "policy_arns",
]
