"""cluster.nodegroup_health: EKS reports a managed node group unhealthy (one finding per group and code)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.checks._common import GONE, issues_by_code
from eksmon.models import Problem, Severity
from eksmon.parts.cluster import Nodegroups
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot

# What to look at first for the codes EKS documents most often (API_Issue in the EKS API reference);
# any other code gets the generic advice.
_FIRST_LOOK = {
    "AsgInstanceLaunchFailures": "the Auto Scaling group's activity history (capacity, launch template, AMI)",
    "InsufficientFreeAddresses": "the node group's subnets: they have no free IP addresses left",
    "Ec2SubnetNotFound": "the node group's subnets: one was deleted",
    "Ec2SubnetInvalidConfiguration": "the node group's subnets: public IP assignment or routing",
    "IamInstanceProfileNotFound": "the node role's instance profile: it was deleted",
    "IamNodeRoleNotFound": "the node role: it was deleted",
    "NodeCreationFailure": "the nodes' bootstrap: they launched but did not join the cluster",
    "Ec2LaunchTemplateNotFound": "the launch template: it was deleted",
    "Ec2SecurityGroupNotFound": "the node group's security groups: one was deleted",
    "AccessDenied": "the EKS service-linked role and the node role's policies",
}


@check(
    id="cluster.nodegroup_health",
    title="Managed node group health issue",
    monitor="lifecycle",
    needs=(Nodegroups,),
    docs="https://docs.aws.amazon.com/eks/latest/APIReference/API_Issue.html",
    severity_rules="critical, one finding per managed node group and health issue code",
    sources=("eks:ListNodegroups", "eks:DescribeNodegroup"),
)
def nodegroup_health(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    for ng in snap.get(Nodegroups).items:
        if ng.status in GONE:
            continue  # a node group being deleted has no future to repair
        for group in issues_by_code(ng.health_issues):
            code = group.code
            look = _FIRST_LOOK.get(code, "the resources EKS names")
            yield Problem(
                Severity.CRITICAL,
                f"nodegroup/{ng.name}/health/{code}",
                f"EKS reports {code} on managed node group {ng.name} of cluster {snap.name}"
                f"{group.said}{group.affected} "
                "Until it is fixed the node group cannot scale, replace or update its nodes.",
                f"Check {look}, then `aws eks describe-nodegroup --cluster-name {snap.name} "
                f"--nodegroup-name {ng.name} --query nodegroup.health`.",
                {
                    "nodegroup": ng.name,
                    "nodegroup_status": ng.status,
                    "code": code,
                    "message": group.message,
                    "resource_ids": group.resource_ids,
                },
                title=f"Node group {ng.name}: {code}",
            )
