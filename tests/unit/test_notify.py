"""One SNS message per cluster (and per account+region without a cluster), filterable attributes,
e-mail text for people and AWS Chatbot JSON for Slack, under the SNS size limit."""

from __future__ import annotations

import json

from eksmon.models import Severity
from eksmon.publish.changes import Change, ChangeKind
from eksmon.publish.chatbot import CHATBOT_DESCRIPTION_MAX
from eksmon.publish.notify import MESSAGE_BUDGET_BYTES, SUBJECT_MAX, build_messages
from tests.unit.alerting_builders import finding


def new(*args, **kwargs) -> Change:
    return Change(ChangeKind.NEW, finding(*args, **kwargs))


def test_one_message_per_cluster_with_the_worst_severity() -> None:
    msgs = build_messages(
        [
            new("a.b", Severity.WARNING, "prod"),
            new("c.d", Severity.CRITICAL, "prod", resource="x"),
            new("e.f", Severity.INFO, "dev"),
            new("quota.utilization", Severity.WARNING, None),
            new("quota.utilization", Severity.WARNING, None, region="eu-west-1"),
        ]
    )
    assert [(m.region, m.cluster) for m in msgs] == [
        ("eu-west-1", None),
        ("us-east-1", None),
        ("us-east-1", "dev"),
        ("us-east-1", "prod"),
    ]
    prod = msgs[-1]
    assert prod.severity is Severity.CRITICAL
    attrs = prod.attributes()
    assert attrs["severity"]["StringValue"] == "critical"
    assert attrs["cluster"]["StringValue"] == "prod"
    assert attrs["account"]["StringValue"] == "123456789012"
    assert attrs["region"]["StringValue"] == "us-east-1"
    assert json.loads(attrs["changes"]["StringValue"]) == ["new"]
    assert attrs["changes"]["DataType"] == "String.Array"
    assert msgs[0].attributes()["cluster"]["StringValue"] == "-"
    assert prod.text.index("[CRITICAL]") < prod.text.index("[WARNING]")
    assert "CRITICAL" in prod.subject and "2 new" in prod.subject


def test_subject_fits_the_sns_limit() -> None:
    (m,) = build_messages([new("a.b", Severity.WARNING, "c" * 200)])
    assert len(m.subject) <= SUBJECT_MAX


def test_each_protocol_gets_its_own_body() -> None:
    (m,) = build_messages([new("a.b", Severity.CRITICAL, "prod", message="etcd is at 97 % of 8 GiB")])
    bodies = json.loads(m.structure())
    assert bodies["default"] == bodies["email"] == m.text
    assert "etcd is at 97 % of 8 GiB" in bodies["email"] and "What to do: fix r" in bodies["email"]
    for protocol in ("https", "http", "lambda"):
        chatbot = json.loads(bodies[protocol])
        assert chatbot["version"] == "1.0" and chatbot["source"] == "custom"
        assert chatbot["content"]["textType"] == "client-markdown"
        assert "etcd is at 97 % of 8 GiB" in chatbot["content"]["description"]
        assert chatbot["content"]["nextSteps"] == ["fix r"]
        assert chatbot["metadata"]["threadId"] == "eksmon-123456789012-us-east-1-prod"


def test_the_message_says_what_changed_and_how_it_was_before() -> None:
    (m,) = build_messages(
        [
            Change(
                ChangeKind.SEVERITY_CHANGED,
                finding("a.b", Severity.CRITICAL, resource="x"),
                previous_severity=Severity.WARNING,
            ),
            Change(ChangeKind.RESOLVED, finding("c.d", Severity.WARNING), open_since="2026-11-01T00:00:00Z"),
            Change(ChangeKind.STILL_OPEN, finding("e.f", Severity.INFO), open_since="2026-11-10T00:00:00Z"),
        ],
        renotify_days=7,
    )
    assert "[CRITICAL, was warning]" in m.text
    assert "[RESOLVED, was warning]" in m.text and "open since 2026-11-01" in m.text
    assert "STILL OPEN" in m.text and "Open since 2026-11-10" in m.text
    assert "every 7 days" in m.text
    assert json.loads(m.attributes()["changes"]["StringValue"]) == [
        "severity_changed",
        "still_open",
        "resolved",
    ]
    assert ":white_check_mark:" in m.chatbot["content"]["description"]
    assert "1 changed, 1 still open, 1 resolved" in m.subject


def test_unchanged_open_findings_are_counted_not_repeated() -> None:
    told = finding("a.b", resource="x")
    others = [finding("c.d", resource=str(i)) for i in range(3)]
    (m,) = build_messages([Change(ChangeKind.NEW, told)], [told, *others])
    assert "3 other open findings here, unchanged (not repeated)." in m.text
    assert "c.d" not in m.text


def test_a_huge_cluster_is_summarised_with_counts_under_the_size_limit() -> None:
    changes = [
        new(
            "a.b",
            Severity.WARNING if i % 3 else Severity.CRITICAL,
            "prod",
            resource=f"pod/{i}",
            message="x" * 1500,
        )
        for i in range(600)
    ]
    changes += [
        Change(ChangeKind.RESOLVED, finding("c.d", Severity.INFO, resource=f"n/{i}")) for i in range(50)
    ]
    (m,) = build_messages(changes)
    assert m.size_bytes() <= MESSAGE_BUDGET_BYTES
    assert 0 < m.shown_in_full < len(changes)
    hidden = len(changes) - m.shown_in_full
    assert f"... and {hidden} more changes not shown in full" in m.text
    assert "50 resolved info: c.d" in m.text  # the resolved ones come last, so they are summarised
    assert "eksmon scan --region us-east-1 --cluster prod" in m.text
    description = m.chatbot["content"]["description"]
    assert len(description) <= CHATBOT_DESCRIPTION_MAX
    assert "more findings (" in description
    assert len(m.fingerprints) == len(changes)  # every change is in the message, shown or counted


def test_small_messages_are_shown_in_full() -> None:
    changes = [new("a.b", Severity.WARNING, "prod", resource=f"r{i}") for i in range(5)]
    (m,) = build_messages(changes)
    assert m.shown_in_full == 5 and "not shown in full" not in m.text


def test_slack_control_characters_are_escaped() -> None:
    (m,) = build_messages([new("a.b", Severity.WARNING, "prod", message="<script> & <!channel>")])
    description = m.chatbot["content"]["description"]
    assert "<!channel>" not in description and "&lt;!channel&gt;" in description
