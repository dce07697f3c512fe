"""cluster.update_failed as a pure function: the window, supersession, one per resource and type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eksmon.checks.cluster_update_failed import UpdateFailedThresholds, update_failed
from eksmon.collectors.eks_updates import Update, UpdateError, Updates
from eksmon.models import Problem, Severity, Unevaluated
from eksmon.registry import CollectionNeeds

from .lifecycle_builders import snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
DEFAULT = UpdateFailedThresholds()
EVICT = (UpdateError("PodEvictionFailure", "Reached max retries while trying to evict pods.", ("ng-1",)),)


def upd(
    status: str,
    days: float,
    kind: str = "nodegroup",
    target: str = "workers",
    type_: str = "VersionUpdate",
    errors: tuple[UpdateError, ...] = (),
    ident: str | None = None,
) -> Update:
    return Update(
        kind,
        target,
        ident or f"{kind}-{target}-{status}-{days}",
        type_,
        status,
        NOW - timedelta(days=days),
        errors,
    )


def run(*items: Update, partly: dict | None = None, t: UpdateFailedThresholds = DEFAULT) -> list:
    return list(update_failed(snapshot(Updates(items, partly or {})), t, NOW))


def test_a_recent_failure_never_retried_is_a_warning_with_its_error() -> None:
    [p] = run(upd("Failed", 3, errors=EVICT))
    assert isinstance(p, Problem) and p.severity is Severity.WARNING
    assert p.resource == "update/nodegroup/workers/VersionUpdate"
    assert p.details["error_codes"] == ["PodEvictionFailure"] and p.details["errors"][0]["resource_ids"] == [
        "ng-1"
    ]
    assert "3 days ago" in p.message and "Reached max retries" in p.message
    assert "update-nodegroup-version" in p.remediation and "--nodegroup-name workers" in p.remediation


def test_a_later_success_of_the_same_type_supersedes_it() -> None:  # the near-miss
    assert run(upd("Failed", 3), upd("Successful", 2)) == []


def test_a_success_before_the_failure_does_not() -> None:
    assert len(run(upd("Failed", 3), upd("Successful", 4))) == 1


def test_a_success_of_another_type_or_resource_does_not() -> None:
    other_type = upd("Successful", 1, type_="ConfigUpdate")
    other_group = upd("Successful", 1, target="system")
    assert len(run(upd("Failed", 3), other_type, other_group)) == 1


@pytest.mark.parametrize("status", ["Cancelled", "InProgress"])
def test_a_later_cancelled_or_running_attempt_is_not_a_success(status: str) -> None:
    assert len(run(upd("Failed", 3), upd(status, 1))) == 1


def test_the_30_day_window_edges() -> None:
    assert len(run(upd("Failed", 29.9))) == 1
    assert len(run(upd("Failed", 30))) == 1  # exactly 30 days: still inside
    assert run(upd("Failed", 30.01)) == []
    assert len(run(upd("Failed", 40), t=UpdateFailedThresholds(window_days=60))) == 1


def test_one_finding_per_resource_and_type_naming_the_latest_failure() -> None:
    found = run(
        upd("Failed", 9, ident="older"),
        upd("Failed", 2, ident="newer"),
        upd("Failed", 5, kind="addon", target="coredns", type_="AddonUpdate"),
        upd("Failed", 5, kind="cluster", target="prod", type_="VersionUpdate"),
    )
    assert [(p.resource, p.details["update_id"]) for p in found] == [
        ("update/addon/coredns/AddonUpdate", "addon-coredns-Failed-5"),
        ("update/cluster/prod/VersionUpdate", "cluster-prod-Failed-5"),
        ("update/nodegroup/workers/VersionUpdate", "newer"),
    ]
    assert "update-cluster-version" in found[1].remediation and "--nodegroup-name" not in found[1].remediation


def test_a_failure_without_a_time_or_an_error_code_is_handled() -> None:
    no_time = Update("nodegroup", "w", "x", "VersionUpdate", "Failed", None)
    assert run(no_time) == []
    [p] = run(upd("Failed", 0))
    assert p.details["error_codes"] == [] and "today" in p.message


def test_a_partly_read_history_is_said_never_silently_judged() -> None:
    found = run(upd("Successful", 1), partly={("nodegroup", "workers"): (25, 80)})
    assert found == [Unevaluated(found[0].reason)]
    assert "25 of its 80 updates" in found[0].reason


def test_the_read_bound_reaches_the_collector() -> None:
    t = UpdateFailedThresholds(max_updates_read_per_resource=5)
    assert t.collection_needs() == CollectionNeeds(updates_per_resource=5)
    merged = t.collection_needs().merge(CollectionNeeds(updates_per_resource=9))
    assert merged.updates_per_resource == 9
