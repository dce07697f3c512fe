"""SNS notifications: at most one message per cluster (and per account+region for cluster-less findings)
per run, carrying only what changed.

A message is one SNS publish with ``MessageStructure=json``: e-mail (and every protocol without its own
key) gets plain text a person can act on; ``http``/``https`` (AWS Chatbot) and ``lambda`` (the Slack
webhook forwarder) get the AWS Chatbot custom-notification JSON. The attributes ``severity`` (highest in
the message), ``account``, ``region``, ``cluster`` and ``changes`` let subscriptions filter. Messages
stay under the SNS size limit: past it, the changes not shown in full are summarised with counts.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eksmon.models import Finding, Severity
from eksmon.publish.changes import (
    KIND_ORDER,
    NO_CLUSTER,
    Change,
    ChangeKind,
    Scope,
    headline,
)
from eksmon.publish.chatbot import chatbot_notification
from eksmon.publish.mail import email_text
from eksmon.publish.text import fit_words

SUBJECT_MAX = 100  # SNS limit for e-mail subjects
SNS_MAX_BYTES = 262_144  # SNS: message, subject and attributes together
MESSAGE_BUDGET_BYTES = 250_000  # what eksmon allows itself, leaving room for SNS's own overhead
CHATBOT_PROTOCOLS = ("http", "https", "lambda")


@dataclass(frozen=True)
class Message:
    account: str
    region: str
    cluster: str | None
    severity: Severity
    subject: str
    text: str  # e-mail and default
    chatbot: dict[str, Any]  # AWS Chatbot custom notification
    changes: tuple[Change, ...]
    shown_in_full: int  # changes shown in full in the e-mail; the rest are summarised by counts

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(c.fingerprint for c in self.changes)

    @property
    def kinds(self) -> list[str]:
        return sorted({c.kind.value for c in self.changes}, key=lambda k: KIND_ORDER[ChangeKind(k)])

    def attributes(self) -> dict[str, dict[str, str]]:
        return {
            "severity": {"DataType": "String", "StringValue": self.severity.value},
            "account": {"DataType": "String", "StringValue": self.account},
            "region": {"DataType": "String", "StringValue": self.region},
            "cluster": {"DataType": "String", "StringValue": self.cluster or NO_CLUSTER},
            "changes": {"DataType": "String.Array", "StringValue": json.dumps(self.kinds)},
        }

    def structure(self) -> str:
        """The ``Message`` for ``MessageStructure=json``: one body per protocol."""
        chatbot = json.dumps(self.chatbot, separators=(",", ":"))
        bodies = {"default": self.text, "email": self.text}
        bodies.update(dict.fromkeys(CHATBOT_PROTOCOLS, chatbot))
        return json.dumps(bodies, separators=(",", ":"))

    def size_bytes(self) -> int:
        return envelope_bytes(self.subject, self.structure(), self.attributes())


def envelope_bytes(subject: str, body: str, attributes: dict[str, dict[str, str]]) -> int:
    attrs = sum(len(k.encode()) + sum(len(v.encode()) for v in a.values()) for k, a in attributes.items())
    return len(subject.encode()) + len(body.encode()) + attrs


# -- building --------------------------------------------------------------------------------------------
def group_by_scope(changes: Iterable[Change]) -> dict[Scope, list[Change]]:
    groups: dict[Scope, list[Change]] = defaultdict(list)
    for c in changes:
        groups[c.finding.scope].append(c)
    return dict(groups)


def build_messages(
    changes: Iterable[Change],
    open_findings: Iterable[Finding] = (),
    renotify_days: float | None = None,
) -> list[Message]:
    """One message per scope that has changes; ``open_findings`` (this run's) give the "also open" count."""
    open_by_scope: dict[Scope, set[str]] = defaultdict(set)
    for f in open_findings:
        open_by_scope[f.scope].add(f.fingerprint)
    messages = []
    for scope, group in sorted(group_by_scope(changes).items(), key=lambda kv: _scope_key(kv[0])):
        group.sort(key=Change.sort_key)
        told = {c.fingerprint for c in group}
        others = len(open_by_scope.get(scope, set()) - told)
        messages.append(_message(scope, group, others, renotify_days))
    return messages


def _scope_key(scope: Scope) -> tuple[str, str, str]:
    return (scope[0], scope[1], scope[2] or "")


def _message(scope: Scope, group: Sequence[Change], others: int, renotify_days: float | None) -> Message:
    account, region, cluster = scope
    worst = Severity.worst(c.severity for c in group) or Severity.INFO
    title = headline(group)
    subject = subject_line(scope, group, worst)
    chatbot = chatbot_notification(scope, group, worst, title, others)

    def render(shown: int) -> Message:
        text = email_text(scope, group, others, shown, renotify_days)
        return Message(account, region, cluster, worst, subject, text, chatbot, tuple(group), shown)

    return _largest_fitting(render, len(group))


def subject_line(scope: Scope, group: Sequence[Change], worst: Severity) -> str:
    """``[eksmon] CRITICAL payments-prod (us-east-1): etcd at 96.0 % of its 8.00 GiB limit``: the
    severity, where, and the point of the worst change, the cluster not named twice, cut between words."""
    account, region, cluster = scope
    where = cluster or f"account {account}"
    top = max(group, key=lambda c: c.severity.rank)  # the first of the worst, in the message's order
    point = headline([top])
    if cluster:
        point = without_cluster(point, cluster)
    if len(group) > 1:
        point = f"{headline(group)} — {point}"
    return fit_words(f"[eksmon] {worst.value.upper()} {where} ({region}): {point}", SUBJECT_MAX)


def without_cluster(title: str, cluster: str) -> str:
    """A finding's title without its cluster's name, which the subject already gives."""
    name = re.escape(cluster)
    text = re.sub(rf"^{name}:\s*", "", title)
    text = re.sub(rf"\s+(?:of|on|in|for)\s+{name}\b", "", text)
    text = re.sub(rf"^{name}\s+", "cluster ", text)
    return text or title


def _largest_fitting(render: Callable[[int], Message], total: int) -> Message:
    """The message showing the most changes in full that still fits the SNS budget (binary search)."""
    full = render(total)
    if full.size_bytes() <= MESSAGE_BUDGET_BYTES:
        return full
    low, high = 0, total - 1  # render(low) always fits: counts only
    best = render(0)
    while low < high:
        mid = (low + high + 1) // 2
        candidate = render(mid)
        if candidate.size_bytes() <= MESSAGE_BUDGET_BYTES:
            low, best = mid, candidate
        else:
            high = mid - 1
    return best


# -- publishing ------------------------------------------------------------------------------------------
@dataclass
class PublishOutcome:
    sent: list[tuple[Message, str]] = field(default_factory=list)  # (message, SNS message id)
    failed: list[tuple[Message, BaseException]] = field(default_factory=list)


def publish_one(sns: Any, topic_arn: str, m: Message) -> str:
    answer = sns.publish(
        TopicArn=topic_arn,
        Subject=m.subject,
        Message=m.structure(),
        MessageStructure="json",
        MessageAttributes=m.attributes(),
    )
    return str(answer["MessageId"])


def publish(sns: Any, topic_arn: str, messages: Iterable[Message]) -> PublishOutcome:
    """Publish each message; one failing message does not stop the others."""
    outcome = PublishOutcome()
    for m in messages:
        try:
            outcome.sent.append((m, publish_one(sns, topic_arn, m)))
        except Exception as exc:  # noqa: BLE001 - reported by the caller, which releases the claims
            outcome.failed.append((m, exc))
    return outcome
