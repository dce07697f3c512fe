"""control_plane.capacity as a pure function: the tier's seats and scheduling rate, the API's capacities."""

from __future__ import annotations

import pytest

from eksmon.checks.control_plane_capacity import ControlPlaneCapacityThresholds, control_plane_capacity
from eksmon.collectors.control_plane_metrics import SCHEDULED, SEATS, Series
from eksmon.collectors.eks import VersionCalendar
from eksmon.models import Problem, Severity, Unevaluated
from eksmon.tiers import TierCapacity, capacity_from_api
from eksmon.versions import BUNDLED_CALENDAR
from tests.unit.metrics_builders import GIB, NOW, cw, series, snapshot

CAP = ControlPlaneCapacityThresholds()


def load(seats: float, pods_per_second: float = 0.0):
    """A 15-minute window whose busiest minute has these peaks."""
    return (
        series(SEATS, [seats * 0.5] * 14 + [seats], stat="Maximum"),
        series(SCHEDULED, [pods_per_second * 60] + [0] * 14),
    )


def capacity(tier: str = "standard", *window: Series, **info) -> list[Problem | Unevaluated]:
    return list(control_plane_capacity(snapshot(cw(*window), tier=tier, **info), CAP, NOW))


def test_api_capacities_win_over_the_published_table() -> None:
    api = capacity_from_api(
        {
            "tierName": "tier-xl",
            "apiRequestConcurrency": 2000,
            "podSchedulingRatePerSecond": 200,
            "clusterDatabaseSizeGb": 24,
        }
    )
    assert api == TierCapacity("tier-xl", 2000, 200.0, 24 * GIB)
    region_snap = snapshot(cw(*load(1700)), tier="tier-xl")
    region_snap.region_snapshot.parts[VersionCalendar] = VersionCalendar(
        dict(BUNDLED_CALENDAR), "eks:DescribeClusterVersions", {"1.34": (api,)}
    )
    (p,) = control_plane_capacity(region_snap, CAP, NOW)  # 1,700 of 2,000 = 85 %, not 100 %
    assert isinstance(p, Problem) and p.severity is Severity.WARNING and p.details["seats_capacity"] == 2000


@pytest.mark.parametrize(
    ("seats", "severity"),
    [(1359, None), (1360, Severity.WARNING), (1614, Severity.WARNING), (1615, Severity.CRITICAL)],
)
def test_capacity_at_80_and_95_percent_of_the_tiers_seats(seats, severity) -> None:
    found = capacity("tier-xl", *load(seats))  # tier-xl: 1,700 seats; 80 % = 1,360, 95 % = 1,615
    assert [p.severity for p in found] == ([severity] if severity else [])
    if found:
        assert found[0].details["tier"] == "tier-xl" and found[0].details["seats_peak"] == seats


@pytest.mark.parametrize(
    ("pods", "severity"), [(133.0, None), (133.6, Severity.WARNING), (158.7, Severity.CRITICAL)]
)
def test_capacity_at_80_and_95_percent_of_the_tiers_scheduling_rate(pods, severity) -> None:
    found = capacity("tier-xl", *load(100, pods))  # tier-xl: 167 pods/s
    assert [p.severity for p in found] == ([severity] if severity else [])


def test_scheduling_capacity_is_100_pods_per_second_before_kubernetes_1_30() -> None:
    (p,) = capacity("tier-4xl", *load(100, 90), version="1.29")
    assert p.severity is Severity.WARNING and p.details["scheduling_capacity_per_second"] == 100.0


def test_a_standard_cluster_gets_an_info_hint_naming_the_tier_that_covers_its_peak() -> None:
    assert capacity("standard", *load(1199, 99)) == []
    (p,) = capacity("standard", *load(1850))
    assert p.severity is Severity.INFO and p.details["suggested_tier"] == "tier-2xl"
    assert "tier-2xl" in p.message and p.details["seats_capacity"] is None
    (pods,) = capacity("standard", *load(300, 120))
    assert pods.details["suggested_tier"] == "tier-xl"


def test_tier_absent_is_judged_as_standard() -> None:
    (p,) = capacity("standard", *load(1300))  # a 1,300-seat peak is 76 % of tier-xl, but standard: info
    assert p.severity is Severity.INFO


def test_an_unknown_tier_is_an_info_not_a_crash() -> None:
    (p,) = capacity("tier-16xl", *load(99999))
    assert p.severity is Severity.INFO and "tier-16xl" in p.message and p.details == {"tier": "tier-16xl"}


def test_capacity_without_seats_series_is_unevaluated() -> None:
    (p,) = capacity("tier-xl")
    assert isinstance(p, Unevaluated) and SEATS in p.reason
