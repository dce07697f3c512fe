"""Where the monitors that read the Kubernetes API run: the subnets and security groups of
``kubernetes.vpc`` (private-only cluster endpoints are reachable from inside their VPC only).

The stack decides this before it builds the monitors, and each :class:`ScheduledCheck` places its own
function (constructs/scheduled_check.py); no construct reaches into another's function.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from eksmon.settings import KubernetesVpc

ENI_ACTIONS = (  # what Lambda needs to place a function's network interfaces in a VPC
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


@dataclass(frozen=True)
class FunctionNetwork:
    """The subnets and security groups a function's network interfaces go in."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


def kubernetes_network(scope: Construct, vpc: KubernetesVpc | None) -> FunctionNetwork | None:
    """``kubernetes.vpc`` as a network: its security groups, or one made in ``vpc_id`` that allows only
    outbound HTTPS (to the Kubernetes API endpoints and the AWS APIs)."""
    if vpc is None:
        return None
    if vpc.security_group_ids:
        return FunctionNetwork(tuple(vpc.subnet_ids), tuple(vpc.security_group_ids))
    group = ec2.CfnSecurityGroup(
        scope,
        "KubernetesSecurityGroup",
        vpc_id=vpc.vpc_id or "",
        group_description="eksmon monitors that read the Kubernetes API: outbound HTTPS only",
        security_group_egress=[
            ec2.CfnSecurityGroup.EgressProperty(
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ip="0.0.0.0/0",
                description="Kubernetes API endpoints and AWS APIs (HTTPS)",
            )
        ],
    )
    return FunctionNetwork(tuple(vpc.subnet_ids), (group.attr_group_id,))
