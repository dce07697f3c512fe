"""version.pdb_blocks_drain: a budget that can never allow an eviction, and the budgets that only look
like one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from eksmon.checks.version_pdb_blocks_drain import pdb_blocks_drain
from eksmon.collectors.kubernetes_common import BadObject
from eksmon.collectors.kubernetes_disruption import DisruptionBudget, DisruptionBudgets, disruption_budget
from eksmon.registry import NoThresholds

from .kubernetes_builders import snapshot

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def budget(expected: int, desired: int, healthy: int | None = None, **spec: str) -> DisruptionBudget:
    healthy = expected if healthy is None else healthy
    return DisruptionBudget(
        namespace="search",
        name="opensearch-data",
        expected_pods=expected,
        desired_healthy=desired,
        current_healthy=healthy,
        disruptions_allowed=max(healthy - desired, 0),
        min_available=spec.get("min_available"),
        max_unavailable=spec.get("max_unavailable"),
    )


def findings(*items: DisruptionBudget) -> list[Any]:
    return list(pdb_blocks_drain(snapshot(DisruptionBudgets(items)), NoThresholds(), NOW))


def test_max_unavailable_zero_blocks_every_drain_and_says_what_to_set() -> None:
    [p] = findings(budget(3, 3, max_unavailable="0"))
    assert p.severity.value == "warning"
    assert p.resource == "PodDisruptionBudget/search/opensearch-data"
    assert "maxUnavailable: 0" in p.message and "PodEvictionFailure" in p.message
    assert "maxUnavailable: 1" in p.remediation
    assert p.details["expected_pods"] == 3 and p.details["desired_healthy"] == 3


def test_min_available_equal_to_the_replicas_blocks_too() -> None:
    [p] = findings(budget(2, 2, min_available="100%"))
    assert "minAvailable: 100%" in p.message


def test_a_single_replica_with_min_available_one_blocks() -> None:
    assert len(findings(budget(1, 1, min_available="1"))) == 1


def test_blocked_even_while_a_pod_is_unhealthy_when_the_spec_allows_no_eviction() -> None:
    # desired ≥ expected is the spec's verdict; the unhealthy pod does not excuse it
    assert len(findings(budget(3, 3, healthy=2, max_unavailable="0"))) == 1


# -- near misses --------------------------------------------------------------------------------------
def test_one_eviction_allowed_is_healthy() -> None:
    assert findings(budget(3, 2, min_available="2")) == []


def test_at_zero_only_because_a_pod_is_unhealthy_now_is_not_a_finding() -> None:
    # maxUnavailable 1 of 3 with one pod down: disruptionsAllowed 0 today, 1 once it recovers
    assert findings(budget(3, 2, healthy=2, max_unavailable="1")) == []


def test_a_budget_that_selects_no_pod_blocks_nothing() -> None:
    assert findings(budget(0, 0, min_available="100%")) == []


def test_one_finding_per_blocking_budget() -> None:
    other = DisruptionBudget("checkout", "api", 2, 2, 2, 0, None, "0")
    assert {p.resource for p in findings(budget(3, 3), other, budget(3, 2))} == {
        "PodDisruptionBudget/search/opensearch-data",
        "PodDisruptionBudget/checkout/api",
    }


# -- reading one object -------------------------------------------------------------------------------
def pdb_obj(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"maxUnavailable": 0, "selector": {"matchLabels": {"app": "web"}}},
        "status": status,
    }


def test_an_object_is_read_with_its_spec_as_written() -> None:
    got = disruption_budget(pdb_obj(expectedPods=2, desiredHealthy=2, currentHealthy=2, disruptionsAllowed=0))
    assert got == DisruptionBudget("shop", "web", 2, 2, 2, 0, None, "0")


def test_a_budget_without_status_yet_is_not_judged() -> None:
    assert disruption_budget(pdb_obj()) is None


def test_a_status_that_is_not_a_number_is_a_bad_object() -> None:
    with pytest.raises(BadObject, match="expectedPods"):
        disruption_budget(pdb_obj(expectedPods="two", desiredHealthy=2))
