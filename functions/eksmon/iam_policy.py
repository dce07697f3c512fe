"""Least-privilege IAM from the check registry: the resource each read action is granted on, and the whole
policy a person or CI identity needs to run ``eksmon scan`` (``eksmon iam-policy``).

The deployed monitors' policies (infra/constructs/scheduled_check.py, infra/reader_stack.py) group the
same registry actions with :func:`group_by_resource`, so a laptop, a CI job and a Lambda are granted the
same reads for the same checks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Final

from eksmon.registry import CheckSpec, Registry
from eksmon.settings import Settings

# Read actions (from the registry) that support resource-level permissions, with the ARN pattern to
# grant them on, in this account and any region. Service Authorization Reference, "Actions defined by
# Amazon Elastic Kubernetes Service". Any action not listed here has no resource type there and is
# granted on "*" (ListClusters, DescribeClusterVersions, DescribeAddonVersions, CloudWatch reads, ...).
_EKS: Final = "arn:{partition}:eks:*:{account}:"
RESOURCE_SCOPED_ACTIONS: Final[dict[str, str]] = {
    "eks:DescribeCluster": _EKS + "cluster/*",
    "eks:ListNodegroups": _EKS + "cluster/*",
    "eks:ListAddons": _EKS + "cluster/*",
    "eks:ListInsights": _EKS + "cluster/*",
    "eks:DescribeInsight": _EKS + "cluster/*",
    "eks:ListFargateProfiles": _EKS + "cluster/*",
    "eks:ListAccessEntries": _EKS + "cluster/*",
    "eks:DescribeNodegroup": _EKS + "nodegroup/*/*/*",
    "eks:DescribeAddon": _EKS + "addon/*/*/*",
    "eks:DescribeFargateProfile": _EKS + "fargateprofile/*/*/*",
    "eks:ListUpdates": _EKS + "cluster/*",
    "eks:DescribeUpdate": _EKS + "cluster/*",
    # access-entry/<cluster>/<identity type>/<identity account>/<identity name>/<uuid>
    "eks:ListAssociatedAccessPolicies": _EKS + "access-entry/*/*/*/*/*",
}
# Actions that act on more than one resource type, by the request's parameters: ListUpdates and
# DescribeUpdate with nodegroupName or addonName name the node group or add-on. Granted on these too.
ALSO_SCOPED_TO: Final[dict[str, tuple[str, ...]]] = {
    "eks:ListUpdates": (_EKS + "nodegroup/*/*/*", _EKS + "addon/*/*/*"),
    "eks:DescribeUpdate": (_EKS + "nodegroup/*/*/*", _EKS + "addon/*/*/*"),
}


def group_by_resource(actions: Sequence[str]) -> dict[str, list[str]]:
    """Actions by the resource pattern to grant them on.

    "*" only for actions absent from RESOURCE_SCOPED_ACTIONS: those IAM defines no resource type for
    (e.g. eks:ListClusters, eks:DescribeClusterVersions), where a narrower Resource would deny the call.
    """
    by_resource: dict[str, list[str]] = defaultdict(list)
    for action in sorted(set(actions)):
        for pattern in (RESOURCE_SCOPED_ACTIONS.get(action, "*"), *ALSO_SCOPED_TO.get(action, ())):
            by_resource[pattern].append(action)
    return dict(sorted(by_resource.items()))


def enabled_checks(registry: Registry, settings: Settings, patterns: Sequence[str] = ()) -> list[CheckSpec]:
    """The checks a scan with these settings runs: selected by ``patterns``, minus ``checks.disabled``,
    minus the ones reading the Kubernetes API when ``kubernetes.enabled`` is false."""
    chosen = registry.select(patterns, settings.checks.disabled)
    if not settings.kubernetes.enabled:
        chosen = [c for c in chosen if not any(col.kube for col in registry.collectors_for([c]))]
    return chosen


def cli_policy(
    registry: Registry,
    settings: Settings,
    checks: Iterable[CheckSpec],
    *,
    partition: str = "aws",
    account: str = "*",
) -> dict[str, Any]:
    """The identity policy for running ``eksmon scan`` with ``settings`` and ``checks``: the registry's
    read actions, and, for member accounts, AssumeRole on their reader role (plus ListAccounts in
    organization mode). ``account``: the account the identity reads in itself ("*": any it is used in)."""
    statements: list[dict[str, Any]] = []
    for pattern, actions in group_by_resource(registry.iam_actions(checks)).items():
        resource = pattern.replace("{partition}", partition).replace("{account}", account)
        statements.append({"Sid": _sid(pattern), "Effect": "Allow", "Action": actions, "Resource": resource})
    accounts = settings.accounts
    members = [a for a in accounts.ids if a not in set(accounts.exclude)]
    if members:
        statements.append(
            {
                "Sid": "AssumeMemberReaderRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [f"arn:{partition}:iam::{a}:role/{accounts.role_name}" for a in members],
            }
        )
    if accounts.organization:
        statements += [
            {
                "Sid": "AssumeOrganizationReaderRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:{partition}:iam::*:role/{accounts.role_name}",
                # any account id, but only a role inside the caller's own organization
                "Condition": {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
            },
            {
                "Sid": "ListOrganizationAccounts",
                "Effect": "Allow",
                "Action": "organizations:ListAccounts",
                "Resource": "*",
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def _sid(pattern: str) -> str:
    """ReadWithoutResourceTypes, or Read<Service><ResourceType> (ReadEksCluster, ReadEksAccessEntry)."""
    if pattern == "*":
        return "ReadWithoutResourceTypes"
    _arn, _partition, service, _region, _account, resource = pattern.split(":", 5)
    kind = resource.split("/", 1)[0]
    return "Read" + service.capitalize() + "".join(p.capitalize() for p in kind.split("-"))
