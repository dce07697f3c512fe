"""quota.utilization: an AWS service quota an EKS fleet depends on is nearly used up.

Usage against the applied quota value (the AWS default when no value is applied), for every quota
of ``eksmon.quotas_catalogue``. Region and account quotas give findings without a cluster; per-cluster
quotas give findings with ``cluster`` set, and per-node-group quotas also name the node group in
``resource``. Where the usage metric has history, the linear trend of the last 7 days gives the days
to exhaustion.

The check runs once per account and region, after the clusters: it reads the region's quota
limits and usage, and each cluster's own counts (``cluster_needs``); per-cluster problems name
their cluster, so their findings carry it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, model_validator

from eksmon.models import MetricPoint, Problem, Severity
from eksmon.parts.quotas import (
    ClusterQuotaUsage,
    CountedUsage,
    Key,
    MetricUsage,
    QuotaLimit,
    QuotaLimits,
    UsageReading,
)
from eksmon.quotas_catalogue import BY_CODE, CatalogueQuota, console_url, global_quota_region
from eksmon.registry import Thresholds, check, metric_source
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot

CHECK_ID = "quota.utilization"
DOCS = "https://docs.aws.amazon.com/eks/latest/best-practices/known_limits_and_service_quotas.html"
SEVERITY_RULES = (
    "warning >= 80 %, critical >= 95 % of the applied quota value (the AWS default when none is applied); "
    "both configurable globally and per quota code; optionally a warning when the usage trend reaches the "
    "limit within N days"
)
_QUOTA_KEY = re.compile(r"^(?:(?P<service>[a-z0-9-]+)/)?(?P<code>L-[0-9A-F]{8})$")
MIN_TREND_POINTS = 6
MIN_TREND_SPAN = timedelta(days=1)


class QuotaOverride(Thresholds):
    warning_percent: float | None = Field(None, gt=0, description="this quota's warning level (percent)")
    critical_percent: float | None = Field(None, gt=0, description="this quota's critical level (percent)")
    enabled: bool = Field(True, description="false: never report this quota")


class QuotaUtilizationThresholds(Thresholds):
    warning_percent: float = Field(80.0, gt=0, description="warn at this percentage of the quota or more")
    critical_percent: float = Field(95.0, gt=0)
    warning_days_to_exhaustion: float | None = Field(
        None,
        gt=0,
        description="also warn when the 7-day usage trend reaches the quota within this many days (off by default)",
    )
    quotas: dict[str, QuotaOverride] = Field(
        default_factory=dict, description="per quota: keyed by quota code (L-1216C47A) or service/code"
    )

    @model_validator(mode="after")
    def _consistent(self) -> QuotaUtilizationThresholds:
        if self.critical_percent < self.warning_percent:
            raise ValueError(
                f"critical_percent ({self.critical_percent:g}) must not be below warning_percent "
                f"({self.warning_percent:g})"
            )
        for key in self.quotas:
            quota = _catalogue_quota(key)
            warning, critical, _ = self.levels(quota)
            if critical < warning:
                raise ValueError(
                    f"quotas.{key}: critical_percent ({critical:g}) must not be below warning_percent ({warning:g})"
                )
        return self

    def levels(self, quota: CatalogueQuota) -> tuple[float, float, bool]:
        """(warning percent, critical percent, enabled) for one quota."""
        override = self.quotas.get(quota.quota_code) or self.quotas.get(
            f"{quota.service_code}/{quota.quota_code}"
        )
        if override is None:
            return self.warning_percent, self.critical_percent, True
        warning = override.warning_percent if override.warning_percent is not None else self.warning_percent
        critical = (
            override.critical_percent if override.critical_percent is not None else self.critical_percent
        )
        return warning, critical, override.enabled


def _catalogue_quota(key: str) -> CatalogueQuota:
    m = _QUOTA_KEY.match(key)
    if m is None:
        raise ValueError(f"quotas.{key}: not a quota code; write L-XXXXXXXX or service/L-XXXXXXXX")
    quota = BY_CODE.get(m.group("code"))
    if quota is None or (m.group("service") and m.group("service") != quota.service_code):
        raise ValueError(
            f"quotas.{key}: eksmon does not watch this quota (`eksmon checks` lists the ones it does)"
        )
    return quota


# -- the check -----------------------------------------------------------------------------------------
@check(
    id=CHECK_ID,
    title="AWS service quota nearly used up",
    monitor="quotas",
    scope="region",
    needs=(QuotaLimits,),
    # usage from metrics or from counts: either may be missing (reported) without hiding the other
    uses=(MetricUsage, CountedUsage),
    # the cluster counts come first, so the Clusters quota can reuse the cluster list
    cluster_needs=(ClusterQuotaUsage,),
    docs=DOCS,
    severity_rules=SEVERITY_RULES,
    thresholds=QuotaUtilizationThresholds,
    sources=("Service Quotas", "CloudWatch AWS/Usage", "EC2, ELB, EKS and IAM List/Describe counts"),
)
def quota_utilization(
    snap: RegionSnapshot, t: QuotaUtilizationThresholds, now: datetime
) -> Iterator[Problem]:
    yield from region_quota_utilization(snap, t, now)
    for cluster in snap.clusters:
        if cluster.has(ClusterQuotaUsage):
            yield from cluster_quota_utilization(cluster, t, now)


def region_quota_utilization(
    snap: RegionSnapshot, t: QuotaUtilizationThresholds, now: datetime
) -> Iterator[Problem]:
    readings = {
        **(snap.get(CountedUsage).readings if snap.has(CountedUsage) else {}),
        **(snap.get(MetricUsage).readings if snap.has(MetricUsage) else {}),
    }
    for limit in snap.get(QuotaLimits).limits:
        if limit.quota.scope not in {"region", "account"}:
            continue
        reading = readings.get(limit.quota.key)
        if reading is not None:
            problem = assess(limit, reading, t, snap.region, now)
            if problem is not None:
                yield problem


def cluster_quota_utilization(
    snap: ClusterSnapshot, t: QuotaUtilizationThresholds, now: datetime
) -> Iterator[Problem]:
    limits = snap.get(QuotaLimits)
    for reading in snap.get(ClusterQuotaUsage).readings:
        limit = limits.get(reading.key)
        if limit is not None:
            problem = assess(limit, reading, t, snap.region, now, cluster=snap.name)
            if problem is not None:
                yield problem


# -- evaluation (pure) --------------------------------------------------------------------------------
def assess(
    limit: QuotaLimit,
    reading: UsageReading,
    t: QuotaUtilizationThresholds,
    region: str,
    now: datetime,
    cluster: str | None = None,
) -> Problem | None:
    """The finding for one quota's usage, or None when it is below every threshold."""
    quota = limit.quota
    warning, critical, enabled = t.levels(quota)
    usage, cap = reading.value, limit.value
    if not enabled or (cap <= 0 and usage <= 0):
        return None
    percent = usage / cap * 100 if cap > 0 else math.inf
    days, growth = days_to_exhaustion(reading.history, cap, now)
    if percent >= critical:
        severity = Severity.CRITICAL
    elif percent >= warning or (
        t.warning_days_to_exhaustion is not None and days is not None and days <= t.warning_days_to_exhaustion
    ):
        severity = Severity.WARNING
    else:
        return None
    shown = round(percent, 1) if math.isfinite(percent) else None
    details: dict[str, Any] = {
        "service_code": quota.service_code,
        "quota_code": quota.quota_code,
        "quota_name": limit.name,
        "usage": _number(usage),
        "limit": _number(cap),
        "percent": shown,
        "limit_source": limit.source,
        "usage_source": reading.source,
        "adjustable": limit.adjustable,
        "scope": quota.scope,
        "days_to_exhaustion": days,
        "growth_per_day": growth,
        **reading.details,
    }
    return Problem(
        severity=severity,
        resource=f"nodegroup/{reading.resource}/{quota.resource}" if reading.resource else quota.resource,
        title=_title(limit, reading, shown),
        message=_message(limit, reading, shown, days, growth, region, cluster),
        remediation=_remediation(limit, usage, region),
        details=details,
        cluster=cluster,
    )


def days_to_exhaustion(
    history: Sequence[tuple[datetime, float]], limit: float, now: datetime
) -> tuple[float | None, float | None]:
    """(days until the least-squares trend of the history reaches the limit, growth per day).

    None for either when the history is too short (fewer than 6 points or less than a day) and
    None days when usage is flat or falling.
    """
    points = [(ts, v) for ts, v in history if ts <= now]
    if len(points) < MIN_TREND_POINTS or points[-1][0] - points[0][0] < MIN_TREND_SPAN:
        return None, None
    origin = points[0][0]
    xs = [(ts - origin) / timedelta(days=1) for ts, _ in points]
    ys = [v for _, v in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    growth = round(slope, 2)
    if slope <= 1e-9 or limit <= 0:
        return None, growth
    return round(max(0.0, (limit - ys[-1]) / slope), 1), growth


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


def _fmt(value: float) -> str:
    number = _number(value)
    return f"{number:,}" if isinstance(number, int) else f"{number:,.2f}"


def _title(limit: QuotaLimit, reading: UsageReading, percent: float | None) -> str:
    used = f"{percent:g} %" if percent is not None else "over its zero limit"
    if reading.resource:
        return f"Node group {reading.resource}: {_fmt(reading.value)} of {_fmt(limit.value)} nodes ({used})"
    return f"{limit.name}: {used} of the quota used"


def _message(
    limit: QuotaLimit,
    reading: UsageReading,
    percent: float | None,
    days: float | None,
    growth: float | None,
    region: str,
    cluster: str | None,
) -> str:
    quota = limit.quota
    if reading.resource:
        where = f"Node group {reading.resource} of cluster {cluster}"
    elif cluster:
        where = f"Cluster {cluster}"
    elif quota.global_quota:
        where = "The account (IAM quotas hold for all regions)"
    else:
        where = f"Region {region}"
    source = "applied value" if limit.source == "applied" else "AWS default value; no increase is applied"
    share = f"{percent:g} %" if percent is not None else "more than the quota of 0"
    text = (
        f"{where} uses {_fmt(reading.value)} of {_fmt(limit.value)} for the quota {limit.name} "
        f"({quota.service_code}/{quota.quota_code}, {source}): {share}."
    )
    if days is not None and growth is not None:
        text += (
            " It is already at the limit."
            if days == 0
            else f" At the growth of the last 7 days ({growth:+g} a day) it runs out in about {days:g} days."
        )
    max_size = reading.details.get("max_size")
    if reading.resource and isinstance(max_size, (int, float)) and max_size > limit.value:
        text += f" Its maxSize ({max_size}) is above the quota, so scaling up will fail before reaching it."
    return f"{text} When it runs out, {quota.impact}."


def _remediation(limit: QuotaLimit, usage: float, region: str) -> str:
    quota = limit.quota
    if not limit.adjustable:
        return (
            f"This quota cannot be raised: {quota.relief}, or spread the load over more regions or accounts."
        )
    where = global_quota_region(region) if quota.global_quota else region
    desired = math.ceil(max(usage * 2, limit.value * 1.5, 1))
    return (
        f"Request an increase in Service Quotas ({console_url(quota.service_code, quota.quota_code, where)}), "
        f"e.g. `aws service-quotas request-service-quota-increase --service-code {quota.service_code} "
        f"--quota-code {quota.quota_code} --desired-value {desired} --region {where}`; meanwhile {quota.relief}."
    )


# -- CloudWatch: utilisation per quota ------------------------------------------------------------------
PUBLISH_FROM_PERCENT = 50.0  # below this a counted quota is not published (see quota_utilization_percent)


@metric_source(monitor="quotas", needs=(QuotaLimits,), scope="region")
def quota_utilization_percent(snap: RegionSnapshot, _now: datetime) -> Iterator[MetricPoint]:
    """QuotaUtilization (Percent) per Service+QuotaCode; per-cluster quotas give the region's highest.

    A quota whose usage is its AWS/Usage metric is free (not published): the dashboard divides that metric
    by ``SERVICE_QUOTA()`` itself. Only counted usage becomes a custom metric, and only from
    ``PUBLISH_FROM_PERCENT`` up: a quota far from its limit needs no graph (and every series is $0.30 a month
    per account and region); its reading is in the reports and findings all the same.
    """
    limits = snap.get(QuotaLimits)
    worst: dict[Key, float] = {}
    metered = set(snap.get(MetricUsage).readings) if snap.has(MetricUsage) else set()
    for limit, reading in _pairs(snap, limits):
        if limit.value > 0:
            key = limit.quota.key
            worst[key] = max(worst.get(key, 0.0), reading.value / limit.value * 100)
    for (service, code), percent in sorted(worst.items()):
        yield MetricPoint(
            "QuotaUtilization",
            round(percent, 2),
            "Percent",
            {"Service": service, "QuotaCode": code},
            free=(service, code) in metered or percent < PUBLISH_FROM_PERCENT,
        )


def _pairs(snap: RegionSnapshot, limits: QuotaLimits) -> Iterable[tuple[QuotaLimit, UsageReading]]:
    readings: list[UsageReading] = []
    if snap.has(CountedUsage):
        readings.extend(snap.get(CountedUsage).readings.values())
    if snap.has(MetricUsage):
        readings.extend(snap.get(MetricUsage).readings.values())
    for cluster in snap.clusters:
        if cluster.has(ClusterQuotaUsage):
            readings.extend(cluster.get(ClusterQuotaUsage).readings)
    for reading in readings:
        limit = limits.get(reading.key)
        if limit is not None:
            yield limit, reading
