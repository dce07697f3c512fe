"""Small helpers shared by checks (pure: no I/O, no clock)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from eksmon.parts.cluster import HealthIssue

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


@dataclass(frozen=True, slots=True)
class IssueGroup:
    """Every health issue EKS reports under one code: its first message, the resources it names."""

    code: str
    message: str
    resource_ids: list[str]

    @property
    def said(self) -> str:
        """``: <message>.`` (a full stop added only when the message has none), or ``.`` without one."""
        text = self.message.strip()
        return f"{': ' + text if text else ''}{'' if text.endswith('.') else '.'}"

    @property
    def affected(self) -> str:
        return f" Affected: {', '.join(self.resource_ids)}." if self.resource_ids else ""


def issues_by_code(issues: Iterable[HealthIssue]) -> list[IssueGroup]:
    """One group per issue code, by code; a resource named twice under a code is listed once."""
    resources: dict[str, list[str]] = {}
    messages: dict[str, str] = {}
    for issue in issues:
        found = resources.setdefault(issue.code, [])
        found.extend(r for r in issue.resource_ids if r not in found)
        messages.setdefault(issue.code, issue.message)
    return [IssueGroup(code, messages[code], ids) for code, ids in sorted(resources.items())]
