"""Organization mode: the member-account role (EksMonitorReader's template) as a service-managed StackSet.

Created in the monitor stack when ``accounts.organization`` is true and ``accounts.organizational_units``
names the root (``r-...``) or OUs: CloudFormation StackSets deploys the role into every account of those
OUs, and into each account that joins them later (auto-deployment); an account that leaves loses it.
The monitor stack must then be deployed in the management account, or in a StackSets delegated
administrator with ``-c eksmon:stackset-call-as=DELEGATED_ADMIN``; trusted access for StackSets must be
enabled in Organizations. IAM is global, so one stack instance per account, in this stack's region.
A StackSet never deploys to the management account itself: the monitors scan it with their own role.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aws_cdk import Aws
from aws_cdk import aws_cloudformation as cloudformation
from constructs import Construct

from infra.constants import STACKSET_NAME
from infra.reader_stack import MONITOR_ACCOUNT_PARAMETER

CALL_AS_CONTEXT_KEY = "eksmon:stackset-call-as"
CallAs = Literal["SELF", "DELEGATED_ADMIN"]


class ReaderStackSet(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        template_body: str,
        organizational_units: Sequence[str],
        call_as: CallAs = "SELF",
    ) -> None:
        super().__init__(scope, construct_id)
        if not organizational_units:
            raise ValueError("a service-managed StackSet needs the organization root or OUs to deploy to")
        self.stack_set = cloudformation.CfnStackSet(
            self,
            "StackSet",
            stack_set_name=STACKSET_NAME,
            description="eksmon: the read-only role the eksmon monitors assume in each member account",
            permission_model="SERVICE_MANAGED",
            call_as=call_as,
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            capabilities=[
                "CAPABILITY_NAMED_IAM"
            ],  # the role has a fixed name: the monitors assume it by name
            managed_execution={"Active": True},
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                failure_tolerance_percentage=10,
                max_concurrent_percentage=25,
                region_concurrency_type="PARALLEL",
            ),
            parameters=[
                cloudformation.CfnStackSet.ParameterProperty(
                    parameter_key=MONITOR_ACCOUNT_PARAMETER, parameter_value=Aws.ACCOUNT_ID
                )
            ],
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=list(organizational_units)
                    ),
                    regions=[Aws.REGION],
                )
            ],
            template_body=template_body,
        )
