"""The AWS Chatbot custom notification of a message (version 1.0, source custom), Slack mrkdwn inside.

What Chatbot posts to Slack, and what the webhook forwarder (publish/slack.py) turns into Block Kit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eksmon.models import Severity
from eksmon.publish.changes import NO_CLUSTER, Change, ChangeKind, Scope, scan_args, summary_lines
from eksmon.publish.text import fit_sentences, fit_words

CHATBOT_TITLE_MAX = 250
# Slack shows about this much before "show more"; kept under a Slack section's 3,000 characters (what the
# forwarder posts it in, publish/slack.py), so no finding is ever cut by the section's limit
CHATBOT_DESCRIPTION_MAX = 2_900
STEP_MAX = 300  # one next step: whole sentences, a command never cut
TAIL_MAX = 600  # the "...and N more" line closing a clipped Chatbot description

_EMOJI = {
    Severity.CRITICAL: ":red_circle:",
    Severity.WARNING: ":large_orange_circle:",
    Severity.INFO: ":large_blue_circle:",
}


def chatbot_notification(
    scope: Scope, group: Sequence[Change], worst: Severity, headline: str, others: int
) -> dict[str, Any]:
    """The AWS Chatbot custom-notification JSON (version 1.0, source custom), Slack mrkdwn inside."""
    account, region, cluster = scope
    where = cluster or f"account {account}"
    title = fit_words(f"{_EMOJI[worst]} {where} ({region}): {headline}", CHATBOT_TITLE_MAX)
    description = _chatbot_description(scope, group, others)
    next_steps = list(
        dict.fromkeys(
            fit_sentences(c.finding.remediation, STEP_MAX) for c in group if c.kind is not ChangeKind.RESOLVED
        )
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
            "summary": fit_words(f"eksmon {worst.value}: {where} ({region}): {headline}", CHATBOT_TITLE_MAX),
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
        f"{_mrkdwn(fit_sentences(f.message, 400))} <{f.docs}|docs>"
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
    counts = ", ".join(summary_lines(rest)[:5])
    noun = "finding" if len(rest) == 1 else "findings"
    return fit_words(
        f"… and {len(rest)} more {noun} ({counts}). Full list: `eksmon scan{scan_args(scope)}`", TAIL_MAX
    )


def _mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
