"""The dead-letter queue every asynchronous target of the stack uses: KMS-encrypted, TLS only."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import DLQ_RETENTION
from infra.nag import acknowledge


def encrypted_dead_letter_queue(
    scope: Construct,
    key: kms.IKey | None,
    dead_letters_of: str,
    construct_id: str = "DeadLetterQueue",
) -> sqs.Queue:
    """A queue encrypted with ``key`` (None: SQS-managed encryption), enforcing TLS, keeping messages
    ``DLQ_RETENTION``.

    ``dead_letters_of`` names what sends its failures here; it is the reason given to cdk-nag for the
    queue having no dead-letter queue of its own (AwsSolutions-SQS3).
    """
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS if key is not None else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,
    )
    acknowledge(
        queue, "AwsSolutions-SQS3", f"This queue is itself the dead-letter queue of {dead_letters_of}."
    )
    return queue
