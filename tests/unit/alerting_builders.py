"""Findings, changes and scan results for the alerting tests (no AWS)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from eksmon.aws import ApiCallCounter
from eksmon.engine import ScanResult
from eksmon.models import Finding, Severity, fingerprint
from eksmon.parts import ClusterNames
from eksmon.registry import CheckSpec
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot

ACCOUNT = "123456789012"


def finding(
    check: str = "a.b",
    severity: Severity = Severity.WARNING,
    cluster: str | None = "prod",
    region: str = "us-east-1",
    resource: str = "r",
    message: str = "m",
    title: str | None = None,
) -> Finding:
    return Finding(
        check=check,
        severity=severity,
        title=title or f"{check} on {cluster or 'the account'} ({resource})",
        message=message,
        remediation=f"fix {resource}",
        docs="https://example.com/docs",
        account=ACCOUNT,
        region=region,
        cluster=cluster,
        resource=resource,
        fingerprint=fingerprint(check, ACCOUNT, region, cluster, resource),
        details={},
        observed_at="2026-11-26T12:00:00Z",
    )


class Inputs:
    """A snapshot part the fake check needs: present means the check was evaluated."""


def spec(check_id: str = "a.b", scope: str = "cluster") -> CheckSpec:
    return CheckSpec(
        id=check_id,
        title=check_id,
        monitor="lifecycle",
        scope=scope,  # type: ignore[arg-type]
        needs=(Inputs,),
        docs="https://example.com/docs",
        severity_rules="",
        fn=lambda *_: [],
    )


def result(
    findings: Sequence[Finding],
    now: datetime,
    clusters: Sequence[str] = ("prod",),
    unread: Sequence[str] = (),
    listed: bool = True,
    checks: Sequence[CheckSpec] | None = None,
    region: str = "us-east-1",
) -> ScanResult:
    """One account+region; ``unread`` clusters lack the check's inputs; ``listed`` False: ListClusters failed."""
    snap = RegionSnapshot(ACCOUNT, region)
    if listed:
        snap.parts[ClusterNames] = ClusterNames(tuple(clusters))
        for name in clusters:
            cluster = ClusterSnapshot(ACCOUNT, region, name, snap)
            if name not in unread:
                cluster.parts[Inputs] = Inputs()
            snap.clusters.append(cluster)
    return ScanResult(list(findings), [snap], ApiCallCounter(), now, 0.5, list(checks or [spec()]))
