"""The findings topic: SNS encrypted with a customer-managed key, TLS only, e-mail subscriptions."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.constants import KEY_DESCRIPTION, TOPIC_DISPLAY_NAME


class AlertTopic(Construct):
    """``key`` also encrypts the schedules' dead-letter queues; ``topic`` is where findings go."""

    def __init__(self, scope: Construct, construct_id: str, *, emails: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        self.key = self._build_key()
        self.topic = self._build_topic(self.key)
        self._build_email_subscriptions(self.topic, emails)
        # `cdk deploy` prints it: what `eksmon notify-test --topic-arn` and extra subscriptions need
        CfnOutput(self, "TopicArn", value=self.topic.topic_arn, description="eksmon findings topic")

    def _build_key(self) -> kms.Key:
        return kms.Key(self, "Key", description=KEY_DESCRIPTION, enable_key_rotation=True)

    def _build_topic(self, key: kms.IKey) -> sns.Topic:
        # enforce_ssl adds a topic policy denying publish/subscribe without TLS (aws:SecureTransport)
        return sns.Topic(self, "Topic", display_name=TOPIC_DISPLAY_NAME, master_key=key, enforce_ssl=True)

    @staticmethod
    def _build_email_subscriptions(topic: sns.Topic, emails: Sequence[str]) -> None:
        for email in emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
