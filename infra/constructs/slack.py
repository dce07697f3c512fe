"""Slack: an AWS Chatbot channel configuration when the workspace and channel ids are configured,
otherwise a small forwarder Lambda that posts to an incoming webhook kept in Secrets Manager."""

from __future__ import annotations

import re
from collections.abc import Callable

from aws_cdk import Stack
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from eksmon.settings import SlackSettings
from infra.constants import (
    CHATBOT_CONFIGURATION_NAME,
    ENV_SLACK_WEBHOOK_SECRET_ARN,
    ENV_TRACING,
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    LOG_LEVEL,
    LOG_RETENTION,
    POWERTOOLS_SERVICE_NAME,
    SLACK_FORWARDER_HANDLER,
    SLACK_FORWARDER_MEMORY_MB,
    SLACK_FORWARDER_TIMEOUT,
)
from infra.constructs.dead_letter_queue import encrypted_dead_letter_queue
from infra.nag import acknowledge, acknowledge_active_tracing

_FULL_SECRET_ARN = re.compile(r"-[A-Za-z0-9]{6}$")  # Secrets Manager appends 6 random characters


class ChatbotSlack(Construct):
    """AWS Chatbot posts the topic's ``https`` body (the custom-notification JSON) to one Slack channel."""

    def __init__(
        self, scope: Construct, construct_id: str, *, slack: SlackSettings, topic: sns.ITopic
    ) -> None:
        super().__init__(scope, construct_id)
        assert slack.workspace_id is not None and slack.channel_id is not None
        # Notifications only: the channel role has no permissions, and the guardrail denies every action,
        # so nobody in the channel can run AWS commands through Chatbot (its default guardrail is
        # AdministratorAccess).
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("chatbot.amazonaws.com"),
            description="AWS Chatbot: posts eksmon notifications to Slack; no AWS permissions",
        )
        self.guardrail = iam.ManagedPolicy(
            self,
            "Guardrail",
            description="eksmon Slack channel: notifications only, no AWS actions from chat",
            statements=[iam.PolicyStatement(effect=iam.Effect.DENY, actions=["*"], resources=["*"])],
        )
        self.channel = chatbot.SlackChannelConfiguration(
            self,
            "Channel",
            slack_channel_configuration_name=CHATBOT_CONFIGURATION_NAME,
            slack_workspace_id=slack.workspace_id,
            slack_channel_id=slack.channel_id,
            notification_topics=[topic],
            logging_level=chatbot.LoggingLevel.ERROR,
            # Chatbot writes /aws/chatbot/<name> in us-east-1 whatever the stack's region; CDK sets its
            # retention there through a LogRetention custom resource (a small function of its own).
            log_retention=LOG_RETENTION,
            role=self.role,
            guardrail_policies=[self.guardrail],
        )
        self._acknowledge_log_retention()

    def _acknowledge_log_retention(self) -> None:
        stack = Stack.of(self)
        provider = next(c for c in stack.node.children if c.node.id.startswith("LogRetention"))
        acknowledge(
            provider,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "CDK's LogRetention provider (it sets the Chatbot log group's retention) writes its own logs with "
            "the AWS basic execution policy; it is CDK's function, configured by CDK only.",
        )
        acknowledge(
            provider,
            "AwsSolutions-IAM5[Resource::*]",
            "CDK's LogRetention provider needs logs:PutRetentionPolicy/DeleteRetentionPolicy on the Chatbot "
            "log group, which it reaches by name at deploy time; CDK grants them on '*'.",
        )


class SlackForwarder(Construct):
    """SNS -> Lambda (``lambda`` body: the custom-notification JSON) -> Slack incoming webhook."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        secret_arn: str,
        topic: sns.ITopic,
        topic_key: kms.IKey,
        undelivered: sqs.IQueue | None = None,
        layer: lambda_.ILayerVersion,
        tracing: bool = False,
        code: lambda_.Code,
    ) -> None:
        super().__init__(scope, construct_id)
        self.tracing = tracing
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION)
        self.role = self._build_role(secret_arn, topic_key)
        self.dead_letter_queue = encrypted_dead_letter_queue(
            self, topic_key, "the Slack forwarder's asynchronous invocations"
        )
        self.function = self._build_function(secret_arn, layer, code)
        topic.add_subscription(subscriptions.LambdaSubscription(self.function, dead_letter_queue=undelivered))

    def _build_role(self, secret_arn: str, key: kms.IKey) -> iam.Role:
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="eksmon Slack forwarder: reads the webhook secret, writes its own logs",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        full = bool(_FULL_SECRET_ARN.search(secret_arn))
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadWebhookSecret",
                actions=["secretsmanager:GetSecretValue"],
                resources=[secret_arn if full else f"{secret_arn}-??????"],
            )
        )
        if not full:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::{secret_arn}-??????]",
                "The configured secret ARN has no random suffix; '-??????' matches exactly that suffix of "
                "this one secret and nothing else.",
            )
        role.add_to_policy(  # the dead-letter queue is encrypted with the topic's key
            iam.PolicyStatement(
                sid="EncryptDeadLetters",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key.key_arn],
            )
        )
        return role

    def _build_function(
        self, secret_arn: str, layer: lambda_.ILayerVersion, code: lambda_.Code
    ) -> lambda_.Function:
        function = lambda_.Function(
            self,
            "Function",
            description="eksmon: forwards the alert topic to a Slack incoming webhook",
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=SLACK_FORWARDER_HANDLER,
            code=code,
            layers=[layer],
            role=self.role,
            memory_size=SLACK_FORWARDER_MEMORY_MB,
            timeout=SLACK_FORWARDER_TIMEOUT,
            tracing=lambda_.Tracing.ACTIVE if self.tracing else lambda_.Tracing.DISABLED,
            log_group=self.log_group,
            dead_letter_queue=self.dead_letter_queue,
            environment={
                ENV_SLACK_WEBHOOK_SECRET_ARN: secret_arn,  # the ARN; the URL itself stays in the secret
                "POWERTOOLS_SERVICE_NAME": POWERTOOLS_SERVICE_NAME,
                "LOG_LEVEL": LOG_LEVEL,
                **({ENV_TRACING: "true"} if self.tracing else {}),
            },
        )
        if self.tracing:
            acknowledge_active_tracing(self.role)
        return function


def build_slack(
    scope: Construct,
    slack: SlackSettings | None,
    *,
    topic: sns.ITopic,
    topic_key: kms.IKey,
    layer: lambda_.ILayerVersion,
    code: lambda_.Code,
    tracing: bool = False,
    undelivered: Callable[[], sqs.IQueue] | None = None,
) -> ChatbotSlack | SlackForwarder | None:
    """Chatbot when workspace and channel are configured, the forwarder for a webhook secret, else nothing."""
    if slack is None:
        return None
    if slack.workspace_id is not None:
        return ChatbotSlack(scope, "Slack", slack=slack, topic=topic)
    if slack.webhook_secret_arn is not None:
        return SlackForwarder(
            scope,
            "SlackForwarder",
            secret_arn=slack.webhook_secret_arn,
            topic=topic,
            topic_key=topic_key,
            undelivered=undelivered() if undelivered else None,
            layer=layer,
            code=code,
            tracing=tracing,
        )
    return None
