"""Slack without AWS Chatbot: SNS (the alert topic) -> this Lambda -> a Slack incoming webhook.

The webhook URL lives in Secrets Manager (``SLACK_WEBHOOK_SECRET_ARN``), is read once per container
and is never logged. A message Slack refuses fails the invocation, so SNS retries it.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from eksmon.environment import ENV_SLACK_WEBHOOK_SECRET_ARN, LambdaEnvironment
from eksmon.observability import capture_lambda_handler, logger
from eksmon.publish.slack import WebhookSecret, post, slack_payload


class ForwarderEnvironment(LambdaEnvironment):
    secret_arn: str = Field(
        alias=ENV_SLACK_WEBHOOK_SECRET_ARN,
        pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$",
    )


class SnsRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str = Field(alias="Message")
    subject: str | None = Field(None, alias="Subject")
    message_id: str = Field("", alias="MessageId")


_webhook: WebhookSecret | None = None


def _secret() -> WebhookSecret:
    global _webhook  # noqa: PLW0603 - one read of the secret per Lambda container
    if _webhook is None:
        env = ForwarderEnvironment.from_environ()
        _webhook = WebhookSecret(env.secret_arn, lambda: boto3.client("secretsmanager"))
    return _webhook


@logger.inject_lambda_context(clear_state=True)
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    records = [SnsRecord.model_validate(r["Sns"]) for r in event.get("Records", [])]
    url = _secret().url()
    for record in records:
        post(url, slack_payload(record.message, record.subject))
        logger.info("forwarded to Slack", extra={"sns_message_id": record.message_id})
    return {"forwarded": len(records)}
