"""The engine: collect -> evaluate -> findings, for every account, region and cluster at once.

Collectors do all I/O and put typed parts into snapshots; checks are pure functions of
(snapshot, thresholds, now). A failing source becomes a ``monitor.collection_error`` finding
for that account, region or cluster only: nothing else is hidden by it. A scan whose collection
takes more than ``aws.run_time_warning_percent`` of its time budget adds one ``monitor.run_time``.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3

from eksmon.accounts import ORGANIZATION_SOURCE, resolve_accounts
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
from eksmon.clusterfilter import FilterMiss, misses
from eksmon.context import CollectContext, RegionMemo, Services, collection_error
from eksmon.errors import ScanAborted
from eksmon.links import ANCHOR_COVERAGE, ANCHOR_FILTERS, ANCHOR_RUN_TIME, readme_url
from eksmon.models import Finding, Problem, Severity, Unevaluated, fingerprint, iso_utc
from eksmon.parts import ClusterNames
from eksmon.parts.scan import (
    ABOUT_THE_MONITOR,
    COLLECTION_ERROR,
    FILTER_MATCHES_NOTHING,
    RUN_TIME,
    ScanResult,
)
from eksmon.registry import CheckSpec, CollectionNeeds, CollectorSpec, Registry, load
from eksmon.settings import Settings
from eksmon.snapshot import ClusterSnapshot, MissingData, RegionSnapshot
from eksmon.tasks import Task, TaskGraph

log = logging.getLogger(__name__)

COVERAGE = "monitor.coverage"
COVERAGE_DOCS = readme_url(ANCHOR_COVERAGE)
RUN_TIME_DOCS = readme_url(ANCHOR_RUN_TIME)
SLOWEST_SOURCES = 3  # how many sources monitor.run_time names
FILTER_DOCS = readme_url(ANCHOR_FILTERS)


@dataclass(frozen=True)
class Target:
    """One account and region to scan."""

    account: AwsAccount
    region: str


@dataclass
class _KubeState:
    """One cluster's Kubernetes API across its collectors: once it refused the monitor or could not be
    reached, the cluster is not asked again, and the engine reports it once (``source/kubernetes``)."""

    down: BaseException | None = None
    skipped: list[CollectorSpec] = field(default_factory=list)


def coverage_finding(
    account: str, region: str, cluster: str | None, unevaluated: Sequence[tuple[str, str]], now: datetime
) -> Finding:
    """One info finding naming every check that an optional source left without data (docs/reference.md)."""
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


def run_time_finding(
    *,
    monitor: str | None,
    account: str,
    region: str,
    used_seconds: float,
    budget_seconds: float,
    warning_percent: float,
    cut: bool,
    throttled: int,
    pairs: int,
    slowest: Sequence[Mapping[str, Any]],
    now: datetime,
) -> Finding | None:
    """The warning a run gets when its collection took more than ``warning_percent`` of its time budget
    (or the deadline cut it), so that a fleet outgrowing its function is told before runs lose data.

    One per run: ``account``/``region`` are the run's first account+region pair (fan-out partitions never
    share one, so each partition has its own fingerprint, stable while the fleet is), resource
    ``run/<monitor>`` (``run/scan`` for the command line).
    """
    percent = 100.0 * used_seconds / budget_seconds
    if not cut and percent <= warning_percent:
        return None
    who = f"the {monitor} monitor's run" if monitor else "this scan"
    scope = f"{pairs} account+region pair{'s' if pairs != 1 else ''}"
    budget = _seconds_text(budget_seconds)
    throttling = (
        f" AWS answered {throttled} request{'s' if throttled != 1 else ''} with a throttling error; "
        "the retries that waited them out are part of that time."
        if throttled
        else ""
    )
    if cut:
        title = f"{who[0].upper()}{who[1:]} was cut at its {budget} s deadline"
        outcome = (
            "The deadline cut this run: the sources it had not finished were not checked (see the "
            "monitor.collection_error findings with resource source/deadline)."
        )
    else:
        title = f"{who[0].upper()}{who[1:]} took {percent:.0f} % of its time budget"
        outcome = (
            "If the fleet or AWS's answers get slower, runs start being cut at the deadline: sources not "
            "finished by then are not checked, and each region or cluster they belong to gets a "
            "monitor.collection_error (resource source/deadline)."
        )
    resource = f"run/{monitor or 'scan'}"
    return Finding(
        check=RUN_TIME,
        severity=Severity.WARNING,
        title=title,
        message=f"Reading {scope} (from {account}/{region}) took {_seconds_text(used_seconds)} s of the "
        f"scan's {budget} s budget ({percent:.0f} %; the warning starts above {warning_percent:g} %, "
        f"aws.run_time_warning_percent).{throttling} {outcome}",
        remediation="Give the scan more time or less to do: raise the monitor function's timeout and memory "
        "(LAMBDA_SIZES in infra/constants.py; Lambda's CPU grows with memory, and a large scan is CPU-bound); "
        "lower fanout.max_targets_per_invocation or fanout.max_clusters_per_invocation so that more "
        "invocations share the fleet; or split the "
        "regions between deployments. On the command line, raise --timeout (aws.scan_timeout_seconds). When "
        "details.throttled_retries is high, AWS throttling is what slows the run: another tool may be "
        "calling the same APIs in these accounts.",
        docs=RUN_TIME_DOCS,
        account=account,
        region=region,
        cluster=None,
        resource=resource,
        fingerprint=fingerprint(RUN_TIME, account, region, None, resource),
        details={
            "duration_seconds": round(used_seconds, 2),
            "budget_seconds": round(budget_seconds, 2),
            "percent": round(percent, 1),
            "warning_percent": warning_percent,
            "cut": cut,
            "throttled_retries": throttled,
            "account_region_pairs": pairs,
            "slowest_sources": [dict(s) for s in slowest],
        },
        observed_at=iso_utc(now),
    )


def filter_finding(
    miss: FilterMiss, account: str, region: str, monitor: str | None, now: datetime
) -> Finding:
    """The warning of a deployed monitor whose ``clusters.include`` pattern selects no cluster anywhere it
    scans: a monitor watching nothing says so. One per pattern, on the run's first account+region pair."""
    resource = f"filter/{miss.pattern}"
    who = f"The {monitor} monitor's" if monitor else "This scan's"
    return Finding(
        check=FILTER_MATCHES_NOTHING,
        severity=Severity.WARNING,
        title=f"clusters.include pattern {miss.pattern!r} matches no cluster",
        message=f"{who} clusters.include {miss.text()} Nothing is watched through that pattern.",
        remediation="Correct the pattern in clusters.include (the eksmon context of cdk.json, then deploy), "
        "or remove it; `eksmon scan --cluster PATTERN` tries a pattern from a laptop.",
        docs=FILTER_DOCS,
        account=account,
        region=region,
        cluster=None,
        resource=resource,
        fingerprint=fingerprint(FILTER_MATCHES_NOTHING, account, region, None, resource),
        details={
            "pattern": miss.pattern,
            "existing_clusters": list(miss.suggestions),
            "unlisted": list(miss.unread),
            **({"outside": miss.outside} if miss.outside else {}),
        },
        observed_at=iso_utc(now),
    )


def _seconds_text(seconds: float) -> str:
    return f"{seconds:.0f}" if seconds >= 100 else f"{seconds:.1f}"


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


@dataclass(frozen=True)
class ScanProgress:
    """How far a scan is: account-regions whose own reads are done, clusters whose reads are done (the
    cluster total grows as regions list their clusters)."""

    regions_done: int
    regions_total: int
    clusters_done: int
    clusters_total: int


ProgressFn = Callable[[ScanProgress], None]


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
        monitor: str | None = None,
        window_minutes: int | None = None,
    ) -> None:
        self.settings = settings
        self.monitor = monitor
        self.checks = list(checks)
        # validated once per scan, not once per check and cluster
        self.thresholds = {spec.id: settings.thresholds_for(spec) for spec in self.checks}
        # the CloudWatch window is the scan's: the time since the previous run (no check sets one)
        self.needs = functools.reduce(
            CollectionNeeds.merge,
            (t.collection_needs() for t in self.thresholds.values()),
            CollectionNeeds(window_minutes=window_minutes),
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
        # each source's longest finished run (seconds, where), and when each unfinished run started
        self._slowest: dict[str, tuple[float, str]] = {}
        self._running: dict[tuple[str, str], float] = {}
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
            slowest = self._slowest_sources()
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

    def _plan_region(self, graph: TaskGraph, target: Target, region: RegionSnapshot) -> None:
        region.parts[RegionMemo] = RegionMemo()
        lane = (target.account.account_id, target.region)
        tasks: dict[type, Task] = {}
        self._scopes.append((region.account, region.region, None, tasks))
        for spec in self.region_collectors:  # in dependency order
            after = [tasks[n] for n in (*spec.needs, *spec.uses) if n in tasks]
            if spec.provides is ClusterNames:
                fn = self._list_then_spawn(graph, target, region, spec, tasks)
            else:
                fn = self._collect_fn(spec, target, region, None, None)
            tasks[spec.provides] = graph.add(f"{spec.name} {lane}", lane, fn, after)
        graph.add(f"done {lane}", lane, self._region_done, list(tasks.values()))

    def _region_done(self) -> None:
        with self._lock:
            self._regions_done += 1
        self._report_progress()

    def _report_progress(self) -> None:
        if not self.progress:
            return
        with self._lock:
            now = ScanProgress(
                self._regions_done, self._regions_total, self._clusters_done, self._clusters_total
            )
        self.progress(now)

    def _list_then_spawn(
        self,
        graph: TaskGraph,
        target: Target,
        region: RegionSnapshot,
        spec: CollectorSpec,
        region_tasks: dict[type, Task],
    ) -> Callable[[], None]:
        collect = self._collect_fn(spec, target, region, None, None)

        def run() -> None:
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
        """A cluster's collectors, each as soon as what it reads is there; its Kubernetes collectors one
        after another (a cluster whose API is down is asked once)."""
        lane = (target.account.account_id, target.region)
        tasks: dict[type, Task] = {}
        kube = _KubeState()
        previous_kube: Task | None = None
        with self._lock:
            self._scopes.append((region.account, region.region, cluster.name, tasks))
        for spec in self.cluster_collectors:
            # a region part already read (the cluster names, read by the task that is planning this
            # cluster) is no dependency: waiting for that task to end would queue DescribeCluster, which
            # most of the cluster's reads wait on, behind every read of the region that needs nothing
            after = [
                t
                for n in (*spec.needs, *spec.uses)
                if (t := tasks.get(n) or (None if region.has(n) else region_tasks.get(n))) is not None
            ]
            if spec.kube and previous_kube is not None:
                after.append(previous_kube)
            task = graph.add(
                f"{spec.name} {lane} {cluster.name}",
                lane,
                self._collect_fn(spec, target, region, cluster, kube),
                after,
            )
            tasks[spec.provides] = task
            if spec.kube:
                previous_kube = task
        graph.add(
            f"done {cluster.name}",
            lane,
            functools.partial(self._cluster_done, target, region, cluster, kube),
            list(tasks.values()),
        )

    def _cluster_done(
        self, target: Target, region: RegionSnapshot, cluster: ClusterSnapshot, kube: _KubeState
    ) -> None:
        if kube.down is not None:
            ctx = self._context(target, region, cluster)
            log.warning(
                "Kubernetes API of %s/%s/%s not usable: %s",
                ctx.account,
                ctx.region,
                ctx.cluster,
                error_code(kube.down),
            )
            self._add([self._kubernetes_down(ctx, kube.down, kube.skipped)])
        with self._lock:
            self._clusters_done += 1
        self._report_progress()

    def _collect_fn(
        self,
        spec: CollectorSpec,
        target: Target,
        region: RegionSnapshot,
        cluster: ClusterSnapshot | None,
        kube: _KubeState | None,
    ) -> Callable[[], None]:
        def run() -> None:
            ctx = self._context(target, region, cluster)
            parts = cluster.parts if cluster is not None else region.parts
            self._run_collector(spec, ctx, parts, kube)

        return run

    def _run_collector(
        self, spec: CollectorSpec, ctx: CollectContext, parts: dict[type, Any], kube: _KubeState | None
    ) -> None:
        if spec.kube and not self.settings.kubernetes.enabled:
            return  # the operator asked not to read the clusters: their checks are skipped, quietly
        if spec.kube and kube is not None and kube.down is not None:
            kube.skipped.append(spec)  # one root cause, one finding: the cluster is not asked again
            return
        if any(not (ctx.cluster_snapshot or ctx.region_snapshot).has(n) for n in spec.needs):
            return  # what it reads is missing; that failure is already reported
        try:
            value = self._timed(spec, ctx)
        except Exception as exc:  # noqa: BLE001 - any source failure becomes a finding, never a crash
            if isinstance(exc, MissingData) and exc.kind in spec.uses:
                # a part it reads when present failed (already reported), and nothing else reaches the
                # cluster (e.g. DescribeCluster denied and no kubeconfig context): skipped, quietly
                return
            if spec.kube and kube is not None and getattr(exc, "cluster_wide", False):
                kube.down = exc
                kube.skipped.append(spec)
            else:
                log.warning(
                    "collector %s failed for %s/%s/%s: %s",
                    spec.name,
                    ctx.account,
                    ctx.region,
                    ctx.cluster or "-",
                    error_code(exc),
                )
                ctx.report(_source_name(spec, exc), exc)
        else:
            with self._lock:
                if not self._closed:  # past the deadline, late answers are not mixed in
                    parts[spec.provides] = value
            if spec.kube and kube is not None and ctx.kubernetes_down is not None:  # a part was kept
                kube.down = ctx.kubernetes_down
                kube.skipped.append(spec)
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

    # -- run time ----------------------------------------------------------------------------------
    def _timed(self, spec: CollectorSpec, ctx: CollectContext) -> Any:
        """Run one collector, keeping its source's longest run (wall time, waits for AWS slots included)."""
        where = "/".join(p for p in (ctx.account, ctx.region, ctx.cluster) if p)
        key = (spec.name, where)
        started = time.monotonic()
        with self._lock:
            self._running[key] = started
        try:
            return spec.fn(ctx)
        finally:
            seconds = time.monotonic() - started
            with self._lock:
                self._running.pop(key, None)
                if seconds > self._slowest.get(spec.name, (-1.0, ""))[0]:
                    self._slowest[spec.name] = (seconds, where)

    def _slowest_sources(self) -> list[dict[str, Any]]:
        """The sources whose longest run was longest, those still running when the deadline passed
        included (call with the lock held)."""
        now = time.monotonic()
        longest = {name: (seconds, where, True) for name, (seconds, where) in self._slowest.items()}
        for (name, where), started in self._running.items():
            if now - started > longest.get(name, (-1.0, "", True))[0]:
                longest[name] = (now - started, where, False)
        top = sorted(longest.items(), key=lambda item: -item[1][0])[:SLOWEST_SOURCES]
        return [
            {"source": name, "seconds": round(seconds, 2), "where": where, "finished": finished}
            for name, (seconds, where, finished) in top
        ]

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
    deadline: Deadline | None = None,
    window_minutes: int | None = None,
) -> ScanResult:
    """Select the checks (by id/glob, monitor, minus disabled) and scan with them.

    ``deadline``: when the scan stops reading (default: ``aws.scan_timeout_seconds`` from now).
    ``window_minutes``: the time since the previous run, which the CloudWatch checks evaluate, ending at
    ``now`` (default: an hour, the metrics monitor's schedule).
    """
    registry = load()
    checks = registry.select(patterns, settings.checks.disabled, monitor)
    with fewer_gc_passes(), one_cpu(settings.aws.single_cpu):
        return Scanner(
            settings,
            checks,
            now,
            session_factory,
            services,
            progress,
            registry,
            deadline,
            monitor,
            window_minutes,
        ).run()


# Python's cyclic garbage collector runs its youngest generation every 700 container allocations, and
# each full pass walks every object alive. A botocore call allocates thousands (request, headers, parsed
# answer), and the loaded service models are large: at fleet scale the collector took 13 % of the
# scan's CPU (bench/bench_fleet_scale.py). During a scan, what exists before it (modules, models,
# sessions) is frozen out of collection and the youngest generation runs every 20,000 allocations; both
# are undone when the scan returns. Garbage without cycles is freed at once as always (reference counts).
GC_YOUNG_THRESHOLD = 20_000


_gc_lock = threading.Lock()
_gc_scans = 0  # scans running in this process (the outermost one sets and restores the collector)
_gc_before: tuple[int, int, int] = (700, 10, 10)


@contextlib.contextmanager
def fewer_gc_passes() -> Iterator[None]:
    global _gc_scans, _gc_before  # noqa: PLW0603 - the collector is one per process, like this count
    with _gc_lock:
        if _gc_scans == 0:
            _gc_before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(_gc_before[0], GC_YOUNG_THRESHOLD), *_gc_before[1:])
        _gc_scans += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_scans -= 1
            if _gc_scans == 0:
                gc.set_threshold(*_gc_before)
                gc.unfreeze()


@contextlib.contextmanager
def one_cpu(enabled: bool = True) -> Iterator[None]:
    """Run the calling thread, and every thread it starts (the scan's workers), on the CPU it is on now.

    A scan's threads take turns holding one interpreter lock, so together they never use more than about
    one CPU. Spread over several, every hand-off of the lock wakes a thread on another CPU and moves its
    data there: on the fleet bench (500 clusters, 2 CPUs) the scanner spent 25-35 % more CPU, and took
    20-30 % longer, than on one. Linux only (``os.sched_setaffinity`` applies to the calling thread, and
    new threads inherit it); elsewhere, with one CPU allowed, or when ``aws.single_cpu`` is false, nothing
    changes. The calling thread's CPUs are restored when the scan returns.
    """
    setaffinity = getattr(os, "sched_setaffinity", None)
    if not enabled or setaffinity is None:
        yield
        return
    try:
        allowed: set[int] = os.sched_getaffinity(0)
    except OSError:
        allowed = set()
    if len(allowed) <= 1:
        yield
        return
    cpu = _current_cpu(allowed)
    try:
        setaffinity(0, {cpu})
    except OSError:  # a container that forbids it: run as before
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            setaffinity(0, allowed)


def _current_cpu(allowed: set[int]) -> int:
    """The CPU the calling thread runs on (the scheduler put it there), else the first allowed one."""
    try:
        with open("/proc/thread-self/stat", encoding="ascii") as stat:
            cpu = int(stat.read().rsplit(")", 1)[1].split()[36])  # field 39, "processor"
    except (OSError, ValueError, IndexError):
        return min(allowed)
    return cpu if cpu in allowed else min(allowed)


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
