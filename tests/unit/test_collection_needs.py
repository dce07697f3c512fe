"""Collectors read what the scan's checks evaluate, passed by the engine, never looked up by name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eksmon.engine import Scanner
from eksmon.registry import CollectionNeeds, load
from eksmon.settings import parse_settings

REGISTRY = load()
NOW = datetime(2026, 6, 1, tzinfo=UTC)
# threshold fields that set how much is collected -> the need each one must be reported as
WINDOW_FIELDS = {
    "lookback_hours": "lookback_hours",
    "scrape_samples": "scrape_samples",
    "lookback_days": "peak_days",
}


def _needs(
    config: dict[str, object], patterns: tuple[str, ...] = (), window_minutes: int | None = None
) -> CollectionNeeds:
    settings = parse_settings(config)
    return Scanner(
        settings, REGISTRY.select(patterns), NOW, registry=REGISTRY, window_minutes=window_minutes
    ).needs


def test_the_engine_passes_the_scans_window_and_the_largest_look_backs_of_the_selected_checks() -> None:
    needs = _needs(
        {
            "checks": {
                "thresholds": {
                    "etcd.db_growth": {"lookback_hours": 72},
                    "version.deprecated_api_in_use": {"scrape_samples": 5},
                }
            }
        },
        window_minutes=60,
    )
    # control_plane.tier_oversized reads 14 days of hourly maxima; auth.break_glass names its admin policies
    assert needs == CollectionNeeds(
        window_minutes=60,
        lookback_hours=72,
        scrape_samples=5,
        peak_days=14,
        updates_per_resource=25,  # cluster.update_failed's bound on DescribeUpdate per resource
        admin_access_policies=(
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
        ),
    )


def test_a_check_left_out_of_the_scan_does_not_widen_what_is_read() -> None:
    config = {"checks": {"thresholds": {"etcd.db_growth": {"lookback_hours": 300}}}}
    assert _needs(config, ("apiserver.latency",)).lookback_hours is None
    assert _needs(config, ("version.*",)) == CollectionNeeds(scrape_samples=3)


def test_the_window_is_the_scans_and_no_check_sets_its_own() -> None:
    assert _needs({}, ("apiserver.*",), window_minutes=45).window_minutes == 45
    assert _needs({}, ("apiserver.*",)).window_minutes is None  # the collector's default: an hour


def test_merge_keeps_the_largest_of_each_and_ignores_none() -> None:
    a = CollectionNeeds(window_minutes=15, scrape_samples=2)
    b = CollectionNeeds(window_minutes=5, lookback_hours=24)
    assert a.merge(b) == CollectionNeeds(window_minutes=15, lookback_hours=24, scrape_samples=2)
    assert CollectionNeeds().merge(CollectionNeeds()) == CollectionNeeds()


@pytest.mark.parametrize("check_id", sorted(REGISTRY.checks))
def test_a_threshold_that_sets_a_window_is_reported_to_the_collectors(check_id: str) -> None:
    """A new check with a window threshold must say so in collection_needs(), or nothing reads that far."""
    thresholds = REGISTRY.checks[check_id].thresholds()
    reported = thresholds.collection_needs()
    for name, need in WINDOW_FIELDS.items():
        if name in type(thresholds).model_fields:
            assert getattr(reported, need) == getattr(thresholds, name), f"{check_id}.{name}"
    if "lookback_days" in type(thresholds).model_fields:  # days of hourly maxima
        assert reported.peak_days == thresholds.lookback_days, check_id  # type: ignore[attr-defined]
