"""Small helpers shared by checks (pure: no I/O, no clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime

HOURS_PER_MONTH = 730
DEFAULT_EXTENDED_EXTRA_PER_HOUR = 0.50  # USD per cluster-hour over standard ($0.60 vs $0.10)

# Clusters being deleted have no future to warn about.
GONE = frozenset({"DELETING"})


def today(now: datetime) -> date:
    """The calendar day of ``now`` in UTC: AWS support dates change at 00:00 UTC."""
    return now.astimezone(UTC).date()


def days_until(day: date, now: datetime) -> int:
    return (day - today(now)).days


def in_days(days: int) -> str:
    if days > 1:
        return f"in {days} days"
    if days == 1:
        return "tomorrow"
    if days == 0:
        return "today"
    return f"{-days} day{'s' if days < -1 else ''} ago"


def monthly(rate_per_hour: float) -> float:
    return round(rate_per_hour * HOURS_PER_MONTH, 2)
