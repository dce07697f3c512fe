"""SNS notifications: one message per cluster (and per account+region for cluster-less findings).

Email subscribers get readable plain text; the message attributes ``severity``, ``account``,
``region`` and ``cluster`` let subscriptions filter (e.g. only critical to the pager).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eksmon.models import Finding, Severity

SUBJECT_MAX = 100  # SNS limit for email subjects
NO_CLUSTER = "-"


@dataclass(frozen=True)
class Message:
    account: str
    region: str
    cluster: str | None
    severity: Severity
    subject: str
    text: str
    findings: tuple[Finding, ...]

    def attributes(self) -> dict[str, dict[str, str]]:
        return {
            "severity": {"DataType": "String", "StringValue": self.severity.value},
            "account": {"DataType": "String", "StringValue": self.account},
            "region": {"DataType": "String", "StringValue": self.region},
            "cluster": {"DataType": "String", "StringValue": self.cluster or NO_CLUSTER},
        }


def group_by_scope(findings: Iterable[Finding]) -> dict[tuple[str, str, str | None], list[Finding]]:
    groups: dict[tuple[str, str, str | None], list[Finding]] = defaultdict(list)
    for f in findings:
        groups[f.scope].append(f)
    return dict(groups)


def build_messages(findings: Iterable[Finding]) -> list[Message]:
    messages = []
    for (account, region, cluster), group in sorted(
        group_by_scope(findings).items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        group.sort(key=lambda f: (-f.severity.rank, f.check, f.resource))
        worst = Severity.worst(f.severity for f in group) or Severity.INFO
        where = f"cluster {cluster}" if cluster else f"account {account}"
        counts = _counts(group)
        subject = f"[eksmon] {worst.value.upper()}: {where} ({region}): {counts}"
        messages.append(
            Message(
                account, region, cluster, worst, _clip(subject, SUBJECT_MAX), email_text(group), tuple(group)
            )
        )
    return messages


def _counts(group: Sequence[Finding]) -> str:
    parts = []
    for sev in Severity:
        n = sum(1 for f in group if f.severity is sev)
        if n:
            parts.append(f"{n} {sev.value}")
    return ", ".join(parts)


def email_text(group: Sequence[Finding]) -> str:
    first = group[0]
    where = f"Cluster {first.cluster}" if first.cluster else "Account-level findings"
    lines = [f"{where} — account {first.account}, region {first.region}", f"{_counts(group)}", ""]
    for i, f in enumerate(group, 1):
        lines += [
            f"{i}. [{f.severity.value.upper()}] {f.title}",
            f"   {f.message}",
            f"   What to do: {f.remediation}",
            f"   Resource: {f.resource}   Check: {f.check}",
            f"   Docs: {f.docs}",
            "",
        ]
    lines.append("— eksmon. Each finding is sent once, then again only if it changes or stays open.")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def publish(sns: Any, topic_arn: str, messages: Iterable[Message]) -> list[str]:
    """Publish each message; returns the SNS message ids."""
    ids = []
    for m in messages:
        answer = sns.publish(
            TopicArn=topic_arn, Subject=m.subject, Message=m.text, MessageAttributes=m.attributes()
        )
        ids.append(answer["MessageId"])
    return ids
