"""Alerts shrink by whole items: a finding, a next step, a sentence, a word or a `command` is kept whole
or left out and counted, never cut inside. Subjects say the severity, the cluster once and the point."""

from __future__ import annotations

import re

import pytest

from eksmon.models import Finding, Severity, fingerprint
from eksmon.publish.changes import Change, ChangeKind
from eksmon.publish.chatbot import CHATBOT_DESCRIPTION_MAX
from eksmon.publish.notify import SUBJECT_MAX, build_messages, without_cluster
from eksmon.publish.slack import HEADER_MAX, SECTION_MAX, slack_payload
from eksmon.publish.text import fit_items, fit_sentences, fit_words

COMMAND = (
    "`aws eks associate-access-policy --cluster-name payments-prod --principal-arn <role> "
    "--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy "
    "--access-scope type=cluster`"
)


def change(title: str, remediation: str, cluster: str | None = "payments-prod", i: int = 0, **kw) -> Change:
    severity = kw.get("severity", Severity.WARNING)
    resource = f"r/{i}"
    f = Finding(
        check=kw.get("check", "auth.no_break_glass"),
        severity=severity,
        title=title,
        message=kw.get("message", "Nobody can administer the cluster if IAM Identity Center fails. " * 3),
        remediation=remediation,
        docs="https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html",
        account="123456789012",
        region="us-east-1",
        cluster=cluster,
        resource=resource,
        fingerprint=fingerprint("auth.no_break_glass", "123456789012", "us-east-1", cluster, resource),
        details={},
        observed_at="2026-11-26T12:00:00Z",
    )
    return Change(ChangeKind.NEW, f)


def inside_a_command(text: str) -> bool:
    return text.count("`") % 2 == 1


@pytest.mark.parametrize("limit", range(20, len(COMMAND) + 60, 7))
def test_fit_words_never_cuts_inside_a_command_or_a_word(limit: int) -> None:
    text = f"Add a break-glass entry: {COMMAND} then test it."
    got = fit_words(text, limit)
    assert len(got) <= limit
    assert not inside_a_command(got)
    if got != text:
        kept = got.removesuffix("…").rstrip()
        assert text.startswith(kept)
        assert text[len(kept)] in " `:", (limit, got)  # the cut is at a boundary


def test_fit_sentences_keeps_whole_sentences() -> None:
    text = "Upgrade the control plane. Then the node groups. Then the add-ons."
    assert fit_sentences(text, 50) == "Upgrade the control plane. Then the node groups. …"


def test_fit_items_drops_whole_items_and_counts_them() -> None:
    items = [f"finding number {i} with some words" for i in range(10)]
    got = fit_items(items, 120, noun="finding")
    assert len(got) <= 120
    lines = got.split("\n")
    assert lines[-1].startswith("… and ") and lines[-1].endswith("more findings")
    shown = lines[:-1]
    assert shown == items[: len(shown)]
    assert int(lines[-1].split()[2]) == len(items) - len(shown)


def test_slack_next_steps_are_whole_commands_and_dropped_steps_are_counted() -> None:
    steps = [f"Step {i}: run {COMMAND} on the cluster." for i in range(30)]
    payload = slack_payload(
        '{"version": "1.0", "source": "custom", "content": {"title": "t", "description": "d", '
        f'"nextSteps": {__import__("json").dumps(steps)}}}}}'
    )
    section = payload["blocks"][2]["text"]["text"]
    assert len(section) <= SECTION_MAX
    for line in section.split("\n")[1:-1]:
        assert line in {f"• {s}" for s in steps}  # each step whole
    assert re.search(r"… and \d+ more steps$", section)


def test_chatbot_steps_and_messages_of_a_cluster_with_long_commands_are_never_cut_inside() -> None:
    remediation = f"Add a break-glass administrator with {COMMAND}. Then keep its credentials offline. " * 2
    changes = [change(f"finding {i} on payments-prod", remediation, i=i) for i in range(40)]
    (m,) = build_messages(changes)
    content = m.chatbot["content"]
    for step in content["nextSteps"]:
        assert not inside_a_command(step) and len(step) <= 300
    description = content["description"]
    assert len(description) <= CHATBOT_DESCRIPTION_MAX
    assert re.search(r"… and \d+ more findings \(", description)
    assert not inside_a_command(description.rsplit("\n", 1)[0])
    slack = slack_payload(__import__("json").dumps(m.chatbot))
    body = slack["blocks"][1]["text"]["text"]
    assert body == description  # nothing more cut on the way to Slack


def test_the_subject_names_severity_cluster_once_and_the_point() -> None:
    (m,) = build_messages(
        [
            change(
                "render-farm: tier-2xl is oversized; tier-xl saves $1,278/month",
                "x",
                cluster="render-farm",
                severity=Severity.WARNING,
            )
        ]
    )
    assert (
        m.subject
        == "[eksmon] WARNING render-farm (us-east-1): tier-2xl is oversized; tier-xl saves $1,278/month"
    )
    assert m.subject.count("render-farm") == 1


def test_a_long_subject_is_cut_between_words() -> None:
    title = "etcd of payments-prod reaches its 8 GiB limit in 1.8 days at the growth of the last week " * 2
    (m,) = build_messages([change(title, "x", severity=Severity.CRITICAL)])
    assert len(m.subject) <= SUBJECT_MAX and m.subject.endswith("…")
    assert m.subject.startswith("[eksmon] CRITICAL payments-prod (us-east-1): etcd reaches its 8 GiB")
    kept = m.subject.removesuffix("…").rstrip().split(": ", 1)[1]
    assert (title.replace(" of payments-prod", "") + " ").startswith(kept + " ")


def test_several_changes_lead_with_the_worst_point() -> None:
    (m,) = build_messages(
        [
            change("apiserver of payments-prod: LIST p99 1.9 s", "x", i=1, severity=Severity.WARNING),
            change(
                "etcd of payments-prod at 96.0 % of its 8.00 GiB limit", "x", i=2, severity=Severity.CRITICAL
            ),
        ]
    )
    assert m.subject.startswith("[eksmon] CRITICAL payments-prod (us-east-1): 2 new — etcd at 96.0 %")


def test_without_cluster() -> None:
    assert (
        without_cluster("apiserver of ml-training: 8.3 % failed", "ml-training") == "apiserver: 8.3 % failed"
    )
    assert without_cluster("checkout-prod has no break-glass administrator", "checkout-prod") == (
        "cluster has no break-glass administrator"
    )
    assert without_cluster("Webhook x p99 9.62 s on ml-training", "ml-training") == "Webhook x p99 9.62 s"
    assert without_cluster("Kubernetes 1.34 leaves standard support", "prod") == (
        "Kubernetes 1.34 leaves standard support"
    )


def test_the_slack_header_is_cut_between_words() -> None:
    payload = slack_payload("body", subject="word " * 100)
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) <= HEADER_MAX and header.endswith("word…")
