"""version.rollback_insight as a pure function: ERROR only, with the days left of the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eksmon.checks.version_rollback_insight import RollbackInsightThresholds, rollback_insight
from eksmon.collectors.eks_updates import Update, Updates
from eksmon.models import Severity

from .lifecycle_builders import insight, insights, snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
DEFAULT = RollbackInsightThresholds()
SKEW = "Kubelet version skew for rollback"


def upgrade(
    days_ago: float, status: str = "Successful", kind: str = "cluster", type_: str = "VersionUpdate"
) -> Update:
    return Update(kind, "prod", f"u-{days_ago}-{status}", type_, status, NOW - timedelta(days=days_ago))


def run(*parts: object) -> list:
    return list(rollback_insight(snapshot(*parts), DEFAULT, NOW))


def test_an_error_blocks_the_rollback_and_says_when_the_window_closes() -> None:
    [p] = run(insights(insight("ERROR", "ROLLBACK_READINESS", name=SKEW)), Updates((upgrade(2),), {}))
    assert p.severity is Severity.WARNING and p.details["days_left"] == 5
    assert "cannot be rolled back" in p.message and "closes in 5 days" in p.message
    assert p.details["rollback_window_closes"] == "2026-12-01T12:00:00Z"


@pytest.mark.parametrize("status", ["WARNING", "PASSING", "UNKNOWN"])
def test_only_an_error_blocks(status: str) -> None:  # the near-misses: the guide says these allow it
    assert run(insights(insight(status, "ROLLBACK_READINESS"))) == []


def test_other_categories_are_not_rollback_blockers() -> None:
    assert run(insights(insight("ERROR", "UPGRADE_READINESS"), insight("ERROR", "MISCONFIGURATION"))) == []


def test_the_latest_successful_control_plane_upgrade_sets_the_window() -> None:
    history = Updates(
        (
            upgrade(6),
            upgrade(1, status="Failed"),  # a failed attempt is no upgrade
            upgrade(0.5, kind="nodegroup"),  # nor a node group's
            upgrade(0.5, type_="ConfigUpdate"),
        ),
        {},
    )
    [p] = run(insights(insight("ERROR", "ROLLBACK_READINESS")), history)
    assert p.details["days_left"] == 1 and "tomorrow" in p.message


def test_without_the_history_or_past_the_window_the_block_is_still_said_without_a_date() -> None:
    [p] = run(insights(insight("ERROR", "ROLLBACK_READINESS")))
    assert p.details["days_left"] is None and "closes" not in p.message
    [q] = run(insights(insight("ERROR", "ROLLBACK_READINESS")), Updates((upgrade(8),), {}))
    assert q.details["rollback_window_closes"] is None
