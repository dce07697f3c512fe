"""etcd.object_counts: counts near the scalability limits, from either object family; and the etcd
checks naming what fills the database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from eksmon.checks._objects import what_fills_etcd
from eksmon.checks.etcd_object_counts import ObjectCountsThresholds, etcd_object_counts
from eksmon.collectors.apiserver_scrape import FAMILIES, ObjectCount, sample_of
from eksmon.prometheus import parse
from eksmon.sim.control_plane_metrics import apiserver_metrics

from .metrics_builders import replica, scraped, snapshot

NOW = datetime(2026, 12, 5, tzinfo=UTC)
T = ObjectCountsThresholds()


def counting(started: float, **counts: int) -> Any:
    return replace(replica(started), objects=tuple(ObjectCount("", k, v) for k, v in counts.items()))


def findings(*replicas: Any, t: ObjectCountsThresholds = T) -> list[Any]:
    return list(etcd_object_counts(snapshot(scrape=scraped(*replicas)), t, NOW))


def test_secrets_at_80_percent_warn_with_the_count_and_limit() -> None:
    [p] = findings(counting(1.7e9, secrets=8_000))
    assert p.severity.value == "warning" and p.resource == "objects/secrets"
    assert p.details == {
        "resource": "secrets",
        "count": 8_000,
        "limit": 10_000,
        "percent": 80.0,
        "top_resources": [{"resource": "secrets", "count": 8_000}],
    }


def test_at_the_limit_is_critical() -> None:
    [p] = findings(counting(1.7e9, nodes=5_000))
    assert p.severity.value == "critical" and "5,000 nodes" in p.title


def test_the_largest_replica_count_is_taken_never_the_sum() -> None:
    [p] = findings(counting(1.7e9, services=8_100), counting(1.8e9, services=8_050))
    assert p.details["count"] == 8_100


def test_limits_are_configurable_including_other_resources() -> None:
    t = ObjectCountsThresholds(limits={"configmaps": 1_000})
    [p] = findings(counting(1.7e9, configmaps=900, secrets=9_999), t=t)
    assert p.resource == "objects/configmaps"


# -- near misses --------------------------------------------------------------------------------------
def test_just_under_80_percent_is_healthy() -> None:
    assert findings(counting(1.7e9, secrets=7_999, pods=119_999, services=7_999)) == []


def test_a_failed_scrape_raises_nothing() -> None:
    assert list(etcd_object_counts(snapshot(scrape=scraped(error="timeout")), T, NOW)) == []


# -- reading /metrics ---------------------------------------------------------------------------------
def test_1_34_family_is_read_with_its_group() -> None:
    sample = sample_of(parse([apiserver_metrics("1.35", objects={"secrets": 42})], FAMILIES))
    names = {o.name: o.count for o in sample.objects}
    assert names["secrets"] == 42 and "deployments.apps" in names


def test_the_deprecated_family_is_read_before_1_34_and_minus_one_left_out() -> None:
    body = apiserver_metrics("1.31", objects={"secrets": 9_412, "deployments.apps": -1})
    names = {o.name: o.count for o in sample_of(parse([body], FAMILIES)).objects}
    assert names["secrets"] == 9_412 and "deployments.apps" not in names


def test_what_fills_etcd_names_the_largest_resources() -> None:
    snap = snapshot(scrape=scraped(counting(1.7e9, events=64_800, secrets=9_412, pods=3_120)))
    sentence, top = what_fills_etcd(snap)
    assert sentence == " The most objects are events 64,800, secrets 9,412, pods 3,120."
    assert top[0] == {"resource": "events", "count": 64_800}


def test_what_fills_etcd_is_silent_without_a_scrape() -> None:
    assert what_fills_etcd(snapshot()) == ("", [])
