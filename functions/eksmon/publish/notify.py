"""SNS notifications: at most one message per cluster (and per account+region for cluster-less findings)
per run, carrying only what changed.

A message is one SNS publish with ``MessageStructure=json``: e-mail (and every protocol without its own
key) gets plain text a person can act on; ``http``/``https`` (AWS Chatbot) and ``lambda`` (the Slack
webhook forwarder) get the AWS Chatbot custom-notification JSON. The attributes ``severity`` (highest in
the message), ``account``, ``region``, ``cluster`` and ``changes`` let subscriptions filter. Messages
stay under the SNS size limit: past it, the changes not shown in full are summarised with counts.
"""

from __future__ import annotations

import enum
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eksmon.models import Finding, Severity
from eksmon.publish.text import clip

SUBJECT_MAX = 100  # SNS limit for e-mail subjects
SNS_MAX_BYTES = 262_144  # SNS: message, subject and attributes together
MESSAGE_BUDGET_BYTES = 250_000  # what eksmon allows itself, leaving room for SNS's own overhead
CHATBOT_TITLE_MAX = 250
CHATBOT_DESCRIPTION_MAX = 3_500  # Slack shows about this much before "show more"; Chatbot caps longer text
TAIL_MAX = 600  # the "...and N more" line closing a clipped Chatbot description
FINDING_TEXT_MAX = 2_000  # one finding's message in an e-mail, before clipping
NO_CLUSTER = "-"
CHATBOT_PROTOCOLS = ("http", "https", "lambda")

Scope = tuple[str, str, str | None]


class ChangeKind(enum.StrEnum):
    NEW = "new"
    SEVERITY_CHANGED = "severity_changed"
    STILL_OPEN = "still_open"  # open longer than the re-notify interval since it was last sent
    RESOLVED = "resolved"
    OPEN = "open"  # no findings state: every run reports every open finding
    TEST = "test"  # `eksmon notify-test`


_KIND_ORDER = {
    ChangeKind.TEST: 0,
    ChangeKind.NEW: 1,
    ChangeKind.SEVERITY_CHANGED: 2,
    ChangeKind.OPEN: 3,
    ChangeKind.STILL_OPEN: 4,
    ChangeKind.RESOLVED: 5,
}
_HEADING = {
    ChangeKind.TEST: "TEST",
    ChangeKind.NEW: "NEW",
    ChangeKind.SEVERITY_CHANGED: "SEVERITY CHANGED",
    ChangeKind.OPEN: "OPEN",
    ChangeKind.STILL_OPEN: "STILL OPEN",
    ChangeKind.RESOLVED: "RESOLVED",
}
_SHORT = {
    ChangeKind.TEST: "test",
    ChangeKind.NEW: "new",
    ChangeKind.SEVERITY_CHANGED: "changed",
    ChangeKind.OPEN: "open",
    ChangeKind.STILL_OPEN: "still open",
    ChangeKind.RESOLVED: "resolved",
}
_EMOJI = {
    Severity.CRITICAL: ":red_circle:",
    Severity.WARNING: ":large_orange_circle:",
    Severity.INFO: ":large_blue_circle:",
}


@dataclass(frozen=True)
class Change:
    """One thing to tell people about a finding. For RESOLVED, ``finding`` is the last one sent."""

    kind: ChangeKind
    finding: Finding
    previous_severity: Severity | None = None  # SEVERITY_CHANGED
    open_since: str | None = None  # ISO 8601, for STILL_OPEN and RESOLVED

    @property
    def severity(self) -> Severity:
        return self.finding.severity

    @property
    def fingerprint(self) -> str:
        return self.finding.fingerprint

    def sort_key(self) -> tuple[int, int, str, str]:
        return (_KIND_ORDER[self.kind], -self.severity.rank, self.finding.check, self.finding.resource)


def changes_without_state(findings: Iterable[Finding]) -> list[Change]:
    """Without a findings table every open finding is reported on every run (the noisy fallback)."""
    return [Change(ChangeKind.OPEN, f) for f in findings]


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
        return sorted({c.kind.value for c in self.changes}, key=lambda k: _KIND_ORDER[ChangeKind(k)])

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
    headline = _headline(group)
    where = f"cluster {cluster}" if cluster else f"account {account}"
    subject = clip(f"[eksmon] {worst.value.upper()}: {where} ({region}): {headline}", SUBJECT_MAX)
    chatbot = chatbot_notification(scope, group, worst, headline, others)

    def render(shown: int) -> Message:
        text = email_text(scope, group, others, shown, renotify_days)
        return Message(account, region, cluster, worst, subject, text, chatbot, tuple(group), shown)

    return _largest_fitting(render, len(group))


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


def _headline(group: Sequence[Change]) -> str:
    """'2 new, 1 resolved' or, for one change, the finding's title."""
    if len(group) == 1:
        c = group[0]
        prefix = {ChangeKind.RESOLVED: "resolved: ", ChangeKind.STILL_OPEN: "still open: "}.get(c.kind, "")
        return prefix + c.finding.title
    counts = Counter(c.kind for c in group)
    return ", ".join(f"{counts[k]} {_SHORT[k]}" for k in sorted(counts, key=_KIND_ORDER.__getitem__))


def _where(scope: Scope) -> str:
    account, region, cluster = scope
    if cluster:
        return f"Cluster {cluster} — account {account}, region {region}"
    return f"Account {account}, region {region} (findings not tied to a cluster)"


def _change_line(c: Change) -> str:
    f = c.finding
    if c.kind is ChangeKind.SEVERITY_CHANGED and c.previous_severity is not None:
        return f"[{f.severity.value.upper()}, was {c.previous_severity.value}] {f.title}"
    if c.kind is ChangeKind.RESOLVED:
        return f"[RESOLVED, was {f.severity.value}] {f.title}"
    return f"[{f.severity.value.upper()}] {f.title}"


def email_text(
    scope: Scope,
    group: Sequence[Change],
    others: int,
    shown: int | None = None,
    renotify_days: float | None = None,
) -> str:
    shown = len(group) if shown is None else shown
    lines = [_where(scope), _headline(group) if len(group) > 1 else _counts(group)]
    if others:
        lines.append(
            f"{others} other open finding{'s' if others != 1 else ''} here, unchanged (not repeated)."
        )
    lines.append("")
    heading: ChangeKind | None = None
    for i, c in enumerate(group[:shown], 1):
        if c.kind is not heading:
            heading = c.kind
            lines += [_HEADING[c.kind], ""]
        f = c.finding
        lines.append(f"{i}. {_change_line(c)}")
        if c.kind is ChangeKind.RESOLVED:
            since = f" (open since {c.open_since[:10]})" if c.open_since else ""
            lines.append(f"   No longer found{since}. Last seen: {clip(f.message, FINDING_TEXT_MAX)}")
        else:
            if c.kind is ChangeKind.STILL_OPEN and c.open_since:
                lines.append(f"   Open since {c.open_since[:10]}.")
            lines += [f"   {clip(f.message, FINDING_TEXT_MAX)}", f"   What to do: {f.remediation}"]
        lines += [f"   Resource: {f.resource}   Check: {f.check}", f"   Docs: {f.docs}", ""]
    rest = group[shown:]
    if rest:
        lines += [
            f"... and {len(rest)} more change{'s' if len(rest) != 1 else ''} not shown in full "
            "(SNS message size limit):",
            *(f"   {line}" for line in _summary_lines(rest)),
            f"   For the full list run: eksmon scan{_scan_args(scope)}",
            "",
        ]
    every = f"{renotify_days:g} days" if renotify_days else "the re-notify interval"
    if any(c.kind is ChangeKind.OPEN for c in group):
        lines.append("— eksmon, without findings state: every run reports every open finding.")
    elif any(c.kind is ChangeKind.TEST for c in group):
        lines.append("— eksmon test notification (eksmon notify-test): nothing is wrong.")
    else:
        lines.append(
            "— eksmon. Each finding is sent when it appears, when its severity changes, when it is resolved, "
            f"and again every {every} while it stays open."
        )
    return "\n".join(lines)


def _summary_lines(changes: Sequence[Change]) -> list[str]:
    counts = Counter((c.kind, c.severity, c.finding.check) for c in changes)
    ordered = sorted(counts.items(), key=lambda kv: (_KIND_ORDER[kv[0][0]], -kv[0][1].rank, kv[0][2]))
    return [f"{n} {_SHORT[kind]} {sev.value}: {check}" for (kind, sev, check), n in ordered]


def _scan_args(scope: Scope) -> str:
    _account, region, cluster = scope
    return f" --region {region}" + (f" --cluster {cluster}" if cluster else "")


def _counts(group: Sequence[Change]) -> str:
    parts = []
    for sev in Severity:
        n = sum(1 for c in group if c.severity is sev)
        if n:
            parts.append(f"{n} {sev.value}")
    return ", ".join(parts)


# -- AWS Chatbot custom notification ---------------------------------------------------------------------
def chatbot_notification(
    scope: Scope, group: Sequence[Change], worst: Severity, headline: str, others: int
) -> dict[str, Any]:
    """The AWS Chatbot custom-notification JSON (version 1.0, source custom), Slack mrkdwn inside."""
    account, region, cluster = scope
    where = cluster or f"account {account}"
    title = clip(f"{_EMOJI[worst]} {where} ({region}): {headline}", CHATBOT_TITLE_MAX)
    description = _chatbot_description(scope, group, others)
    next_steps = list(
        dict.fromkeys(clip(c.finding.remediation, 300) for c in group if c.kind is not ChangeKind.RESOLVED)
    )[:3]
    thread = f"eksmon-{account}-{region}-{cluster or NO_CLUSTER}"
    return {
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": description,
            "nextSteps": next_steps,
            "keywords": [worst.value, region, cluster or account],
        },
        "metadata": {
            "threadId": thread,
            "summary": clip(f"eksmon {worst.value}: {where} ({region}): {headline}", CHATBOT_TITLE_MAX),
            "eventType": "eksmon.findings",
            "relatedResources": sorted({c.finding.resource for c in group})[:10],
            "additionalContext": {
                "account": account,
                "region": region,
                "cluster": cluster or NO_CLUSTER,
                "severity": worst.value,
                "changes": ",".join(sorted({c.kind.value for c in group})),
            },
        },
    }


def _chatbot_line(c: Change) -> str:
    f = c.finding
    if c.kind is ChangeKind.RESOLVED:
        return f":white_check_mark: ~{_mrkdwn(f.title)}~ resolved (`{f.check}`)"
    was = f" (was {c.previous_severity.value})" if c.previous_severity else ""
    tag = {ChangeKind.STILL_OPEN: " _still open_", ChangeKind.NEW: " _new_"}.get(c.kind, "")
    return (
        f"{_EMOJI[f.severity]} *{_mrkdwn(f.title)}*{was}{tag}\n"
        f"{_mrkdwn(clip(f.message, 400))} <{f.docs}|docs>"
    )


def _chatbot_description(scope: Scope, group: Sequence[Change], others: int) -> str:
    account, region, _cluster = scope
    head = f"Account `{account}`, region `{region}`."
    if others:
        head += f" {others} other open finding{'s' if others != 1 else ''} unchanged."
    lines = [head]
    used = len(head)
    for i, c in enumerate(group):
        line = _chatbot_line(c)
        room = CHATBOT_DESCRIPTION_MAX - TAIL_MAX if i < len(group) - 1 else CHATBOT_DESCRIPTION_MAX
        if used + len(line) + 1 > room:
            lines.append(_chatbot_tail(group[i:], scope))
            return "\n".join(lines)
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def _chatbot_tail(rest: Sequence[Change], scope: Scope) -> str:
    counts = ", ".join(_summary_lines(rest)[:5])
    return clip(f"…and {len(rest)} more ({counts}). Full list: `eksmon scan{_scan_args(scope)}`", TAIL_MAX)


def _mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
