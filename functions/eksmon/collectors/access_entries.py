"""EKS access entries and the access policies associated with each (the break-glass path)."""

from __future__ import annotations

from dataclasses import dataclass

from eksmon.aws import pages
from eksmon.context import CollectContext
from eksmon.parts import ClusterInfo
from eksmon.registry import collector

API_MODES = frozenset({"API", "API_AND_CONFIG_MAP"})


@dataclass(frozen=True, slots=True)
class AssociatedPolicy:
    policy_arn: str
    scope: str  # "cluster" | "namespace"
    namespaces: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AccessEntry:
    principal_arn: str
    policies: tuple[AssociatedPolicy, ...]


@dataclass(frozen=True, slots=True)
class AccessEntries:
    """The cluster's access entries; ``skipped`` says why none were read (CONFIG_MAP mode)."""

    items: tuple[AccessEntry, ...] = ()
    skipped: str | None = None


@collector(
    provides=AccessEntries,
    iam_actions=("eks:ListAccessEntries", "eks:ListAssociatedAccessPolicies"),
    needs=(ClusterInfo,),
)
def access_entries(ctx: CollectContext) -> AccessEntries:
    """ListAccessEntries, then ListAssociatedAccessPolicies per entry (only when the mode has API)."""
    info = ctx.get(ClusterInfo)
    if info.authentication_mode not in API_MODES:
        return AccessEntries(skipped=f"authentication mode {info.authentication_mode or 'unknown'}")
    eks = ctx.client("eks")
    items = []
    for principal in pages(eks, "list_access_entries", "accessEntries", clusterName=ctx.cluster):
        policies = tuple(
            AssociatedPolicy(
                p.get("policyArn", ""),
                str((p.get("accessScope") or {}).get("type", "cluster")),
                tuple((p.get("accessScope") or {}).get("namespaces") or ()),
            )
            for p in pages(
                eks,
                "list_associated_access_policies",
                "associatedAccessPolicies",
                clusterName=ctx.cluster,
                principalArn=principal,
            )
        )
        items.append(AccessEntry(principal, policies))
    return AccessEntries(tuple(items))


__all__ = ["API_MODES", "AccessEntries", "AccessEntry", "AssociatedPolicy", "access_entries"]
