"""cdk-nag acknowledgments: each one on the construct it concerns, with the reason it is acceptable."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

NAG_PACK = "AwsSolutions"
_MIN_REASON = 40  # a reason a reviewer can check, not "n/a"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge an AwsSolutions rule (``AwsSolutions-IAM5[Resource::*]``) on ``scope`` and below."""
    if len(reason.strip()) < _MIN_REASON:
        raise ValueError(f"acknowledging {rule} needs a reason of at least {_MIN_REASON} characters")
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{NAG_PACK}::{rule}", reason=reason))


def acknowledge_active_tracing(role: iam.Role) -> None:
    """Active tracing makes CDK add xray:PutTraceSegments/PutTelemetryRecords to the role's default policy."""
    acknowledge(
        role.node.find_child("DefaultPolicy"),
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray PutTraceSegments and PutTelemetryRecords have no resource-level permissions; "
        "CDK adds them on '*' for active tracing.",
    )
