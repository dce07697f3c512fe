"""The cluster's access entries and the admin policies they carry (``collectors/access_entries.py``
fills them; ``auth.break_glass`` reads them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

API_MODES = frozenset({"API", "API_AND_CONFIG_MAP"})
POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
ADMIN_POLICIES = ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy")


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
    """The access entries associated with an administrator policy (at any scope), with their policies.

    ``total`` is how many access entries the cluster has, counted only when none of ``items`` holds an
    administrator policy at cluster scope (None: not counted, an administrator entry was found first).
    ``skipped`` says why nothing was read (CONFIG_MAP mode).
    """

    items: tuple[AccessEntry, ...] = ()
    total: int | None = None
    skipped: str | None = None


def policy_arns(names: Iterable[str]) -> tuple[str, ...]:
    """The ARNs of AWS's EKS access policies, by name (AmazonEKSClusterAdminPolicy...)."""
    return tuple(POLICY_PREFIX + name for name in names)


def is_cluster_admin(entry: AccessEntry, admin_arns: frozenset[str]) -> bool:
    return any(p.policy_arn in admin_arns and p.scope == "cluster" for p in entry.policies)
