"""The engine: collect -> evaluate -> findings, for every account, region and cluster at once.

Collectors do all I/O and put typed parts into snapshots; checks are pure functions of
(snapshot, thresholds, now). A failing source becomes a ``monitor.collection_error`` finding
for that account, region or cluster only: nothing else is hidden by it. A scan whose collection
takes more than ``aws.run_time_warning_percent`` of its time budget adds one ``monitor.run_time``.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3

from eksmon.accounts import ORGANIZATION_SOURCE, resolve_accounts
from eksmon.aws import ApiCallCounter, Deadline, client_config
from eksmon.aws_io import ScanIO
from eksmon.clusterfilter import FilterMiss, misses
from eksmon.collection import Collection, ProgressFn, ScanProgress, Target
from eksmon.context import Services, collection_error
from eksmon.errors import ScanAborted
from eksmon.models import Finding, Unevaluated
from eksmon.monitor_findings import (
    COVERAGE,
    SourceTimes,
    coverage_finding,
    filter_finding,
    run_time_finding,
    to_finding,
    undeclared_read,
)
from eksmon.parts import ClusterNames
from eksmon.parts.scan import (
    ABOUT_THE_MONITOR,
    COLLECTION_ERROR,
    FILTER_MATCHES_NOTHING,
    RUN_TIME,
    ScanResult,
)
from eksmon.registry import CheckSpec, CollectionNeeds, Registry, load
from eksmon.settings import Settings
from eksmon.snapshot import ClusterSnapshot, MissingData, RegionSnapshot
from eksmon.tasks import Task, TaskGraph
from eksmon.tuning import GC_YOUNG_THRESHOLD, fewer_gc_passes, one_cpu

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanRequest:
    """Everything one scan is made from.

    ``deadline``: when the scan stops reading (default: ``aws.scan_timeout_seconds`` from the start).
    ``window_minutes``: the time since the previous run, which the CloudWatch checks evaluate, ending at
    ``now`` (default: an hour, the metrics monitor's schedule). ``monitor``: the deployed monitor's
    name, which its own findings carry (None on the command line).
    """

    settings: Settings
    checks: Sequence[CheckSpec]
    now: datetime
    session_factory: Callable[..., boto3.Session] = boto3.Session
    services: Services | None = None
    progress: ProgressFn | None = None
    registry: Registry | None = None
    deadline: Deadline | None = None
    monitor: str | None = None
    window_minutes: int | None = None


class Scanner(Collection):
    """Runs the selected checks over every target. One instance per scan."""

    def __init__(
        self,
        request: ScanRequest | Settings,
        checks: Sequence[CheckSpec] = (),
        now: datetime | None = None,
        **options: Any,
    ) -> None:
        if not isinstance(request, ScanRequest):  # Scanner(settings, checks, now, registry=...)
            if now is None:
                raise TypeError("Scanner(settings, checks, now, ...): now is required")
            request = ScanRequest(request, checks, now, **options)
        settings = self.settings = request.settings
        window_minutes, deadline = request.window_minutes, request.deadline
        self.monitor = request.monitor
        self.checks = list(request.checks)
        # validated once per scan, not once per check and cluster
        self.thresholds = {spec.id: settings.thresholds_for(spec) for spec in self.checks}
        # the CloudWatch window is the scan's: the time since the previous run (no check sets one)
        self.needs = functools.reduce(
            CollectionNeeds.merge,
            (t.collection_needs() for t in self.thresholds.values()),
            CollectionNeeds(window_minutes=window_minutes),
        )
        self.now = request.now
        self.session_factory = request.session_factory
        self.services = request.services or Services()
        self.progress = request.progress
        self.registry = request.registry or load()
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
        self._regions_total = 0
        self._regions_done = 0
        self._times = SourceTimes()  # each source's longest run, for monitor.run_time
        self._unreached: list[tuple[str, str]] = []  # (account, region) of accounts not reached
        self._organization_unread = False  # organizations:ListAccounts failed: accounts may be missing

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
        self._regions_total = len(targets)
        self._report_progress()
        for target, region in zip(targets, regions, strict=True):
            self._plan_region(graph, target, region)
        remaining = self.deadline.remaining()
        finished = graph.wait(None if remaining == float("inf") else max(0.0, remaining))
        with self._lock:
            self._closed = True
            used = self.deadline.elapsed()
            slowest = self._times.slowest()
        graph.close()
        for task, exc in graph.errors:
            log.error("task %s failed: %s", task.name, exc, exc_info=exc)
        if not finished:
            self._report_unfinished()
        for target, region in zip(targets, regions, strict=True):
            for cluster in region.clusters:
                self._evaluate(cluster, "cluster", target.region)
            self._evaluate(region, "region", target.region)
        if targets and self.deadline.seconds:
            found = run_time_finding(
                monitor=self.monitor,
                account=targets[0].account.account_id,
                region=targets[0].region,
                used_seconds=used,
                budget_seconds=self.deadline.seconds,
                warning_percent=aws.run_time_warning_percent,
                cut=not finished,
                throttled=self.counter.throttled,
                pairs=len(targets),
                slowest=slowest,
                now=self.now,
            )
            self._add([found] if found else [], force=True)
        findings = sorted([*self._findings, *self._errors.values()], key=_order)
        return ScanResult(
            findings,
            regions,
            self.counter,
            self.now,
            time.monotonic() - started,
            self.checks,
            dict(self.thresholds),
            self._filter_misses(regions),
        )

    def _filter_misses(self, regions: Sequence[RegionSnapshot]) -> list[FilterMiss]:
        """The include patterns that selected no cluster in what was read (none when no check lists clusters)."""
        if not any(c.provides is ClusterNames for c in self.region_collectors):
            return []
        read = [(r, r.get(ClusterNames)) for r in regions if r.has(ClusterNames)]
        unread = [(r.account, r.region) for r in regions if not r.has(ClusterNames)] + self._unreached
        return misses(
            self.settings.clusters.include,
            selected=[(r.account, r.region, n) for r, names in read for n in names.names],
            listed=[(r.account, r.region, n) for r, names in read for n in names.listed],
            scanned=[(r.account, r.region) for r in regions] + self._unreached,
            unread=unread,
            unlisted=["the accounts of the Organization"] if self._organization_unread else [],
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
        config = client_config(self.settings.aws, pool=self.settings.aws.max_in_flight_per_region)
        accounts, failures = resolve_accounts(
            base, self.settings, config, self.counter, regions[0], self.session_factory, self.io
        )
        for account in accounts:
            account.io = self.io
        for account_id, source, error in failures:
            # an account not reached is missing from every region; the Organization's list, once
            for region in regions[:1] if source == ORGANIZATION_SOURCE else regions:
                self._add([collection_error(account_id, region, None, source, error, self.now)])
            if source != ORGANIZATION_SOURCE:
                self._unreached += [(account_id, region) for region in regions]
            else:
                self._organization_unread = True
        return [Target(a, r) for a in accounts for r in regions]

    # -- collection --------------------------------------------------------------------------------
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


def declared_parts(spec: CheckSpec) -> frozenset[type]:
    """The parts a check may read: the engine collects exactly these for it."""
    return frozenset((*spec.needs, *spec.uses, *spec.cluster_needs))


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
    window_minutes: int | None = None,
) -> ScanResult:
    """Select the checks (by id/glob, monitor, minus disabled) and scan with them (see ScanRequest)."""
    registry = load()
    checks = registry.select(patterns, settings.checks.disabled, monitor)
    request = ScanRequest(
        settings,
        checks,
        now,
        session_factory=session_factory,
        services=services,
        progress=progress,
        registry=registry,
        deadline=deadline,
        monitor=monitor,
        window_minutes=window_minutes,
    )
    with fewer_gc_passes(), one_cpu(settings.aws.single_cpu):
        return Scanner(request).run()


# the names callers import from here; the parts, the monitor's own findings and the process tuning have
# their own modules (eksmon.parts.scan, ...), re-exported so existing imports keep working
__all__ = [
    "ABOUT_THE_MONITOR",
    "COLLECTION_ERROR",
    "COVERAGE",
    "FILTER_MATCHES_NOTHING",
    "GC_YOUNG_THRESHOLD",
    "RUN_TIME",
    "ScanProgress",
    "ScanRequest",
    "ScanResult",
    "Scanner",
    "Services",
    "coverage_finding",
    "declared_parts",
    "fewer_gc_passes",
    "filter_finding",
    "one_cpu",
    "run_time_finding",
    "scan",
]
