"""Builders for lifecycle snapshots: checks are pure, so tests build their input directly."""

from __future__ import annotations

from datetime import date
from typing import Any

from eksmon.collectors.eks import (
    Addon,
    Addons,
    Deprecation,
    Insight,
    Insights,
    Nodegroup,
    Nodegroups,
    VersionCalendar,
)
from eksmon.parts import ClusterInfo, HealthIssue
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot
from eksmon.versions import BUNDLED_CALENDAR, VersionDates

ALL_LOGS = frozenset({"api", "audit", "authenticator", "controllerManager", "scheduler"})


def info(**overrides: Any) -> ClusterInfo:
    base: dict[str, Any] = {
        "name": "prod",
        "arn": "arn:aws:eks:us-east-1:123456789012:cluster/prod",
        "version": "1.34",
        "status": "ACTIVE",
        "platform_version": "eks.5",
        "support_type": "EXTENDED",
        "authentication_mode": "API",
        "logging_enabled": ALL_LOGS,
        "health_issues": (),
        "endpoint": None,
        "certificate_authority": None,
    }
    base.update(overrides)
    return ClusterInfo(**base)


def calendar(*extra: VersionDates, only: tuple[VersionDates, ...] | None = None) -> VersionCalendar:
    versions = {v.version: v for v in only} if only is not None else dict(BUNDLED_CALENDAR)
    versions.update({v.version: v for v in extra})
    return VersionCalendar(versions, "eks:DescribeClusterVersions")


def dates(version: str, end_standard: str | None, end_extended: str | None = None) -> VersionDates:
    return VersionDates(
        version,
        date(2024, 1, 1),
        date.fromisoformat(end_standard) if end_standard else None,
        date.fromisoformat(end_extended) if end_extended else None,
    )


def snapshot(*parts: Any, name: str = "prod") -> ClusterSnapshot:
    region = RegionSnapshot("123456789012", "us-east-1")
    snap = ClusterSnapshot("123456789012", "us-east-1", name, region)
    for part in parts:
        target = region if isinstance(part, VersionCalendar) else snap
        target.parts[type(part)] = part
    return snap


def nodegroups(*pairs: tuple[str, str | None], status: str = "ACTIVE") -> Nodegroups:
    return Nodegroups(tuple(Nodegroup(n, v, status) for n, v in pairs))


def addons(*items: Addon) -> Addons:
    return Addons(items)


def insight(
    status: str,
    category: str = "UPGRADE_READINESS",
    deprecations: tuple[Deprecation, ...] = (),
    name: str = "Deprecated APIs removed in Kubernetes v1.35",
) -> Insight:
    return Insight(
        id=f"id-{name}-{status}",
        name=name,
        category=category,
        status=status,
        reason="why",
        description="desc",
        kubernetes_version="1.35",
        deprecations=deprecations,
    )


def insights(*items: Insight) -> Insights:
    return Insights(items)


def health(*codes: str) -> tuple[HealthIssue, ...]:
    return tuple(HealthIssue(c, f"{c} happened", (f"res-{i}",)) for i, c in enumerate(codes))
