"""control_plane.tier_oversized: a cluster pays for a Provisioned Control Plane tier it does not use.

The 14-day look-back is of hourly maxima (read in the same GetMetricData call as the etcd history):
peak seats in use, peak pods scheduled per second, peak database size. A cheaper tier fits when
every peak stays at or below 60 % of its capacities; standard mode fits when the database is below
60 % of 8 GiB, seats <= 1,200 and scheduling <= 100 pods/s. The saving is the hourly price difference
over a month, at the configured prices.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import Field, field_validator

from eksmon.checks._common import monthly
from eksmon.checks._tiers import cluster_tier
from eksmon.checks.control_plane_capacity import DOCS, LIVE
from eksmon.checks.etcd_db_size import gib
from eksmon.models import Problem, Severity, Unevaluated
from eksmon.parts import ClusterInfo
from eksmon.parts.cloudwatch import SCHEDULED, SEATS, ControlPlaneCloudWatch
from eksmon.parts.cluster import VersionCalendar
from eksmon.registry import CollectionNeeds, Thresholds, check
from eksmon.snapshot import ClusterSnapshot
from eksmon.tiers import (
    DEFAULT_TIER_PRICES_USD_PER_HOUR,
    STANDARD_CAPACITY,
    STANDARD_PODS_PER_SECOND_HINT,
    STANDARD_SEATS_HINT,
    TIER_NAMES,
    TierCapacity,
    tiers_by_price,
)


class TierOversizedThresholds(Thresholds):
    fit_percent: float = Field(
        60.0, gt=0, le=100, description="a cheaper tier fits when every peak is at most this share of it"
    )
    lookback_days: float = Field(14.0, ge=1, le=14, description="hourly maxima of this many days")
    min_days_of_data: float = Field(
        7.0, ge=0, le=14, description="fewer days of hourly maxima than this: no verdict (monitor.coverage)"
    )
    tier_prices_usd_per_hour: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_TIER_PRICES_USD_PER_HOUR),
        description="add-on price per hour of each tier (us-east-1 list prices by default)",
    )

    @field_validator("tier_prices_usd_per_hour")
    @classmethod
    def _prices(cls, value: dict[str, float]) -> dict[str, float]:
        for name, price in value.items():
            if name not in TIER_NAMES:
                raise ValueError(f"unknown tier {name!r} (known: {', '.join(TIER_NAMES)})")
            if price < 0:
                raise ValueError(f"{name}: a price cannot be negative")
        return {**DEFAULT_TIER_PRICES_USD_PER_HOUR, **value}

    def collection_needs(self) -> CollectionNeeds:
        return CollectionNeeds(peak_days=self.lookback_days)


# The EKS user guide (Advanced control plane configuration, "Exit restriction for HPA sync period"): a
# cluster whose horizontalPodAutoscalerSyncPeriod is not the default 15 s cannot leave Provisioned mode;
# the setting needs Provisioned Control Plane. A cluster cannot leave it either while its database is over
# the 8 GB standard mode holds (Provisioned Control Plane, "Exiting limitations"): ``fits`` requires less.
DEFAULT_HPA_SYNC_SECONDS = 15.0


def standard_blocked_by(hpa_sync_period: str | None) -> str | None:
    """Why the cluster may not go back to standard mode, or None (unset or the default period)."""
    if hpa_sync_period is None or not hpa_sync_period.strip():
        return None
    seconds = _seconds(hpa_sync_period.strip())
    if seconds == DEFAULT_HPA_SYNC_SECONDS:
        return None
    return (
        f"horizontalPodAutoscalerSyncPeriod is {hpa_sync_period.strip()} (default 15s), a setting only "
        "Provisioned Control Plane allows"
    )


def _seconds(text: str) -> float | None:
    """A Go-style duration ("15s", "1m", "10s500ms") or plain seconds; None when it does not parse."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    unit = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * unit[u] for n, u in parts)


def fits(tier: TierCapacity, seats: float, pods: float, db_bytes: float | None, fit_percent: float) -> bool:
    """True when the peaks stay within ``fit_percent`` of the tier (standard: SPEC's fixed rule)."""
    share = fit_percent / 100.0
    if not tier.provisioned:
        return (
            db_bytes is not None
            and db_bytes < share * tier.db_bytes
            and seats <= STANDARD_SEATS_HINT
            and pods <= STANDARD_PODS_PER_SECOND_HINT
        )
    if tier.seats is None or tier.pods_per_second is None:
        return False
    db_ok = db_bytes is None or db_bytes <= share * tier.db_bytes
    return seats <= share * tier.seats and pods <= share * tier.pods_per_second and db_ok


@check(
    id="control_plane.tier_oversized",
    title="Provisioned Control Plane tier larger than the cluster needs",
    monitor="metrics",
    needs=(ClusterInfo, ControlPlaneCloudWatch),
    uses=(VersionCalendar,),
    docs=DOCS,
    severity_rules="warning when 14 days of hourly peaks (seats, pods scheduled/s, database size) all stay "
    "<= 60 % of a cheaper tier's capacities (standard: database < 60 % of 8 GiB, seats <= 1,200, <= 100 "
    "pods/s); states the monthly saving at the configured tier prices",
    thresholds=TierOversizedThresholds,
    sources=(
        "eks:DescribeCluster controlPlaneScalingConfig",
        "eks:DescribeClusterVersions controlPlaneScalingTiers",
        "cloudwatch:GetMetricData AWS/EKS hourly maxima (14 days)",
    ),
)
def control_plane_tier_oversized(
    snap: ClusterSnapshot, t: TierOversizedThresholds, now: datetime
) -> Iterator[Problem | Unevaluated]:
    info = snap.get(ClusterInfo)
    cloudwatch = snap.get(ControlPlaneCloudWatch)
    tier = cluster_tier(snap)
    if info.status not in LIVE or cloudwatch.error is not None:
        return
    if tier.capacity is None or not tier.capacity.provisioned:
        return  # standard pays nothing extra; an unknown tier is control_plane.capacity's info
    series = cloudwatch.cluster(snap.name)
    start = now - timedelta(days=t.lookback_days)
    seats_points = series.peaks[SEATS].between(start, now) if series and SEATS in series.peaks else ()
    sched_points = series.peaks[SCHEDULED].between(start, now) if series and SCHEDULED in series.peaks else ()
    if not seats_points:
        yield Unevaluated(
            f"CloudWatch has no hourly maxima of {SEATS} over the last {t.lookback_days:g} days"
        )
        return
    days = (seats_points[-1][0] - seats_points[0][0]).total_seconds() / 86400 + 1 / 24
    if days < t.min_days_of_data:
        yield Unevaluated(
            f"only {days:.1f} days of hourly maxima of {SEATS} (at least {t.min_days_of_data:g} needed to "
            "judge the tier)"
        )
        return
    seats = max(v for _, v in seats_points)
    pods = max((v for _, v in sched_points), default=0.0) / 60.0
    size_points = series.size.between(start, now) if series and series.size else ()
    db = max((v for _, v in size_points), default=None)
    prices = t.tier_prices_usd_per_hour
    current_price = prices.get(tier.name)
    if current_price is None:
        return
    options = [(STANDARD_CAPACITY, prices.get("standard", 0.0)), *tiers_by_price(prices, tier.api_tiers)]
    cheaper = [
        (c, p)
        for c, p in sorted(options, key=lambda cp: cp[1])
        if p < current_price and c.name != tier.name and fits(c, seats, pods, db, t.fit_percent)
    ]
    blocked = standard_blocked_by(info.hpa_sync_period)
    standard_excluded = blocked if blocked and any(not c.provisioned for c, _ in cheaper) else None
    if blocked:  # never suggest a move the user guide forbids
        cheaper = [(c, p) for c, p in cheaper if c.provisioned]
    if not cheaper:
        return
    suggested, price = cheaper[0]
    saving = monthly(current_price - price)
    db_text = f"a database of {gib(db)}" if db is not None else "an unknown database size"
    yield Problem(
        Severity.WARNING,
        "control-plane",
        f"Cluster {snap.name} pays for Provisioned Control Plane {tier.name} (${current_price:.2f}/h) but "
        f"its peaks over the last {t.lookback_days:g} days -- {seats:,.0f} seats in use, {pods:,.1f} pods "
        f"scheduled per second, {db_text} -- stay within {t.fit_percent:g} % of {suggested.name}. Moving "
        f"to {suggested.name} saves ${saving:,.2f} a month.",
        f"Move the cluster to {suggested.name} (UpdateClusterConfig controlPlaneScalingConfig.tier; tiers "
        "change only when asked and have no minimum time) before a quiet period, and watch "
        "control_plane.capacity afterwards. Keep the tier if a known peak (a launch, a batch season) is "
        "coming."
        + (
            " A cluster cannot go back to standard while its database is over 8 GB."
            if not suggested.provisioned
            else ""
        )
        + (
            f" Standard mode would fit too, but {standard_excluded}: it cannot leave Provisioned mode until "
            "the period is set back to 15s."
            if standard_excluded
            else ""
        ),
        {
            "tier": tier.name,
            "suggested_tier": suggested.name,
            "savings_per_month_usd": saving,
            "seats_peak": seats,
            "scheduling_peak_per_second": round(pods, 2),
            "db_bytes_peak": int(db) if db is not None else None,
            "lookback_days": t.lookback_days,
            "standard_excluded": standard_excluded,
        },
        title=f"{snap.name}: {tier.name} is oversized; {suggested.name} saves ${saving:,.0f}/month",
    )


__all__ = ["TierOversizedThresholds", "control_plane_tier_oversized", "fits"]
