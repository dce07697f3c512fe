"""The member-account stack: the read-only role the monitors assume in each account they scan.

One role, named ``accounts.role_name`` (``eksmon-reader`` by default), that only the monitor account's
monitor roles can assume (they live on the IAM path MONITOR_ROLE_PATH; the trust names that path
through ``aws:PrincipalArn``). Its policy is the union of every deployed monitor's read actions from
the check registry, on the narrowest resource IAM accepts, as in the monitor stack.

Deploy it into each member account (``cdk deploy EksMonitorReader --parameters MonitorAccountId=...``;
it needs no bootstrap: no assets, CLI credentials), or in organization mode let the monitor stack
create a service-managed StackSet of the same template (infra/constructs/reader_stackset.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from aws_cdk import Aws, CfnOutput, CfnParameter, CliCredentialsStackSynthesizer, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from eksmon.iam_policy import group_by_resource
from eksmon.settings import Settings
from infra.constants import MONITOR_ROLE_PATH, READER_STACK_DESCRIPTION
from infra.constructs.scheduled_check import wildcard_reason
from infra.nag import acknowledge

MONITOR_ACCOUNT_PARAMETER = "MonitorAccountId"


class ReaderStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        actions: Sequence[str],
        monitor_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=READER_STACK_DESCRIPTION,
            synthesizer=CliCredentialsStackSynthesizer(),  # no assets: member accounts need no bootstrap
            **kwargs,
        )
        self.monitor_account = CfnParameter(
            self,
            MONITOR_ACCOUNT_PARAMETER,
            type="String",
            allowed_pattern=r"^\d{12}$",
            description="The account the eksmon monitor stack runs in; only its monitor roles may assume this role",
            default=monitor_account,  # None: asked at deploy time (the StackSet passes it)
        )
        self.role = self._build_role(settings.accounts.role_name)
        self._trust_people(settings.accounts.trusted_principal_arns)
        self.policy = self._build_policy(actions)
        CfnOutput(self, "RoleArn", value=self.role.role_arn, description="the role the monitors assume")

    def _build_role(self, name: str) -> iam.Role:
        account = self.monitor_account.value_as_string
        monitor_roles = f"arn:{Aws.PARTITION}:iam::{account}:role{MONITOR_ROLE_PATH}*"
        return iam.Role(
            self,
            "Role",
            role_name=name,  # the monitors assume it by name in every member account
            assumed_by=iam.AccountPrincipal(account).with_conditions(
                {"ArnLike": {"aws:PrincipalArn": monitor_roles}}
            ),
            max_session_duration=Duration.hours(1),
            description="eksmon: read-only access for the monitor account's eksmon monitors",
        )

    def _trust_people(self, arns: Sequence[str]) -> None:
        """``accounts.trusted_principal_arns``: named roles or users (an SSO role, a CI role) that run
        `eksmon scan` across the member accounts; each by its exact ARN, never a whole account."""
        trust = self.role.assume_role_policy  # always set on a Role built with assumed_by
        if arns and trust is not None:
            trust.add_statements(
                iam.PolicyStatement(
                    sid="TrustedPrincipals",
                    actions=["sts:AssumeRole"],
                    principals=[iam.ArnPrincipal(arn) for arn in arns],
                )
            )

    def _build_policy(self, actions: Sequence[str]) -> iam.Policy:
        policy = iam.Policy(self, "ReadPolicy", roles=[self.role])
        wildcards: dict[str, list[str]] = defaultdict(list)
        for pattern, grouped in group_by_resource(actions).items():
            resource = pattern.replace("{partition}", Aws.PARTITION).replace("{account}", Aws.ACCOUNT_ID)
            policy.add_statements(iam.PolicyStatement(actions=grouped, resources=[resource]))
            if "*" in pattern:
                wildcards[pattern].extend(grouped)
        for pattern, grouped in wildcards.items():
            nag = pattern.replace("{partition}", "<AWS::Partition>").replace("{account}", "<AWS::AccountId>")
            acknowledge(policy, f"AwsSolutions-IAM5[Resource::{nag}]", wildcard_reason(pattern, grouped))
        return policy
