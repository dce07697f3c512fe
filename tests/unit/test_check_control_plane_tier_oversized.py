"""control_plane.tier_oversized as a pure function: peaks against cheaper tiers, prices, the HPA sync period."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eksmon.checks.control_plane_tier_oversized import TierOversizedThresholds, control_plane_tier_oversized
from eksmon.collectors.control_plane_metrics import SCHEDULED, SEATS, Series
from eksmon.errors import ConfigError
from eksmon.models import Severity, Unevaluated
from eksmon.settings import parse_settings
from tests.unit.metrics_builders import GIB, NOW, cw, series, snapshot

FIT = TierOversizedThresholds()
SIZE = "etcd_mvcc_db_total_size_in_use_in_bytes"


def hourly(metric: str, peak: float, days: float = 14) -> Series:
    n = int(days * 24)
    return series(metric, [peak * 0.7] * (n - 1) + [peak], step=timedelta(hours=1), stat="Maximum")


def oversized(tier: str, seats: float, pods: float, db: float | None, days: float = 14, t=FIT):
    size = series(SIZE, [db], stat="Maximum") if db is not None else None
    peaks = {SEATS: hourly(SEATS, seats, days), SCHEDULED: hourly(SCHEDULED, pods * 60, days)}
    return list(control_plane_tier_oversized(snapshot(cw(size=size, peaks=peaks), tier=tier), t, NOW))


def test_a_tier_2xl_whose_peaks_fit_tier_xl_says_so_with_the_saving() -> None:
    (p,) = oversized("tier-2xl", seats=1020, pods=100, db=6 * GIB)  # 60 % of 1,700 and of 167; db > 4.8 GiB
    assert p.severity is Severity.WARNING
    assert p.details["suggested_tier"] == "tier-xl"
    assert p.details["savings_per_month_usd"] == pytest.approx((3.40 - 1.65) * 730)
    assert "$1,277.50 a month" in p.message and p.details["lookback_days"] == 14


def test_just_over_60_percent_of_the_cheaper_tier_is_not_a_fit() -> None:
    assert oversized("tier-2xl", seats=1021, pods=50, db=6 * GIB) == []
    assert oversized("tier-2xl", seats=500, pods=100.3, db=6 * GIB) == []


def test_standard_counts_as_cheaper_when_the_database_is_below_60_percent_of_8_gib() -> None:
    (p,) = oversized("tier-xl", seats=1200, pods=100, db=4.7 * GIB)
    assert p.details["suggested_tier"] == "standard"
    assert p.details["savings_per_month_usd"] == pytest.approx(1.65 * 730)
    assert "cannot go back to standard" in p.remediation
    # at 60 % of 8 GiB, or 1,201 seats, standard does not fit and tier-xl is the cheapest: nothing
    assert oversized("tier-xl", seats=1200, pods=100, db=4.8 * GIB) == []
    assert oversized("tier-xl", seats=1201, pods=10, db=1 * GIB) == []
    # an unknown database size never suggests standard
    assert oversized("tier-xl", seats=100, pods=1, db=None) == []


def test_the_cheapest_fitting_tier_is_suggested_at_the_configured_prices() -> None:
    (p,) = oversized("tier-8xl", seats=1000, pods=50, db=9 * GIB)
    assert p.details["suggested_tier"] == "tier-xl"
    t = TierOversizedThresholds(tier_prices_usd_per_hour={"tier-xl": 20.0})
    (q,) = oversized("tier-8xl", seats=1000, pods=50, db=9 * GIB, t=t)
    assert q.details["suggested_tier"] == "tier-2xl"
    assert q.details["savings_per_month_usd"] == pytest.approx((13.90 - 3.40) * 730)


def test_a_standard_cluster_or_too_little_history_raises_nothing() -> None:
    assert oversized("standard", seats=10, pods=1, db=GIB) == []
    (p,) = oversized("tier-2xl", seats=10, pods=1, db=GIB, days=3)
    assert isinstance(p, Unevaluated) and "3.0 days" in p.reason


def test_tier_prices_name_known_tiers() -> None:
    with pytest.raises(ConfigError, match=r"tier_prices_usd_per_hour.*tier-3xl"):
        parse_settings(
            {
                "checks": {
                    "thresholds": {
                        "control_plane.tier_oversized": {"tier_prices_usd_per_hour": {"tier-3xl": 2.0}}
                    }
                }
            }
        )


def oversized_with_hpa(period: str | None, tier: str = "tier-xl", seats: float = 1200, db: float = 4.7 * GIB):
    size = series(SIZE, [db], stat="Maximum")
    peaks = {SEATS: hourly(SEATS, seats), SCHEDULED: hourly(SCHEDULED, 100 * 60)}
    snap = snapshot(cw(size=size, peaks=peaks), tier=tier, hpa_sync_period=period)
    return list(control_plane_tier_oversized(snap, FIT, NOW))


@pytest.mark.parametrize("period", ["10s", "12s", "0.5m", "soon"])
def test_a_customised_hpa_sync_period_never_suggests_standard(period: str) -> None:
    # standard would fit these peaks, but the cluster cannot leave Provisioned mode: tier-xl is the
    # cheapest tier it may go to, and it is already there
    assert oversized_with_hpa(period) == []


@pytest.mark.parametrize("period", [None, "", "15s", "15", "0m15s"])
def test_the_default_hpa_sync_period_still_allows_standard(period: str | None) -> None:  # the near-miss
    (p,) = oversized_with_hpa(period)
    assert p.details["suggested_tier"] == "standard" and p.details["standard_excluded"] is None


def test_with_a_customised_period_the_cheapest_provisioned_fit_is_suggested_and_standard_explained() -> None:
    (p,) = oversized_with_hpa("10s", tier="tier-4xl", seats=1000)
    assert p.details["suggested_tier"] == "tier-xl"
    assert "horizontalPodAutoscalerSyncPeriod is 10s" in p.details["standard_excluded"]
    assert "set back to 15s" in p.remediation and "cannot go back to standard" not in p.remediation
