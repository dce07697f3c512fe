"""Findings state: which changes a run tells, against DynamoDB (moto, in-process, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from moto import mock_aws

from eksmon.context import COLLECTION_ERROR
from eksmon.models import Severity
from eksmon.publish.changes import ChangeKind
from eksmon.state import CLAIM_LEASE, FindingsState, create_table, dump
from tests.conftest import utc
from tests.unit.alerting_builders import finding, result

TABLE = "eksmon-findings"
T0 = utc(2026, 11, 26, 12)
WEEK = timedelta(days=7)


@pytest.fixture
def ddb() -> Iterator[object]:
    with mock_aws():
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        create_table(client, TABLE)
        yield client


def state(ddb, now, monitor="lifecycle") -> FindingsState:
    return FindingsState(ddb, TABLE, monitor, now, WEEK)


def run(ddb, res, now, monitor="lifecycle") -> list[tuple[ChangeKind, str]]:
    """One complete run: plan, claim, (publish), commit. Returns what it would have told."""
    s = state(ddb, now, monitor)
    claims = s.claim(s.plan(res))
    s.commit(claims)
    return sorted((c.change.kind, c.change.finding.resource) for c in claims)


def test_a_finding_is_told_when_new_then_not_again(ddb) -> None:
    f = finding(resource="x")
    assert run(ddb, result([f], T0), T0) == [(ChangeKind.NEW, "x")]
    for hour in range(1, 11):
        assert run(ddb, result([f], T0 + timedelta(hours=hour)), T0 + timedelta(hours=hour)) == []
    (item,) = dump(ddb, TABLE)
    assert item["status"] == "open" and item["severity"] == "warning" and "pending" not in item
    assert "expires_at" not in item  # open findings never expire


def test_severity_change_resolution_and_reappearance_are_each_told_once(ddb) -> None:
    warn, crit = finding(resource="x"), finding(resource="x", severity=Severity.CRITICAL)
    run(ddb, result([warn], T0), T0)
    t1 = T0 + timedelta(hours=1)
    assert run(ddb, result([crit], t1), t1) == [(ChangeKind.SEVERITY_CHANGED, "x")]
    assert run(ddb, result([crit], t1), t1) == []
    t2 = T0 + timedelta(hours=2)
    assert run(ddb, result([], t2), t2) == [(ChangeKind.RESOLVED, "x")]
    assert run(ddb, result([], t2), t2) == []
    (item,) = dump(ddb, TABLE)
    assert item["status"] == "resolved" and int(item["expires_at"]) > int(t2.timestamp())
    t3 = T0 + timedelta(hours=3)
    assert run(ddb, result([warn], t3), t3) == [(ChangeKind.NEW, "x")]
    (item,) = dump(ddb, TABLE)
    assert item["status"] == "open" and "expires_at" not in item


def test_a_finding_still_open_is_told_again_after_the_renotify_interval(ddb) -> None:
    f = finding(resource="x")
    run(ddb, result([f], T0), T0)
    almost = T0 + WEEK - timedelta(minutes=1)
    assert run(ddb, result([f], almost), almost) == []
    assert run(ddb, result([f], T0 + WEEK), T0 + WEEK) == [(ChangeKind.STILL_OPEN, "x")]
    assert run(ddb, result([f], T0 + WEEK + timedelta(days=1)), T0 + WEEK + timedelta(days=1)) == []


def test_a_cluster_that_could_not_be_read_does_not_resolve_its_findings(ddb) -> None:
    f = finding(resource="x")
    run(ddb, result([f], T0), T0)
    t1 = T0 + timedelta(hours=1)
    error = finding(COLLECTION_ERROR, resource="source/eks:DescribeCluster")
    # the cluster's inputs are missing (its DescribeCluster failed): not resolved
    assert run(ddb, result([error], t1, unread=["prod"]), t1) == [
        (ChangeKind.NEW, "source/eks:DescribeCluster")
    ]
    # ListClusters failed: no cluster was looked at
    assert run(ddb, result([], t1, listed=False), t1) == []
    # the cluster is read again (its DescribeCluster error resolves) but the check itself crashed on it
    crashed = finding(COLLECTION_ERROR, resource="source/check/a.b")
    assert run(ddb, result([crashed], t1), t1) == [
        (ChangeKind.NEW, "source/check/a.b"),
        (ChangeKind.RESOLVED, "source/eks:DescribeCluster"),
    ]
    # another region was scanned: this one is untouched
    assert run(ddb, result([], t1, region="eu-west-1"), t1) == []
    open_ = {i["resource"] for i in dump(ddb, TABLE) if i.get("status") == "open"}
    assert "x" in open_


def test_a_deleted_cluster_resolves_its_findings(ddb) -> None:
    run(ddb, result([finding(resource="x")], T0), T0)
    t1 = T0 + timedelta(hours=1)
    assert run(ddb, result([], t1, clusters=["other"]), t1) == [(ChangeKind.RESOLVED, "x")]


def test_findings_of_checks_this_monitor_does_not_run_are_left_alone(ddb) -> None:
    run(ddb, result([finding("quota.utilization", cluster=None, resource="q")], T0), T0, monitor="quotas")
    t1 = T0 + timedelta(hours=1)
    assert run(ddb, result([], t1), t1, monitor="lifecycle") == []


def test_a_collection_error_two_monitors_report_stays_open_until_both_stop(ddb) -> None:
    err = finding(COLLECTION_ERROR, cluster=None, resource="source/eks:ListClusters")
    assert run(ddb, result([err], T0, listed=False), T0, "lifecycle") == [(ChangeKind.NEW, err.resource)]
    assert run(ddb, result([err], T0, listed=False), T0, "metrics") == []
    t1 = T0 + timedelta(hours=1)
    assert run(ddb, result([], t1), t1, "lifecycle") == []  # metrics still sees it
    assert run(ddb, result([], t1), t1, "metrics") == [(ChangeKind.RESOLVED, err.resource)]


def test_two_runs_at_once_tell_each_change_once(ddb) -> None:
    fs = [finding(resource=str(i)) for i in range(20)]
    a, b = state(ddb, T0), state(ddb, T0)
    plan_a, plan_b = a.plan(result(fs, T0)), b.plan(result(fs, T0))  # both read before either writes
    claims_a = a.claim(plan_a[::2] + plan_a[1::2])
    claims_b = b.claim(plan_b[::-1])
    told = [c.change.fingerprint for c in claims_a + claims_b]
    assert sorted(told) == sorted(f.fingerprint for f in fs)  # each exactly once
    a.commit(claims_a)
    b.commit(claims_b)
    assert run(ddb, result(fs, T0), T0) == []


def test_a_crash_after_claiming_never_loses_the_notification(ddb) -> None:
    f = finding(resource="x")
    crashed = state(ddb, T0)
    crashed.claim(crashed.plan(result([f], T0)))  # claimed (and maybe published), never recorded
    soon = T0 + timedelta(minutes=5)
    assert run(ddb, result([f], soon), soon) == []  # the claim may belong to a run still publishing
    later = T0 + CLAIM_LEASE
    assert run(ddb, result([f], later), later) == [(ChangeKind.NEW, "x")]
    assert run(ddb, result([f], later), later) == []


def test_a_crash_before_recording_a_resolution_tells_it_again(ddb) -> None:
    run(ddb, result([finding(resource="x")], T0), T0)
    t1 = T0 + timedelta(hours=1)
    crashed = state(ddb, t1)
    assert crashed.claim(crashed.plan(result([], t1)))
    later = t1 + CLAIM_LEASE
    assert run(ddb, result([], later), later) == [(ChangeKind.RESOLVED, "x")]


def test_released_claims_are_retried_by_the_next_run(ddb) -> None:
    f = finding(resource="x")
    failed = state(ddb, T0)
    failed.release(failed.claim(failed.plan(result([f], T0))))
    soon = T0 + timedelta(minutes=1)
    assert run(ddb, result([f], soon), soon) == [(ChangeKind.NEW, "x")]


def test_a_missing_table_is_an_error_naming_it(ddb) -> None:
    from eksmon.state import StateError

    s = FindingsState(ddb, "no-such-table", "lifecycle", T0, WEEK)
    with pytest.raises(StateError, match=r"findings table no-such-table .*ResourceNotFoundException"):
        s.plan(result([finding()], T0))


def test_a_region_level_check_about_a_cluster_resolves_only_when_it_ran(ddb) -> None:
    from eksmon.aws import ApiCallCounter
    from eksmon.engine import ScanResult
    from eksmon.parts import ClusterNames
    from eksmon.snapshot import RegionSnapshot
    from tests.unit.alerting_builders import ACCOUNT, Inputs, spec

    check = spec("quota.utilization", scope="region")
    f = finding("quota.utilization", resource="quota/eks/L-6D54EA21")  # a per-cluster quota, region check

    def region_only(findings, ran: bool) -> ScanResult:
        snap = RegionSnapshot(ACCOUNT, "us-east-1", parts={ClusterNames: ClusterNames(("prod",))})
        if ran:
            snap.parts[Inputs] = Inputs()
        return ScanResult(list(findings), [snap], ApiCallCounter(), T0, 0.1, [check])

    run(ddb, region_only([f], True), T0, "quotas")
    t1 = T0 + timedelta(hours=1)
    assert run(ddb, region_only([], False), t1, "quotas") == []  # its inputs were not read
    assert run(ddb, region_only([], True), t1, "quotas") == [(ChangeKind.RESOLVED, f.resource)]
