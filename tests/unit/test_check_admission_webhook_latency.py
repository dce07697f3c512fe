"""admission.webhook_latency as a pure function: AWS-vended p99 and the apiserver's histograms."""

from __future__ import annotations

import math

import pytest

from eksmon.checks.admission_webhook_latency import WebhookLatencyThresholds, webhook_latency
from eksmon.collectors.control_plane_metrics import WEBHOOK_DURATION
from eksmon.models import Severity
from tests.unit.metrics_builders import NOW, cloudwatch, latency, replica, scraped, series, snapshot, vended

LT = WebhookLatencyThresholds()
INF = math.inf
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
