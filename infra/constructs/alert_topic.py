"""The findings topic: SNS encrypted with a customer-managed key, TLS only, e-mail subscriptions.

Every subscription the stack creates (each e-mail, the Slack forwarder's Lambda) has a redrive policy to
one dead-letter queue, ``delivery_dead_letters``, created with the first subscription: a message SNS could
not deliver after its retries waits there 14 days instead of being dropped, and an alarm says so
(infra/constructs/alarms.py). The queue uses SQS-managed encryption (SSE-SQS) rather than the topic's key:
SNS writes into it as itself, and SSE-SQS needs no grant of the key to ``sns.amazonaws.com``. The AWS
Chatbot subscription is made by Chatbot, not by the stack, and has no redrive policy to set.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from eksmon.stack_outputs import ALERT_TOPIC
from infra.constants import KEY_DESCRIPTION, TOPIC_DISPLAY_NAME
from infra.constructs.dead_letter_queue import encrypted_dead_letter_queue


class AlertTopic(Construct):
    """``key`` also encrypts the schedules' dead-letter queues; ``topic`` is where findings go."""

    def __init__(self, scope: Construct, construct_id: str, *, emails: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        self.key = self._build_key()
        self.topic = self._build_topic(self.key)
        self._delivery_dead_letters: sqs.Queue | None = None
        self._build_email_subscriptions(emails)
        # `cdk deploy` prints it: what `eksmon notify-test --topic-arn` and extra subscriptions need; a
        # fixed key at the stack's top level, like the other outputs (eksmon.stack_outputs)
        output = CfnOutput(self, "TopicArn", value=self.topic.topic_arn, description="eksmon findings topic")
        output.override_logical_id(ALERT_TOPIC)

    def _build_key(self) -> kms.Key:
        return kms.Key(self, "Key", description=KEY_DESCRIPTION, enable_key_rotation=True)

    def _build_topic(self, key: kms.IKey) -> sns.Topic:
        # enforce_ssl adds a topic policy denying publish/subscribe without TLS (aws:SecureTransport)
        return sns.Topic(self, "Topic", display_name=TOPIC_DISPLAY_NAME, master_key=key, enforce_ssl=True)

    @property
    def has_delivery_dead_letters(self) -> bool:
        return self._delivery_dead_letters is not None

    def delivery_dead_letters(self) -> sqs.Queue:
        """The subscriptions' dead-letter queue (created on first use: no subscription, no queue)."""
        if self._delivery_dead_letters is None:
            # Each subscription given this queue adds a queue policy statement letting sns.amazonaws.com
            # send to it from this topic only (aws:SourceArn).
            queue = encrypted_dead_letter_queue(
                self, None, "the alert topic's subscriptions (SNS redrive)", "DeliveryDeadLetters"
            )
            self._delivery_dead_letters = queue
        return self._delivery_dead_letters

    def _build_email_subscriptions(self, emails: Sequence[str]) -> None:
        for email in emails:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(email, dead_letter_queue=self.delivery_dead_letters())
            )
