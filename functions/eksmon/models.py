"""The finding: the one thing every check produces and every publisher consumes (docs/reference.md, "Finding")."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FINDING_SCHEMA = "eksmon.scan/v1"


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical 3, warning 2, info 1."""
        return _RANK[self]

    @classmethod
    def worst(cls, severities: Any) -> Severity | None:
        found = list(severities)
        return max(found, key=lambda s: s.rank) if found else None


_RANK = {Severity.CRITICAL: 3, Severity.WARNING: 2, Severity.INFO: 1}


@dataclass(frozen=True, slots=True)
class Problem:
    """What a check returns: the problem itself, without where it was found.

    The engine turns a Problem into a Finding by adding account, region, cluster,
    the check's title and docs, the fingerprint and the observation time, so a check
    stays a pure function of its inputs.
    """

    severity: Severity
    resource: str
    message: str
    remediation: str
    details: Mapping[str, Any] = field(default_factory=dict)
    title: str | None = None  # overrides the check's title when the alert needs a sharper line
    cluster: str | None = None  # a region-scoped check names the cluster of its region it is about


@dataclass(frozen=True, slots=True)
class Unevaluated:
    """What a check yields instead of a Problem when an optional source has no data for it.

    The engine gathers them into one ``monitor.coverage`` info finding per cluster (docs/reference.md), so a
    fleet without CloudWatch series gets one line per cluster instead of one per check.
    """

    reason: str


class Finding(BaseModel):
    """One problem found. Field names and meanings are the stable contract of docs/reference.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check: str = Field(description="check id from the catalogue")
    severity: Severity
    title: str = Field(description="one line a person reads in an alert")
    message: str = Field(description="what is wrong, with the numbers, and what happens if nothing is done")
    remediation: str = Field(description="what to do")
    docs: str = Field(description="the EKS / Kubernetes page behind the check")
    account: str = Field(description="12-digit account id")
    region: str
    cluster: str | None = Field(description="null for account/region-level findings")
    resource: str = Field(description="what inside the cluster/account the finding is about")
    fingerprint: str = Field(
        description="stable across runs for check + account + region + cluster + resource"
    )
    details: dict[str, Any] = Field(default_factory=dict)
    observed_at: str = Field(description="ISO 8601 UTC")

    @property
    def scope(self) -> tuple[str, str, str | None]:
        """Account, region and cluster: the unit of one notification."""
        return (self.account, self.region, self.cluster)

    @classmethod
    def observed(
        cls,
        *,
        check: str,
        account: str,
        region: str,
        cluster: str | None,
        resource: str,
        now: datetime,
        **fields: Any,
    ) -> Finding:
        """A finding made now, its fingerprint derived from what it is about (never written by hand)."""
        return cls(
            check=check,
            account=account,
            region=region,
            cluster=cluster,
            resource=resource,
            fingerprint=fingerprint(check, account, region, cluster, resource),
            observed_at=iso_utc(now),
            **fields,
        )


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One CloudWatch metric value in namespace EKSMonitor (published as EMF)."""

    name: str
    value: float
    unit: str = "NoUnit"  # a Powertools MetricUnit name: Count, Seconds, Bytes, Percent, NoUnit
    dimensions: dict[str, str] = field(default_factory=dict)
    # True when CloudWatch has the signal already (a free AWS/EKS or AWS/Usage metric, or an eksmon series
    # it follows from): reports draw it, but it is not published (a custom series costs $0.30 a month).
    free: bool = False


def fingerprint(check: str, account: str, region: str, cluster: str | None, resource: str) -> str:
    """A stable id for the same problem across runs (not a secret; sha256 for its spread)."""
    key = "\x1f".join((check, account, region, cluster or "", resource))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
