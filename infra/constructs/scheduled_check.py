"""One monitor: its Lambda, a least-privilege role built from the check registry, and its schedule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from eksmon.iam_policy import group_by_resource
from eksmon.settings import Settings
from infra.constants import (
    ENV_CONFIG,
    ENV_TOPIC_ARN,
    ENV_TRACING,
    LAMBDA_ARCHITECTURE,
    LAMBDA_ENV_LIMIT_BYTES,
    LAMBDA_RUNTIME,
    LAMBDA_SIZES,
    LOG_LEVEL,
    LOG_RETENTION,
    METRICS_NAMESPACE,
    MONITOR_RETRY_ATTEMPTS,
    MONITOR_ROLE_PATH,
    POWERTOOLS_SERVICE_NAME,
    SCHEDULE_EVENT_SOURCE,
    SCHEDULE_MAX_EVENT_AGE,
    SCHEDULE_RETRY_ATTEMPTS,
)
from infra.constructs.dead_letter_queue import encrypted_dead_letter_queue
from infra.constructs.fanout import FanOut, needs_fanout
from infra.constructs.network import ENI_ACTIONS, FunctionNetwork
from infra.monitors import MonitorPlan
from infra.nag import acknowledge, acknowledge_active_tracing


class ScheduledCheck(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: MonitorPlan,
        settings: Settings,
        layer: lambda_.ILayerVersion,
        topic: sns.ITopic,
        key: kms.IKey,
        network: FunctionNetwork | None = None,
        code: lambda_.Code,
    ) -> None:
        """``network``: the subnets and security groups to run the function in (None: Lambda's own)."""
        super().__init__(scope, construct_id)
        self.plan = plan
        self.timeout = LAMBDA_SIZES[plan.monitor].timeout
        self.log_group = self._build_log_group()
        self.role = self._build_role()
        self.read_policy = self._build_read_policy(plan.iam_actions, settings)
        self._grant_basic_execution(self.role, self.log_group)
        self._grant_publish(self.role, topic, key)
        # One encrypted queue (and one depth alarm, constructs/alarms.py) for every way a run can be lost:
        # the schedule could not invoke the function, or the function failed after Lambda's retries.
        self.dead_letter_queue = encrypted_dead_letter_queue(
            self, key, "the monitor's EventBridge Scheduler target and of its function's failed runs"
        )
        self.function = self._build_function(settings, layer, topic, code)
        if network is not None:
            self._place_in(network)
        # A fleet larger than one invocation scans (or an Organization's, known only at run time) is
        # scanned in partitions by a state machine the schedule starts instead (constructs/fanout.py).
        self.fanout = (
            FanOut(
                self,
                "FanOut",
                monitor=plan.monitor,
                function=self.function,
                max_concurrency=settings.fanout.max_concurrency,
                topic=topic,
            )
            if needs_fanout(settings)
            else None
        )
        self.scheduler_role = self._build_scheduler_role(key)
        self.schedule = self._build_schedule(getattr(settings.schedules, plan.monitor), self.scheduler_role)

    # -- pieces ------------------------------------------------------------------------------------------
    def _build_log_group(self) -> logs.LogGroup:
        return logs.LogGroup(self, "Logs", retention=LOG_RETENTION)

    def _build_role(self) -> iam.Role:
        # No AWS managed policy (AwsSolutions-IAM4): the basic-execution permissions are written inline,
        # scoped to this function's own log group.
        return iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"eksmon {self.plan.monitor} monitor: read-only access for its checks",
            path=MONITOR_ROLE_PATH,  # what the member accounts' reader role trusts
        )

    def _build_function(
        self, settings: Settings, layer: lambda_.ILayerVersion, topic: sns.ITopic, code: lambda_.Code
    ) -> lambda_.Function:
        config = settings.to_json()
        size = len(ENV_CONFIG) + len(config.encode())
        if size > LAMBDA_ENV_LIMIT_BYTES:
            raise ValueError(
                f"the eksmon settings take {size} bytes as JSON, more than the"
                f" {LAMBDA_ENV_LIMIT_BYTES} bytes Lambda allows for environment variables"
            )
        function = lambda_.Function(
            self,
            "Function",
            description=f"eksmon {self.plan.monitor} monitor ({len(self.plan.check_ids)} checks)",
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=self.plan.handler,
            code=code,
            layers=[layer],
            role=self.role,
            memory_size=LAMBDA_SIZES[self.plan.monitor].memory_mb,
            timeout=self.timeout,
            tracing=lambda_.Tracing.ACTIVE if settings.tracing else lambda_.Tracing.DISABLED,
            log_group=self.log_group,
            environment={
                ENV_CONFIG: config,
                ENV_TOPIC_ARN: topic.topic_arn,
                "POWERTOOLS_SERVICE_NAME": POWERTOOLS_SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "LOG_LEVEL": LOG_LEVEL,
                **({ENV_TRACING: "true"} if settings.tracing else {}),
            },
            # The schedule invokes asynchronously: say how often Lambda retries a failed run, and where
            # the run goes after that, instead of Lambda's defaults (2 retries, then dropped).
            retry_attempts=MONITOR_RETRY_ATTEMPTS,
            max_event_age=SCHEDULE_MAX_EVENT_AGE,
            on_failure=_FailedRuns(self.dead_letter_queue),
        )
        # What the on-failure destination needs, and no more: the queue is encrypted with the key the
        # role already uses for the topic (EncryptFindings), so only SendMessage on this queue is added.
        # (SqsDestination would grant kms:GenerateDataKey* and kms:ReEncrypt* on top.)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="SendFailedRuns",
                actions=["sqs:SendMessage"],
                resources=[self.dead_letter_queue.queue_arn],
            )
        )
        if settings.tracing:
            acknowledge_active_tracing(self.role)
        return function

    def _build_scheduler_role(self, key: kms.IKey) -> iam.Role:
        """The schedule's own execution role: it can invoke this monitor's function and nothing else."""
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},  # confused deputy
            ),
            description=f"EventBridge Scheduler: runs the eksmon {self.plan.monitor} monitor",
        )
        # The LambdaInvoke target grants lambda:InvokeFunction and sqs:SendMessage on the dead-letter queue,
        # but not the KMS key the queue is encrypted with: without it, no dead-letter message could be sent.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptDeadLetters",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key.key_arn],
            )
        )
        if self.fanout is not None:
            return role  # StepFunctionsStartExecution grants states:StartExecution on the state machine only
        function_id = Stack.of(self).get_logical_id(self.function.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
            "The LambdaInvoke target grants lambda:InvokeFunction on the function's versions and aliases "
            "('<function ARN>:*') besides the function itself; it is this monitor's function only.",
        )
        return role

    def _build_schedule(self, expression: str, role: iam.IRole) -> scheduler.Schedule:
        # EventBridge-like fields, so Powertools' correlation_paths.EVENT_BRIDGE finds the "id".
        payload = scheduler.ScheduleTargetInput.from_object(
            {
                "source": SCHEDULE_EVENT_SOURCE,
                "detail-type": "Scheduled Check",
                "monitor": self.plan.monitor,
                "id": scheduler.ContextAttribute.execution_id,
                "time": scheduler.ContextAttribute.scheduled_time,
                "attempt": scheduler.ContextAttribute.attempt_number,
            }
        )
        target: scheduler.IScheduleTarget
        if self.fanout is not None:
            target = targets.StepFunctionsStartExecution(
                self.fanout.state_machine,
                role=role,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                max_event_age=SCHEDULE_MAX_EVENT_AGE,
                input=payload,
            )
        else:
            target = targets.LambdaInvoke(
                self.function,
                role=role,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                max_event_age=SCHEDULE_MAX_EVENT_AGE,
                input=payload,
            )
        return scheduler.Schedule(
            self,
            "Schedule",
            schedule=scheduler.ScheduleExpression.expression(expression),
            target=target,
            description=f"eksmon {self.plan.monitor} monitor",
        )

    def _place_in(self, network: FunctionNetwork) -> None:
        """The function's network interfaces in ``network``, with the rights Lambda needs to make them.

        The L1 VpcConfig, because the L2 ``vpc`` option wants an IVpc (a lookup, or the subnets' zones)
        where the settings hold subnet and security group ids only.
        """
        cfn = self.function.node.default_child
        assert isinstance(cfn, lambda_.CfnFunction)
        cfn.vpc_config = lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=list(network.subnet_ids), security_group_ids=list(network.security_group_ids)
        )
        policy = iam.Policy(
            self,
            "NetworkInterfaces",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="LambdaVpcNetworkInterfaces", actions=list(ENI_ACTIONS), resources=["*"]
                )
            ],
        )
        self.function.node.add_dependency(policy)  # the interfaces are made at create time, with these rights
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "Lambda creates, describes and deletes the function's VPC network interfaces; EC2 gives "
            "Describe* no resource-level permissions and the interfaces do not exist before creation.",
        )

    # -- permissions -------------------------------------------------------------------------------------
    def _build_read_policy(self, actions: Sequence[str], settings: Settings) -> iam.Policy:
        """The registry's read-only actions for this monitor's checks, plus the member-account roles.

        Every wildcard resource is acknowledged to cdk-nag with the reason it cannot be narrower.
        """
        policy = iam.Policy(self, "ReadPolicy", roles=[self.role])
        wildcards: dict[str, list[str]] = defaultdict(list)
        for pattern, grouped in group_by_resource(actions).items():
            policy.add_statements(iam.PolicyStatement(actions=grouped, resources=[_render(pattern)]))
            if "*" in pattern:
                wildcards[pattern].extend(grouped)
        for sid, grouped, pattern, conditions in _assume_role_grants(settings):
            policy.add_statements(
                iam.PolicyStatement(
                    sid=sid, actions=grouped, resources=[_render(pattern)], conditions=conditions
                )
            )
            if "*" in pattern:
                wildcards[pattern].extend(grouped)
        for pattern, grouped in wildcards.items():
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{_render(pattern, nag=True)}]",
                wildcard_reason(pattern, grouped),
            )
        return policy

    @staticmethod
    def _grant_basic_execution(role: iam.Role, log_group: logs.ILogGroup) -> None:
        """AWSLambdaBasicExecutionRole, written inline and limited to the function's log group."""
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )

    @staticmethod
    def _grant_publish(role: iam.Role, topic: sns.ITopic, key: kms.IKey) -> None:
        role.add_to_policy(
            iam.PolicyStatement(sid="PublishFindings", actions=["sns:Publish"], resources=[topic.topic_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptFindings",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key.key_arn],
            )
        )


@jsii.implements(lambda_.IDestination)
class _FailedRuns:
    """The on-failure destination of a monitor function: its encrypted queue (grants made by the caller)."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def bind(
        self, _scope: Construct, _fn: lambda_.IFunction, *, type: lambda_.DestinationType | None = None
    ) -> lambda_.DestinationConfig:
        return lambda_.DestinationConfig(destination=self.queue.queue_arn)


def _assume_role_grants(
    settings: Settings,
) -> list[tuple[str, list[str], str, dict[str, Any] | None]]:
    """(sid, actions, resource pattern, conditions) for reaching member accounts."""
    accounts = settings.accounts
    name = accounts.role_name
    grants: list[tuple[str, list[str], str, dict[str, Any] | None]] = []
    members = [a for a in accounts.ids if a not in set(accounts.exclude)]
    for account in members:
        grants.append(
            (
                f"AssumeReadRole{account}",
                ["sts:AssumeRole"],
                f"arn:{{partition}}:iam::{account}:role/{name}",
                None,
            )
        )
    if accounts.organization:
        # any account id, but only a role of this organization, and only the configured role name
        same_org = {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}
        grants.append(
            (
                "AssumeOrganizationReadRoles",
                ["sts:AssumeRole"],
                f"arn:{{partition}}:iam::*:role/{name}",
                same_org,
            )
        )
        grants.append(("ListOrganizationAccounts", ["organizations:ListAccounts"], "*", None))
    return grants


def _render(pattern: str, nag: bool = False) -> str:
    """The pattern with this stack's partition and account, or as cdk-nag spells them in finding ids."""
    partition, account = ("<AWS::Partition>", "<AWS::AccountId>") if nag else (Aws.PARTITION, Aws.ACCOUNT_ID)
    return pattern.replace("{partition}", partition).replace("{account}", account)


def wildcard_reason(pattern: str, actions: Sequence[str]) -> str:
    """Why a resource pattern with a wildcard is as narrow as IAM allows (the cdk-nag acknowledgment)."""
    listed = ", ".join(sorted(actions))
    if pattern == "*":
        return f"{listed}: no resource-level permissions exist for these actions, so IAM only accepts '*'."
    if ":iam::*:role/" in pattern:
        return (
            f"{listed}: organization mode reaches every member account; the role name is fixed and the "
            "aws:ResourceOrgID = aws:PrincipalOrgID condition keeps it inside this organization."
        )
    return (
        f"{listed}: read-only, on every EKS resource of this type in this account and any region, "
        "because the monitor covers the whole fleet; service, account and resource type are fixed."
    )
