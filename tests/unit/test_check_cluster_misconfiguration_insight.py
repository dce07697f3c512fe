"""cluster.misconfiguration_insight as a pure function."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eksmon.checks.cluster_misconfiguration_insight import misconfiguration_insight
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .lifecycle_builders import insight, insights, snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def run(*items: object) -> list:
    return list(misconfiguration_insight(snapshot(insights(*items)), NoThresholds(), NOW))


def test_a_misconfiguration_in_error_is_a_warning_with_its_reason() -> None:
    [p] = run(insight("ERROR", "MISCONFIGURATION", name="Hybrid nodes remote network"))
    assert p.severity is Severity.WARNING and p.resource.startswith("insight/")
    assert 'insight "Hybrid nodes remote network" is ERROR' in p.message and "why" in p.message


@pytest.mark.parametrize("status", ["WARNING", "PASSING", "UNKNOWN"])
def test_a_misconfiguration_not_in_error_is_left_alone(status: str) -> None:  # the near-misses
    assert run(insight(status, "MISCONFIGURATION")) == []


def test_other_categories_belong_to_other_checks() -> None:
    assert run(insight("ERROR", "UPGRADE_READINESS"), insight("ERROR", "ROLLBACK_READINESS")) == []
    assert run(insight("ERROR", "FUTURE_CATEGORY")) == []
