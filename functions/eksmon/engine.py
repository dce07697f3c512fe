"""The engine: collect -> evaluate -> findings, for every account, region and cluster at once.

Collectors do all I/O and put typed parts into snapshots; checks are pure functions of
(snapshot, thresholds, now). A failing source becomes a ``monitor.collection_error`` finding
for that account, region or cluster only: nothing else is hidden by it.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3

from eksmon.accounts import resolve_accounts
from eksmon.aws import ApiCallCounter, AwsAccount, client_config, error_code, error_operation
from eksmon.context import COLLECTION_ERROR, CollectContext, RegionMemo, Services, collection_error
from eksmon.errors import ScanAborted
from eksmon.models import Finding, Problem, Severity, Unevaluated, fingerprint, iso_utc
from eksmon.parts import ClusterNames
from eksmon.registry import CheckSpec, CollectionNeeds, CollectorSpec, Registry, Thresholds, load
from eksmon.settings import Settings
from eksmon.snapshot import ClusterSnapshot, MissingData, RegionSnapshot

log = logging.getLogger(__name__)

COVERAGE = "monitor.coverage"
COVERAGE_DOCS = "https://github.com/eksmon/eksmon#what-it-catches"


@dataclass(frozen=True)
class Target:
    """One account and region to scan."""

    account: AwsAccount
    region: str


@dataclass
class ScanResult:
    findings: list[Finding]
    regions: list[RegionSnapshot]
    api_calls: ApiCallCounter
    started_at: datetime
    duration_seconds: float
    checks: list[CheckSpec]
    thresholds: dict[str, Thresholds] = field(default_factory=dict)  # check id -> as configured for the scan

    @property
    def clusters(self) -> list[ClusterSnapshot]:
        return [c for r in self.regions for c in r.clusters]

    def summary(self) -> dict[str, Any]:
        by_severity = {s.value: 0 for s in Severity}
        for f in self.findings:
            by_severity[f.severity.value] += 1
        return {
            "findings": len(self.findings),
            "by_severity": by_severity,
            "accounts": len({r.account for r in self.regions}),
            "regions": len(self.regions),
            "clusters": len(self.clusters),
            "checks": len(self.checks),
            "collection_errors": sum(1 for f in self.findings if f.check == COLLECTION_ERROR),
            "api_calls": self.api_calls.total,
            "duration_seconds": round(self.duration_seconds, 3),
        }


def coverage_finding(
    account: str, region: str, cluster: str | None, unevaluated: Sequence[tuple[str, str]], now: datetime
) -> Finding:
    """One info finding naming every check that an optional source left without data (SPEC.md)."""
    where = f"cluster {cluster}" if cluster else f"{account}/{region}"
    checks = sorted({c for c, _ in unevaluated})
    lines = "; ".join(f"{c}: {reason}" for c, reason in unevaluated)
    resource = "coverage"
    return Finding(
        check=COVERAGE,
        severity=Severity.INFO,
        title=f"{len(checks)} check{'s' if len(checks) != 1 else ''} could not be evaluated for {where}",
        message=f"eksmon could not evaluate {', '.join(checks)} for {where}, because a source has no "
        f"data for it: {lines}.",
        remediation="Upgrade the cluster's platform version so that it publishes the free AWS/EKS "
        "control-plane metrics (Kubernetes 1.28+), or turn on the CloudWatch Observability add-on, or grant "
        "the monitor `get` on the non-resource URL /metrics (`eksmon rbac`); a new cluster needs a few hours "
        "of history.",
        docs=COVERAGE_DOCS,
        account=account,
        region=region,
        cluster=cluster,
        resource=resource,
        fingerprint=fingerprint(COVERAGE, account, region, cluster, resource),
        details={"unevaluated": [{"check": c, "reason": reason} for c, reason in unevaluated]},
        observed_at=iso_utc(now),
    )


def to_finding(
    spec: CheckSpec, problem: Problem, account: str, region: str, cluster: str | None, now: datetime
) -> Finding:
    return Finding(
        check=spec.id,
        severity=problem.severity,
        title=problem.title or spec.title,
        message=problem.message,
        remediation=problem.remediation,
        docs=spec.docs,
        account=account,
        region=region,
        cluster=cluster,
        resource=problem.resource,
        fingerprint=fingerprint(spec.id, account, region, cluster, problem.resource),
        details=dict(problem.details),
        observed_at=iso_utc(now),
    )


ProgressFn = Callable[[int, int], None]


class Scanner:
    """Runs the selected checks over every target. One instance per scan."""

    def __init__(
        self,
        settings: Settings,
        checks: Sequence[CheckSpec],
        now: datetime,
        session_factory: Callable[..., boto3.Session] = boto3.Session,
        services: Services | None = None,
        progress: ProgressFn | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.settings = settings
        self.checks = list(checks)
        # validated once per scan, not once per check and cluster
        self.thresholds = {spec.id: settings.thresholds_for(spec) for spec in self.checks}
        self.needs = functools.reduce(
            CollectionNeeds.merge, (t.collection_needs() for t in self.thresholds.values()), CollectionNeeds()
        )
        self.now = now
        self.session_factory = session_factory
        self.services = services or Services()
        self.progress = progress
        self.registry = registry or load()
        self.counter = ApiCallCounter()
        collectors = self.registry.collectors_for(self.checks)
        self.region_collectors = [c for c in collectors if c.scope == "region"]
        self.cluster_collectors = [c for c in collectors if c.scope == "cluster"]
        self._findings: list[Finding] = []
        self._lock = threading.Lock()

    # -- public ------------------------------------------------------------------------------------
    def run(self) -> ScanResult:
        started = time.monotonic()
        targets = self._targets()
        regions = [RegionSnapshot(account=t.account.account_id, region=t.region) for t in targets]
        workers = self.settings.max_workers
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eksmon-region") as pool:
            list(pool.map(self._collect_region, targets, regions))
        jobs = [(t, r, c) for t, r in zip(targets, regions, strict=True) for c in r.clusters]
        done = 0
        if self.progress:
            self.progress(0, len(jobs))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eksmon-cluster") as pool:
            for _ in pool.map(lambda job: self._scan_cluster(*job), jobs):
                done += 1
                if self.progress:
                    self.progress(done, len(jobs))
        for target, region in zip(targets, regions, strict=True):
            self._evaluate(region, "region", target.region)
        findings = sorted(self._findings, key=_order)
        return ScanResult(
            findings,
            regions,
            self.counter,
            self.now,
            time.monotonic() - started,
            self.checks,
            dict(self.thresholds),
        )

    # -- targets -----------------------------------------------------------------------------------
    def _targets(self) -> list[Target]:
        try:
            base = self.session_factory()
        except Exception as exc:
            raise ScanAborted(f"cannot create an AWS session: {exc}") from exc
        # boto3 reads AWS_DEFAULT_REGION; AWS_REGION (Lambda, most SDKs) is honoured too
        current = base.region_name or os.environ.get("AWS_REGION")
        regions = list(self.settings.regions) or ([current] if current else [])
        if not regions:
            raise ScanAborted("no AWS region: set regions in the configuration, --region, or AWS_REGION")
        config = client_config(self.settings.aws, pool=max(10, self.settings.max_workers * 2))
        accounts, failures = resolve_accounts(
            base, self.settings, config, self.counter, regions[0], self.session_factory
        )
        for account_id, error in failures:
            for region in regions:
                self._add([collection_error(account_id, region, None, "sts:AssumeRole", error, self.now)])
        return [Target(a, r) for a in accounts for r in regions]

    # -- collection --------------------------------------------------------------------------------
    def _context(
        self, target: Target, region: RegionSnapshot, cluster: ClusterSnapshot | None
    ) -> CollectContext:
        return CollectContext(
            account=target.account.account_id,
            region=target.region,
            aws=target.account,
            settings=self.settings,
            now=self.now,
            region_snapshot=region,
            cluster_snapshot=cluster,
            services=self.services,
            needs=self.needs,
        )

    def _collect_region(self, target: Target, region: RegionSnapshot) -> None:
        region.parts[RegionMemo] = RegionMemo()
        ctx = self._context(target, region, None)
        self._run_collectors(self.region_collectors, ctx, region.parts)
        if self.cluster_collectors and region.has(ClusterNames):
            region.clusters = [
                ClusterSnapshot(region.account, region.region, name, region)
                for name in region.get(ClusterNames).names
            ]

    def _scan_cluster(self, target: Target, region: RegionSnapshot, cluster: ClusterSnapshot) -> None:
        ctx = self._context(target, region, cluster)
        self._run_collectors(self.cluster_collectors, ctx, cluster.parts)
        self._evaluate(cluster, "cluster", target.region)

    def _run_collectors(
        self, collectors: Iterable[CollectorSpec], ctx: CollectContext, parts: dict[type, Any]
    ) -> None:
        kube_down: BaseException | None = None  # the cluster's API refused us or cannot be reached
        kube_skipped: list[CollectorSpec] = []
        for spec in collectors:
            if spec.kube and not self.settings.kubernetes.enabled:
                continue  # the operator asked not to read the clusters: their checks are skipped, quietly
            if spec.kube and kube_down is not None:
                kube_skipped.append(spec)  # one root cause, one finding: the cluster is not asked again
                continue
            if any(not (ctx.cluster_snapshot or ctx.region_snapshot).has(n) for n in spec.needs):
                continue  # what it reads is missing; that failure is already reported
            try:
                parts[spec.provides] = spec.fn(ctx)
                if spec.kube and ctx.kubernetes_down is not None:  # a collector that keeps a part
                    kube_down = ctx.kubernetes_down
                    kube_skipped.append(spec)
            except Exception as exc:  # noqa: BLE001 - any source failure becomes a finding, never a crash
                if spec.kube and getattr(exc, "cluster_wide", False):
                    kube_down = exc
                    kube_skipped.append(spec)
                    continue
                source = _source_name(spec, exc)
                log.warning(
                    "collector %s failed for %s/%s/%s: %s",
                    spec.name,
                    ctx.account,
                    ctx.region,
                    ctx.cluster or "-",
                    error_code(exc),
                )
                ctx.report(source, exc)
        if kube_down is not None:
            log.warning(
                "Kubernetes API of %s/%s/%s not usable: %s",
                ctx.account,
                ctx.region,
                ctx.cluster,
                error_code(kube_down),
            )
            ctx._errors.append(self._kubernetes_down(ctx, kube_down, kube_skipped))
        self._add(ctx._errors)

    def _kubernetes_down(
        self, ctx: CollectContext, exc: BaseException, skipped: Sequence[CollectorSpec]
    ) -> Finding:
        """The one finding for a cluster whose Kubernetes API refused the monitor or could not be reached."""
        names = {c.name for c in skipped}
        affected = sorted(
            c.id for c in self.checks if any(col.name in names for col in self.registry.collectors_for([c]))
        )
        finding = collection_error(ctx.account, ctx.region, ctx.cluster, "kubernetes", exc, self.now)
        fix = getattr(exc, "fix", "") or finding.remediation
        return finding.model_copy(
            update={
                "message": f"{finding.message} The cluster was not asked again in this scan.",
                "remediation": fix,
                "details": {
                    **finding.details,
                    "affected_checks": affected,
                    "skipped_collectors": sorted(names),
                },
            }
        )

    # -- evaluation --------------------------------------------------------------------------------
    def _evaluate(self, snap: ClusterSnapshot | RegionSnapshot, scope: str, region: str) -> None:
        cluster = snap.name if isinstance(snap, ClusterSnapshot) else None
        out: list[Finding] = []
        unevaluated: list[tuple[str, str]] = []
        for spec in self.checks:
            if spec.scope != scope or any(not snap.has(n) for n in spec.needs):
                continue
            try:
                problems = spec.evaluate(snap, self.thresholds[spec.id], self.now)
            except MissingData as missing:
                if missing.kind in declared_parts(spec):
                    continue  # its source failed: that collection error is already reported
                log.error("check %s reads %s, which it does not declare", spec.id, missing.kind.__name__)
                out.append(undeclared_read(spec, missing, snap.account, region, cluster, self.now))
                continue
            except Exception as exc:
                log.exception("check %s failed", spec.id)
                out.append(collection_error(snap.account, region, cluster, f"check/{spec.id}", exc, self.now))
                continue
            for p in problems:
                if isinstance(p, Unevaluated):
                    unevaluated.append((spec.id, p.reason))
                else:
                    out.append(to_finding(spec, p, snap.account, region, cluster or p.cluster, self.now))
        if unevaluated:
            out.append(coverage_finding(snap.account, region, cluster, unevaluated, self.now))
        self._add(out)

    def _add(self, findings: Iterable[Finding]) -> None:
        with self._lock:
            self._findings.extend(findings)


def declared_parts(spec: CheckSpec) -> frozenset[type]:
    """The parts a check may read: the engine collects exactly these for it."""
    return frozenset((*spec.needs, *spec.uses, *spec.cluster_needs))


def undeclared_read(
    spec: CheckSpec, missing: MissingData, account: str, region: str, cluster: str | None, now: datetime
) -> Finding:
    """A check read a part it never declared: a bug in eksmon, shown instead of a silent skip."""
    message = (
        f"check {spec.id} reads {missing.kind.__name__}, which it does not declare in needs or uses, so the "
        "engine never collects it for this check; the check did not run. This is a bug in eksmon."
    )
    return collection_error(account, region, cluster, f"check/{spec.id}", missing, now, message)


def _source_name(spec: CollectorSpec, exc: BaseException) -> str:
    operation = error_operation(exc)
    if operation and spec.iam_actions:
        service = spec.iam_actions[0].split(":", 1)[0]
        return f"{service}:{operation}"
    return spec.name


def _order(f: Finding) -> tuple[int, str, str, str, str, str]:
    return (-f.severity.rank, f.account, f.region, f.cluster or "", f.check, f.resource)


def scan(
    settings: Settings,
    now: datetime,
    patterns: Sequence[str] = (),
    monitor: Any = None,
    session_factory: Callable[..., boto3.Session] = boto3.Session,
    services: Services | None = None,
    progress: ProgressFn | None = None,
) -> ScanResult:
    """Select the checks (by id/glob, monitor, minus disabled) and scan with them."""
    registry = load()
    checks = registry.select(patterns, settings.checks.disabled, monitor)
    return Scanner(settings, checks, now, session_factory, services, progress, registry).run()
