"""apiserver.flowcontrol_rejections as a pure function: priority levels, and counts since the previous scan."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eksmon.checks.apiserver_flowcontrol_rejections import (
    FlowcontrolRejectionsThresholds,
    apiserver_flowcontrol_rejections,
)
from eksmon.collectors.apf_baseline import ApfBaseline, counter_key
from eksmon.collectors.apiserver_scrape import ApfRejection, ReplicaSample
from eksmon.models import Problem, Severity
from tests.unit.metrics_builders import NOW, scraped, snapshot


def apf(*rejections: ApfRejection, started: float = 1.7e9) -> list[Problem]:
    sample = ReplicaSample(started, None, None, None, apf_rejections=rejections)
    snap = snapshot(None, scraped(sample))
    return list(apiserver_flowcontrol_rejections(snap, FlowcontrolRejectionsThresholds(), NOW))


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("system", Severity.CRITICAL),
        ("leader-election", Severity.CRITICAL),
        ("node-high", Severity.CRITICAL),
        ("workload-low", Severity.WARNING),
        ("global-default", Severity.WARNING),
    ],
)
def test_priority_level_severities(level, severity) -> None:
    (p,) = apf(ApfRejection(level, "some-schema", "queue-full", 12))
    assert p.severity is severity and p.resource == f"priority-level/{level}"
    assert p.details["rejected"] == 12 and "since the apiserver replicas started" in p.message


def test_one_finding_per_priority_level_with_its_schemas_and_reasons() -> None:
    found = apf(
        ApfRejection("leader-election", "system-leader-election", "queue-full", 5),
        ApfRejection("leader-election", "kube-controller-manager", "time-out", 2),
        ApfRejection("workload-low", "service-accounts", "concurrency-limit", 40),
    )
    by_level = {p.details["priority_level"]: p for p in found}
    assert set(by_level) == {"leader-election", "workload-low"}
    le = by_level["leader-election"]
    assert le.details["rejected"] == 7 and le.details["reasons"] == {"queue-full": 5, "time-out": 2}
    assert le.details["flow_schemas"] == ["kube-controller-manager", "system-leader-election"]


def test_no_drops_raise_nothing() -> None:
    assert apf() == []


def apf_with_baseline(baseline, *replicas: ReplicaSample) -> list[Problem]:
    snap = snapshot(None, scraped(*replicas))
    snap.parts[ApfBaseline] = baseline
    return list(apiserver_flowcontrol_rejections(snap, FlowcontrolRejectionsThresholds(), NOW))


def test_deployed_counts_are_the_increase_since_the_previous_scan() -> None:
    before = ApfBaseline(
        {counter_key(1.7e9, "leader-election", "system-leader-election", "queue-full"): 30.0},
        NOW - timedelta(minutes=15),
    )
    now = ReplicaSample(
        1.7e9,
        None,
        None,
        None,
        apf_rejections=(ApfRejection("leader-election", "system-leader-election", "queue-full", 37),),
    )
    (p,) = apf_with_baseline(before, now)
    assert p.details["rejected"] == 7 and p.details["counted_since"] == "previous_scan"
    assert "since the previous scan at 2026-11-26T11:45:00Z" in p.message
    # no new drops since the previous scan: nothing to report (the finding resolves)
    same = ApfBaseline(
        {
            **before.values,
            counter_key(1.7e9, "leader-election", "system-leader-election", "queue-full"): 37.0,
        },
        before.at,
    )
    assert apf_with_baseline(same, now) == []


def test_a_replica_the_previous_scan_did_not_see_counts_from_its_start() -> None:
    before = ApfBaseline({counter_key(1.7e9, "workload-low", "s", "queue-full"): 1.0}, NOW)
    restarted = ReplicaSample(
        1.8e9,
        None,
        None,
        None,
        apf_rejections=(ApfRejection("leader-election", "system-leader-election", "queue-full", 5),),
    )
    (p,) = apf_with_baseline(before, restarted)
    assert p.details["rejected"] == 5 and p.details["counted_since"] == "apiserver_start"
    assert "not sampled before counts from its start" in p.message
