"""admission.webhook_rejections and admission.webhook_latency as pure functions, and the histogram maths."""

from __future__ import annotations

import math

import pytest

from eksmon.checks.admission_webhook_latency import WebhookLatencyThresholds, webhook_latency
from eksmon.checks.admission_webhook_rejections import WebhookRejectionsThresholds, webhook_rejections
from eksmon.collectors.apiserver_scrape import FAMILIES, histogram_quantile, sample_of
from eksmon.collectors.control_plane_metrics import (
    REQUESTS,
    WEBHOOK_DURATION,
    WEBHOOK_REJECTIONS,
)
from eksmon.models import Severity
from eksmon.prometheus import parse_text
from tests.conftest import metrics_dump
from tests.unit.metrics_builders import (
    NOW,
    cloudwatch,
    latency,
    per_minute,
    rejection,
    replica,
    scraped,
    series,
    snapshot,
)

R = WebhookRejectionsThresholds()
LT = WebhookLatencyThresholds()
INF = math.inf
DOCS_EXAMPLE = "apiserver_admission_webhook_rejection_count.docs-example.prom"


def vended(rejections_per_minute: float | None = None, p99: float | None = None):
    window = [per_minute(REQUESTS, 1000)]
    if rejections_per_minute is not None:
        window.append(per_minute(WEBHOOK_REJECTIONS, rejections_per_minute))
    if p99 is not None:
        window.append(per_minute(WEBHOOK_DURATION, p99))
    return cloudwatch(*window)


# -- the histogram --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("buckets", "q", "expected"),
    [
        ([(0.1, 50), (1, 100), (INF, 100)], 0.5, 0.1),
        ([(0.1, 50), (1, 100), (INF, 100)], 0.99, 0.1 + 0.9 * 49 / 50),
        ([(0.5, 0), (1, 10), (INF, 10)], 0.5, 0.75),
        ([(1, 90), (2.5, 90), (INF, 100)], 0.99, 2.5),  # rank in +Inf: the highest finite bound
        ([(1, 0), (INF, 0)], 0.99, None),  # no observations
        ([(1, 5), (2, 10)], 0.99, None),  # no +Inf bucket: a histogram cut short
        ([], 0.99, None),
    ],
)
def test_histogram_quantile_matches_prometheus(buckets, q, expected) -> None:
    found = histogram_quantile(q, buckets)
    assert found == pytest.approx(expected) if expected is not None else found is None


# -- rejections -----------------------------------------------------------------------------------
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


# -- latency --------------------------------------------------------------------------------------
SLOW = [(0.1, 700), (1, 900), (2.5, 900), (10, 1000), (INF, 1000)]  # p99 = 2.5 + 7.5*0.9 = 9.25 s
FAST = [(0.025, 950), (0.1, 1000), (INF, 1000)]


def test_slow_webhook_named_from_metrics_when_aws_eks_agrees() -> None:
    scrape = scraped(
        replica(1.0, latencies=[latency("slow.example.com", SLOW, 1500), latency("fast.example.com", FAST)])
    )
    (p,) = webhook_latency(snapshot(vended(p99=6.0), scrape), LT, NOW)
    assert p.resource == "webhook/slow.example.com" and p.severity is Severity.WARNING
    assert p.details["p99_seconds"] == pytest.approx(9.25)
    assert p.details["vended_p99_seconds"] == 6.0 and p.details["calls"] == 1000
    assert "mean 1.50 s" in p.message


def test_webhooks_fast_now_are_not_blamed_for_an_old_slow_spell() -> None:
    scrape = scraped(replica(latencies=[latency("slow.example.com", SLOW)]))
    assert list(webhook_latency(snapshot(vended(p99=0.4), scrape), LT, NOW)) == []


def test_without_vended_metrics_the_histogram_alone_decides() -> None:
    scrape = scraped(replica(latencies=[latency("slow.example.com", SLOW)]))
    (p,) = webhook_latency(snapshot(cloudwatch(present=False), scrape), LT, NOW)
    assert p.details["vended_p99_seconds"] is None and p.details["source"] == "/metrics"


def test_slow_per_aws_eks_but_no_webhook_named_gives_one_cluster_wide_finding() -> None:
    (p,) = webhook_latency(snapshot(vended(p99=3.2), scraped(error="forbidden")), LT, NOW)
    assert p.resource == "admission-webhooks" and p.details["p99_seconds"] == 3.2
    assert "could not be read" in p.message
    (q,) = webhook_latency(
        snapshot(vended(p99=3.2), scraped(replica(latencies=[latency("f", FAST)]))), LT, NOW
    )
    assert "names no single slow webhook" in q.message


def test_slow_per_aws_eks_is_reported_even_when_metrics_was_never_collected() -> None:
    (p,) = webhook_latency(snapshot(vended(p99=2.0), None), LT, NOW)
    assert p.resource == "admission-webhooks" and "could not be read" in p.message


def test_latency_histograms_merge_across_replicas_and_need_enough_calls() -> None:
    few = [(0.1, 0), (10, 5), (INF, 5)]
    one = scraped(replica(1.0, latencies=[latency("w", few)]))
    assert list(webhook_latency(snapshot(cloudwatch(present=False), one), LT, NOW)) == []
    many = scraped(*(replica(float(i), latencies=[latency("w", few)]) for i in range(4)))
    (p,) = webhook_latency(snapshot(cloudwatch(present=False), many), LT, NOW)
    assert p.details["calls"] == 20


def test_latency_threshold_configurable() -> None:
    scrape = scraped(replica(latencies=[latency("slow.example.com", SLOW)]))
    snap = snapshot(cloudwatch(present=False), scrape)
    assert list(webhook_latency(snap, WebhookLatencyThresholds(warning_seconds=10), NOW)) == []


def test_vended_p99_is_averaged_over_the_window() -> None:
    spike = cloudwatch(series(WEBHOOK_DURATION, [0.05] * 14 + [9.0], stat="Average"))
    assert list(webhook_latency(snapshot(spike, scraped()), LT, NOW)) == []
