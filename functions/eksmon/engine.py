"""The engine: collect -> evaluate -> findings, for every account, region and cluster at once.

Collectors do all I/O and put typed parts into snapshots; checks are pure functions of
(snapshot, thresholds, now). A failing source becomes a ``monitor.collection_error`` finding
for that account, region or cluster only: nothing else is hidden by it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import boto3

from eksmon.aws import ApiCallCounter, AwsAccount, client_config, error_code, error_operation
from eksmon.models import Finding, Problem, Severity, Unevaluated, fingerprint, iso_utc
from eksmon.registry import CheckSpec, CollectorSpec, Registry, load
from eksmon.settings import Settings
from eksmon.snapshot import ClusterSnapshot, MissingData, RegionSnapshot

log = logging.getLogger(__name__)
T = TypeVar("T")

COLLECTION_ERROR = "monitor.collection_error"
COLLECTION_ERROR_DOCS = "https://github.com/eksmon/eksmon#when-a-source-cannot-be-read"
COVERAGE = "monitor.coverage"
COVERAGE_DOCS = "https://github.com/eksmon/eksmon#what-it-catches"


class ScanAborted(RuntimeError):
    """The scan could not run at all (no credentials, no region): exit code 3."""


@dataclass(frozen=True)
class Target:
    """One account and region to scan."""

    account: AwsAccount
    region: str


@dataclass
class CollectContext:
    """What a collector may use: its clients, its scope, the parts collected before it."""

    account: str
    region: str
    aws: AwsAccount
    settings: Settings
    now: datetime
    region_snapshot: RegionSnapshot
    cluster_snapshot: ClusterSnapshot | None = None
    services: Services | None = None
    _errors: list[Finding] = field(default_factory=list)

    @property
    def cluster(self) -> str | None:
        return self.cluster_snapshot.name if self.cluster_snapshot else None

    def client(self, service: str) -> Any:
        return self.aws.client(service, self.region)

    def get(self, kind: type[T]) -> T:
        snap: ClusterSnapshot | RegionSnapshot = self.cluster_snapshot or self.region_snapshot
        return snap.get(kind)

    def memo(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """A value shared by every cluster of this account+region (e.g. add-on versions), made once."""
        return self.region_snapshot_cache().get(key, make)

    def region_snapshot_cache(self) -> _Memo:
        memo = self.region_snapshot.parts.get(_Memo)
        if memo is None:  # created before any cluster runs, see _collect_region
            raise RuntimeError("region memo missing")
        return memo  # type: ignore[no-any-return]

    def report(self, source: str, exc: BaseException, message: str | None = None) -> None:
        """A non-fatal problem reading a source: reported, and the collector goes on."""
        self._errors.append(
            collection_error(self.account, self.region, self.cluster, source, exc, self.now, message)
        )


class _Memo:
    def __init__(self) -> None:
        self._values: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}

    def get(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                found: T = self._values[key]
                return found
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    again: T = self._values[key]
                    return again
            value = make()
            with self._lock:
                self._values[key] = value
            return value


@dataclass
class Services:
    """Optional, injectable services beyond boto3 (Kubernetes access is added here)."""

    kubernetes: Any = None  # a factory: (CollectContext) -> Kubernetes client
    counters: Any = None  # eksmon.counters.CounterStore: counter values kept between deployed runs


@dataclass
class ScanResult:
    findings: list[Finding]
    regions: list[RegionSnapshot]
    api_calls: ApiCallCounter
    started_at: datetime
    duration_seconds: float
    checks: list[CheckSpec]

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


def collection_error(
    account: str,
    region: str,
    cluster: str | None,
    source: str,
    exc: BaseException | None,
    now: datetime,
    message: str | None = None,
) -> Finding:
    code = error_code(exc) if exc is not None else "Unavailable"
    text = message or (str(exc) if exc is not None else "source unavailable")
    where = f"cluster {cluster}" if cluster else f"{account}/{region}"
    resource = f"source/{source}"
    return Finding(
        check=COLLECTION_ERROR,
        severity=Severity.WARNING,
        title=f"eksmon could not read {source} for {where}",
        message=f"{source} failed with {code}: {text[:500]}. Checks that need it were skipped for {where}; "
        "everything else was scanned.",
        remediation="Check the monitor role's permissions and the source's availability; "
        "the next run retries by itself.",
        docs=COLLECTION_ERROR_DOCS,
        account=account,
        region=region,
        cluster=cluster,
        resource=resource,
        fingerprint=fingerprint(COLLECTION_ERROR, account, region, cluster, resource),
        details={"source": source, "error_code": code, "error": text[:500]},
        observed_at=iso_utc(now),
    )


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
        return ScanResult(findings, regions, self.counter, self.now, time.monotonic() - started, self.checks)

    # -- targets -----------------------------------------------------------------------------------
    def _targets(self) -> list[Target]:
        from eksmon.accounts import resolve_accounts

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
        )

    def _collect_region(self, target: Target, region: RegionSnapshot) -> None:
        region.parts[_Memo] = _Memo()
        ctx = self._context(target, region, None)
        self._run_collectors(self.region_collectors, ctx, region.parts)
        from eksmon.collectors.eks import ClusterNames

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
        for spec in collectors:
            if spec.kube and not self.settings.kubernetes.enabled:
                continue  # the operator asked not to read the clusters: their checks are skipped, quietly
            if any(not (ctx.cluster_snapshot or ctx.region_snapshot).has(n) for n in spec.needs):
                continue  # what it reads is missing; that failure is already reported
            try:
                parts[spec.provides] = spec.fn(ctx)
            except Exception as exc:  # noqa: BLE001 - any source failure becomes a finding, never a crash
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
        self._add(ctx._errors)

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
            except MissingData:
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
