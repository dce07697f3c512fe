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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import boto3

from eksmon.aws import (
    ApiCallCounter,
    AwsAccount,
    Deadline,
    DeadlineExceeded,
    ScanIO,
    client_config,
    error_code,
    error_operation,
)
from eksmon.models import Finding, Problem, Severity, fingerprint, iso_utc
from eksmon.registry import CheckSpec, CollectorSpec, Registry, load
from eksmon.settings import Settings
from eksmon.snapshot import ClusterSnapshot, MissingData, RegionSnapshot
from eksmon.tasks import Task, TaskGraph

log = logging.getLogger(__name__)
T = TypeVar("T")

COLLECTION_ERROR = "monitor.collection_error"
COLLECTION_ERROR_DOCS = "https://github.com/eksmon/eksmon#when-a-source-cannot-be-read"


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
        """A value shared by every cluster of this account+region, made once."""
        return self.region_snapshot_cache().get(key, make)

    def shared(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """A value every region of this account reads the same (the version calendar, add-on versions):
        made once per scan, by whichever region asks first; a failure is shared too (each region
        that reads it reports it)."""
        io = self.aws.io
        if io is None:
            return self.memo(key, make)
        found: T = io.shared.get(
            (self.account, *key), make, keep_error=lambda exc: not isinstance(exc, DeadlineExceeded)
        )
        return found

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

    def report_region(self, source: str, exc: BaseException, message: str | None = None) -> None:
        """A problem of a source the whole account+region shares (one finding however many clusters
        hit it: errors of one source in one scope are merged)."""
        self._errors.append(collection_error(self.account, self.region, None, source, exc, self.now, message))


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
        deadline: Deadline | None = None,
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
        self._errors: dict[str, Finding] = {}  # collection errors by fingerprint: one per source and scope
        self._lock = threading.Lock()
        self.deadline = deadline or Deadline(settings.aws.scan_timeout_seconds)
        self.io = ScanIO(settings.aws, self.deadline)
        self._closed = False  # the deadline passed: late answers are ignored
        self._scopes: list[tuple[str, str, str | None, dict[type, Task]]] = []
        self._clusters_total = 0
        self._clusters_done = 0

    # -- public ------------------------------------------------------------------------------------
    def run(self) -> ScanResult:
        """Collect every target through one task graph, then evaluate what was read.

        Region setup and cluster scans are pipelined: a cluster starts as soon as its region has
        listed clusters, and each collector as soon as the parts it reads are there. When the
        deadline passes, what is unfinished becomes a collection error per scope, and everything
        already read is still evaluated.
        """
        started = time.monotonic()
        targets = self._targets()
        regions = [RegionSnapshot(account=t.account.account_id, region=t.region) for t in targets]
        aws = self.settings.aws
        graph = TaskGraph(aws.max_threads, aws.max_in_flight_per_region)
        if self.progress:
            self.progress(0, 0)
        for target, region in zip(targets, regions, strict=True):
            self._plan_region(graph, target, region)
        remaining = self.deadline.remaining()
        finished = graph.wait(None if remaining == float("inf") else max(0.0, remaining))
        with self._lock:
            self._closed = True
        graph.close()
        for task, exc in graph.errors:
            log.error("task %s failed: %s", task.name, exc, exc_info=exc)
        if not finished:
            self._report_unfinished()
        for target, region in zip(targets, regions, strict=True):
            for cluster in region.clusters:
                self._evaluate(cluster, "cluster", target.region)
            self._evaluate(region, "region", target.region)
        findings = sorted([*self._findings, *self._errors.values()], key=_order)
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
        config = client_config(self.settings.aws, pool=self.settings.aws.max_in_flight_per_region)
        accounts, failures = resolve_accounts(
            base, self.settings, config, self.counter, regions[0], self.session_factory
        )
        for account in accounts:
            account.io = self.io
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

    def _plan_region(self, graph: TaskGraph, target: Target, region: RegionSnapshot) -> None:
        from eksmon.collectors.eks import ClusterNames

        region.parts[_Memo] = _Memo()
        lane = (target.account.account_id, target.region)
        tasks: dict[type, Task] = {}
        self._scopes.append((region.account, region.region, None, tasks))
        for spec in self.region_collectors:  # in dependency order
            after = [tasks[n] for n in (*spec.needs, *spec.uses) if n in tasks]
            if spec.provides is ClusterNames:
                fn = self._list_then_spawn(graph, target, region, spec, tasks)
            else:
                fn = self._collect_fn(spec, target, region, None)
            tasks[spec.provides] = graph.add(f"{spec.name} {lane}", lane, fn, after)

    def _list_then_spawn(
        self,
        graph: TaskGraph,
        target: Target,
        region: RegionSnapshot,
        spec: CollectorSpec,
        region_tasks: dict[type, Task],
    ) -> Callable[[], None]:
        collect = self._collect_fn(spec, target, region, None)

        def run() -> None:
            from eksmon.collectors.eks import ClusterNames

            collect()
            with self._lock:
                if self._closed or not self.cluster_collectors or not region.has(ClusterNames):
                    return
                region.clusters = [
                    ClusterSnapshot(region.account, region.region, name, region)
                    for name in region.get(ClusterNames).names
                ]
                self._clusters_total += len(region.clusters)
            for cluster in region.clusters:
                self._plan_cluster(graph, target, region, cluster, region_tasks)

        return run

    def _plan_cluster(
        self,
        graph: TaskGraph,
        target: Target,
        region: RegionSnapshot,
        cluster: ClusterSnapshot,
        region_tasks: dict[type, Task],
    ) -> None:
        lane = (target.account.account_id, target.region)
        tasks: dict[type, Task] = {}
        with self._lock:
            self._scopes.append((region.account, region.region, cluster.name, tasks))
        for spec in self.cluster_collectors:
            after = [
                t for n in (*spec.needs, *spec.uses) if (t := tasks.get(n) or region_tasks.get(n)) is not None
            ]
            tasks[spec.provides] = graph.add(
                f"{spec.name} {lane} {cluster.name}",
                lane,
                self._collect_fn(spec, target, region, cluster),
                after,
            )
        graph.add(f"done {cluster.name}", lane, self._cluster_done, list(tasks.values()))

    def _cluster_done(self) -> None:
        with self._lock:
            self._clusters_done += 1
            done, total = self._clusters_done, self._clusters_total
        if self.progress:
            self.progress(done, total)

    def _collect_fn(
        self, spec: CollectorSpec, target: Target, region: RegionSnapshot, cluster: ClusterSnapshot | None
    ) -> Callable[[], None]:
        def run() -> None:
            ctx = self._context(target, region, cluster)
            parts = cluster.parts if cluster is not None else region.parts
            self._run_collectors([spec], ctx, parts)

        return run

    def _run_collectors(
        self, collectors: Iterable[CollectorSpec], ctx: CollectContext, parts: dict[type, Any]
    ) -> None:
        for spec in collectors:
            if spec.kube and not self.settings.kubernetes.enabled:
                continue  # the operator asked not to read the clusters: their checks are skipped, quietly
            if any(not (ctx.cluster_snapshot or ctx.region_snapshot).has(n) for n in spec.needs):
                continue  # what it reads is missing; that failure is already reported
            try:
                value = spec.fn(ctx)
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
            else:
                with self._lock:
                    if not self._closed:  # past the deadline, late answers are not mixed in
                        parts[spec.provides] = value
        self._add(ctx._errors)

    def _report_unfinished(self) -> None:
        """One collection error per scope (region or cluster) with sources the deadline cut off."""
        seconds = self.deadline.seconds
        for account, region, cluster, tasks in list(self._scopes):
            unfinished = sorted(
                spec.name
                for kind, task in tasks.items()
                if not task.done and (spec := self.registry.collectors.get(kind)) is not None
            )
            if not unfinished:
                continue
            exc = DeadlineExceeded("scan", f"the scan's deadline ({seconds:g} s) passed")
            message = (
                f"the scan's deadline ({seconds:g} s) passed before {', '.join(unfinished)} finished; "
                "what they had not read was not checked"
            )
            error = collection_error(account, region, cluster, "deadline", exc, self.now, message)
            error.details["unfinished"] = unfinished
            self._add([error], force=True)

    # -- evaluation --------------------------------------------------------------------------------
    def _evaluate(self, snap: ClusterSnapshot | RegionSnapshot, scope: str, region: str) -> None:
        cluster = snap.name if isinstance(snap, ClusterSnapshot) else None
        out: list[Finding] = []
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
            out.extend(
                to_finding(spec, p, snap.account, region, cluster or p.cluster, self.now) for p in problems
            )
        self._add(out, force=True)

    def _add(self, findings: Iterable[Finding], force: bool = False) -> None:
        """Keep findings; collection errors of one source in one scope are one finding (the first)."""
        with self._lock:
            if self._closed and not force:
                return
            for finding in findings:
                if finding.check != COLLECTION_ERROR:
                    self._findings.append(finding)
                elif finding.fingerprint not in self._errors:
                    self._errors[finding.fingerprint] = finding


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
    deadline: Deadline | None = None,
) -> ScanResult:
    """Select the checks (by id/glob, monitor, minus disabled) and scan with them.

    ``deadline``: when the scan stops reading (default: ``aws.scan_timeout_seconds`` from now).
    """
    registry = load()
    checks = registry.select(patterns, settings.checks.disabled, monitor)
    return Scanner(settings, checks, now, session_factory, services, progress, registry, deadline).run()
