"""admission.webhook_rejections as a pure function: AWS-vended rejections and the apiserver's counters."""

from __future__ import annotations

import pytest

from eksmon.checks.admission_webhook_rejections import WebhookRejectionsThresholds, webhook_rejections
from eksmon.collectors.apiserver_scrape import FAMILIES, sample_of
from eksmon.models import Severity
from eksmon.prometheus import parse_text
from tests.conftest import metrics_dump
from tests.unit.metrics_builders import (
    NOW,
    cloudwatch,
    rejection,
    replica,
    scraped,
    snapshot,
    vended,
)

R = WebhookRejectionsThresholds()
DOCS_EXAMPLE = "apiserver_admission_webhook_rejection_count.docs-example.prom"


def test_the_documentation_example_names_the_two_unreachable_webhooks_and_not_the_policy_denial() -> None:
    sample = sample_of(parse_text(metrics_dump(DOCS_EXAMPLE).decode(), FAMILIES))
    snap = snapshot(vended(rejections_per_minute=2), scraped(sample))
    found = {p.resource: p for p in webhook_rejections(snap, R, NOW)}
    assert set(found) == {
        "webhook/always-timeout-webhook.example.com",
        "webhook/invalid-admission-response-webhook.example.com",
    }
    p = found["webhook/always-timeout-webhook.example.com"]
    assert p.severity is Severity.WARNING
    assert p.details["rejections"] == 1 and p.details["operations"] == ["CREATE"]
    assert p.details["window_rejections"] == 30 and "not an old failure" in p.message


def test_rejections_summed_over_replicas_and_operations() -> None:
    scrape = scraped(
        replica(
            1.0,
            rejections=[rejection("w.example.com", 10), rejection("w.example.com", 5, operation="UPDATE")],
        ),
        replica(2.0, rejections=[rejection("w.example.com", 7)]),
        replica(2.0, rejections=[rejection("w.example.com", 8)]),  # the same replica again: the later sample
    )
    (p,) = webhook_rejections(snapshot(vended(rejections_per_minute=1), scrape), R, NOW)
    assert p.details["rejections"] == 23 and p.details["operations"] == ["CREATE", "UPDATE"]
    assert p.details["replicas_sampled"] == 2


def test_old_failures_are_not_reported_when_aws_eks_shows_no_rejection_now() -> None:
    scrape = scraped(replica(rejections=[rejection(count=500)]))
    assert list(webhook_rejections(snapshot(vended(rejections_per_minute=0), scrape), R, NOW)) == []
    # vended metrics present, rejection series absent in the window: none now either
    assert list(webhook_rejections(snapshot(vended(), scrape), R, NOW)) == []


def test_without_vended_metrics_metrics_alone_decides_and_the_message_says_since_when() -> None:
    scrape = scraped(replica(1.7e9, rejections=[rejection(count=4)]))
    (p,) = webhook_rejections(snapshot(cloudwatch(present=False), scrape), R, NOW)
    assert p.details["window_rejections"] is None and p.details["since"] == "2023-11-14T22:13:20Z"
    assert "happening now" not in p.message


@pytest.mark.parametrize("error_type", ["no_error", "apiserver_internal_error"])
def test_policy_denials_and_internal_errors_are_not_unreachable_webhooks(error_type) -> None:
    scrape = scraped(replica(rejections=[rejection(count=99, error_type=error_type, code="400")]))
    assert list(webhook_rejections(snapshot(vended(rejections_per_minute=50), scrape), R, NOW)) == []


def test_rejections_minimum_is_configurable() -> None:
    scrape = scraped(replica(rejections=[rejection(count=3)]))
    snap = snapshot(vended(rejections_per_minute=1), scrape)
    assert list(webhook_rejections(snap, WebhookRejectionsThresholds(min_rejections=4), NOW)) == []
    assert len(list(webhook_rejections(snap, WebhookRejectionsThresholds(min_rejections=3), NOW))) == 1


def test_rejections_silent_when_metrics_could_not_be_read() -> None:
    snap = snapshot(vended(rejections_per_minute=90), scraped(error="forbidden: get path /metrics"))
    assert list(webhook_rejections(snap, R, NOW)) == []
