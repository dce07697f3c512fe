"""Slack through an incoming webhook, for accounts without AWS Chatbot: what the forwarder Lambda does.

The topic's ``lambda`` body is the AWS Chatbot custom notification; it becomes a Slack Block Kit
message. CloudWatch alarms published to the same topic, and plain text, are forwarded too. The webhook
URL is a credential: it is read once from Secrets Manager and never logged, put in an exception or
returned.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import urllib3

from eksmon.publish.text import fit_items, fit_words

HEADER_MAX = 150  # Slack: header block text
SECTION_MAX = 3000  # Slack: section block text
TIMEOUT = urllib3.Timeout(connect=3.0, read=10.0)


class SlackError(RuntimeError):
    """Slack did not take the message (the message says why, never where to)."""


class WebhookSecret:
    """The webhook URL from Secrets Manager, read on first use and kept for the life of the container."""

    def __init__(self, secret_arn: str, client_factory: Callable[[], Any]) -> None:
        self._arn = secret_arn
        self._client_factory = client_factory
        self._url: str | None = None
        self._lock = threading.Lock()

    def url(self) -> str:
        with self._lock:
            if self._url is None:
                value = self._client_factory().get_secret_value(SecretId=self._arn)["SecretString"]
                self._url = parse_webhook(value)
            return self._url


def parse_webhook(secret: str) -> str:
    """The secret is the URL itself, or JSON with ``url`` or ``webhook_url``."""
    text = secret.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise SlackError("the webhook secret is neither a URL nor valid JSON") from None
        text = str(data.get("url") or data.get("webhook_url") or "")
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        raise SlackError("the webhook secret must hold an https:// incoming webhook URL (or JSON with 'url')")
    return text


# -- formatting ------------------------------------------------------------------------------------------
def slack_payload(message: str, subject: str | None = None) -> dict[str, Any]:
    """A Slack message for one SNS message body."""
    try:
        data = json.loads(message)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict) and data.get("source") == "custom" and isinstance(data.get("content"), dict):
        return _from_chatbot(data)
    if isinstance(data, dict) and "AlarmName" in data and "NewStateValue" in data:
        return _from_alarm(data)
    title = subject or "eksmon"
    return _blocks(title, message, [], "")


def _from_chatbot(data: Mapping[str, Any]) -> dict[str, Any]:
    content = data["content"]
    context = (data.get("metadata") or {}).get("additionalContext") or {}
    footer = " · ".join(
        f"{k} `{context[k]}`" for k in ("account", "region", "cluster", "severity") if context.get(k)
    )
    steps = [str(s) for s in content.get("nextSteps") or []]
    return _blocks(
        str(content.get("title") or "eksmon"), str(content.get("description") or ""), steps, footer
    )


def _from_alarm(data: Mapping[str, Any]) -> dict[str, Any]:
    state = str(data["NewStateValue"])
    icon = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:"}.get(state, ":grey_question:")
    title = f"{icon} {state}: {data['AlarmName']}"
    text = str(data.get("NewStateReason") or "")
    if data.get("AlarmDescription"):
        text = f"{data['AlarmDescription']}\n{text}"
    footer = f"CloudWatch alarm · account `{data.get('AWSAccountId', '?')}` · `{data.get('Region', '?')}`"
    return _blocks(title, text, [], footer)


def _blocks(title: str, text: str, steps: list[str], footer: str) -> dict[str, Any]:
    """Block Kit, each block within Slack's limit by whole lines (a finding, a step) or whole words."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": fit_words(title, HEADER_MAX), "emoji": True},
        }
    ]
    if text:
        body = fit_items(text.split("\n"), SECTION_MAX, noun="line")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
    if steps:
        listed = fit_items(
            [f"• {fit_words(s, SECTION_MAX // 2)}" for s in steps], SECTION_MAX - 20, noun="step"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Next steps*\n{listed}"}})
    if footer:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": fit_words(footer, SECTION_MAX)}]}
        )
    return {"text": fit_words(title, SECTION_MAX), "blocks": blocks}


# -- posting ---------------------------------------------------------------------------------------------
_HTTP = urllib3.PoolManager(
    timeout=TIMEOUT,
    retries=urllib3.Retry(
        total=3,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"POST"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    ),
)


def post(url: str, payload: Mapping[str, Any], http: urllib3.PoolManager | None = None) -> None:
    """POST to the webhook; a refusal raises SlackError naming Slack's answer, never the URL."""
    try:
        answer = (http or _HTTP).request(
            "POST",
            url,
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
    except urllib3.exceptions.HTTPError as exc:
        raise SlackError(f"Slack webhook unreachable ({type(exc).__name__})") from None
    if not 200 <= answer.status < 300:
        reason = answer.data[:100].decode("utf-8", "replace")
        raise SlackError(f"Slack webhook answered {answer.status}: {reason}")
