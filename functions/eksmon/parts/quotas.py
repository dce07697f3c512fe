"""Service quotas: their applied or default limits, and the usage read from CloudWatch or counted
through the APIs (``collectors/quota_limits.py`` and ``collectors/quota_usage.py`` fill them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from eksmon.quotas_catalogue import CatalogueQuota

Key = tuple[str, str]  # (service code, quota code)


# -- parts --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UsageMetric:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str

    def describe(self) -> str:
        dims = ", ".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.namespace} {self.name} ({dims}), {self.statistic}"


@dataclass(frozen=True, slots=True)
class QuotaLimit:
    quota: CatalogueQuota
    name: str  # as Service Quotas names it today
    value: float
    source: Literal["applied", "default"]
    adjustable: bool
    usage_metric: UsageMetric | None = None


@dataclass(frozen=True, slots=True)
class SkippedQuota:
    service_code: str
    quota_code: str
    reason: str


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    """The limits of this account+region (and of the account's global quotas in its first region)."""

    limits: tuple[QuotaLimit, ...]
    skipped: tuple[SkippedQuota, ...] = ()
    reports_global: bool = False

    def get(self, key: Key) -> QuotaLimit | None:
        return next((lim for lim in self.limits if lim.quota.key == key), None)


# -- parts --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UsageReading:
    key: Key
    value: float
    source: str  # what the value was read from, for people
    history: tuple[tuple[datetime, float], ...] = ()  # oldest first (metric usage only)
    resource: str | None = None  # the node group, for per-node-group quotas
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MetricUsage:
    readings: dict[Key, UsageReading]
    no_data: frozenset[Key] = frozenset()  # usage metric without datapoints in the look-back window
    failed: frozenset[Key] = frozenset()  # GetMetricData could not read it (reported)


@dataclass(frozen=True, slots=True)
class CountedUsage:
    readings: dict[Key, UsageReading]


@dataclass(frozen=True, slots=True)
class ClusterQuotaUsage:
    readings: tuple[UsageReading, ...]
