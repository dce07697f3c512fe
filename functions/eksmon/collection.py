"""The scanner's collection: every collector of every account, region and cluster as tasks of one
graph, each as soon as the parts it reads are there, and the Kubernetes circuit breaker.

A cluster whose Kubernetes API refuses the monitor or cannot be reached (a ``KubeError`` whose
``cluster_wide`` is true, or a collector that said so through ``ctx.kubernetes_unreachable``) is not
asked again in the scan, and is reported once. ``Collection`` is the half of ``eksmon.engine.Scanner``
that reads; the scanner evaluates what it read.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eksmon.aws import Deadline, error_code, error_operation
from eksmon.aws_io import AwsAccount
from eksmon.context import CollectContext, RegionMemo, Services
from eksmon.kube.errors import KubeError
from eksmon.models import Finding
from eksmon.monitor_findings import SourceTimes, deadline_finding, kubernetes_down_finding
from eksmon.parts import ClusterNames
from eksmon.registry import CheckSpec, CollectionNeeds, CollectorSpec, Registry
from eksmon.settings import Settings
from eksmon.snapshot import ClusterSnapshot, MissingData, RegionSnapshot
from eksmon.tasks import Task, TaskGraph

log = logging.getLogger("eksmon.engine")


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


@dataclass(frozen=True)
class ScanProgress:
    """How far a scan is: account-regions whose own reads are done, clusters whose reads are done (the
    cluster total grows as regions list their clusters)."""

    regions_done: int
    regions_total: int
    clusters_done: int
    clusters_total: int


ProgressFn = Callable[[ScanProgress], None]


class Collection:
    """The reading half of a scan (mixed into ``eksmon.engine.Scanner``, which sets these attributes)."""

    settings: Settings
    checks: list[CheckSpec]
    now: datetime
    services: Services
    progress: ProgressFn | None
    registry: Registry
    needs: CollectionNeeds
    region_collectors: list[CollectorSpec]
    cluster_collectors: list[CollectorSpec]
    deadline: Deadline
    _lock: threading.Lock
    _closed: bool
    _scopes: list[tuple[str, str, str | None, dict[type, Task]]]
    _clusters_total: int
    _clusters_done: int
    _regions_total: int
    _regions_done: int
    _times: SourceTimes

    def _add(self, findings: Iterable[Finding], force: bool = False) -> None:
        raise NotImplementedError

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
            if spec.kube and kube is not None and isinstance(exc, KubeError) and exc.cluster_wide:
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
        self._add(ctx.errors)

    def _kubernetes_down(
        self, ctx: CollectContext, exc: BaseException, skipped: Sequence[CollectorSpec]
    ) -> Finding:
        names = {c.name for c in skipped}
        affected = [
            c.id for c in self.checks if any(col.name in names for col in self.registry.collectors_for([c]))
        ]
        return kubernetes_down_finding(ctx.account, ctx.region, ctx.cluster, exc, affected, names, self.now)

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
            self._add([deadline_finding(account, region, cluster, unfinished, seconds, self.now)], force=True)

    def _timed(self, spec: CollectorSpec, ctx: CollectContext) -> Any:
        where = "/".join(p for p in (ctx.account, ctx.region, ctx.cluster) if p)
        return self._times.timed(spec.name, where, lambda: spec.fn(ctx))


def _source_name(spec: CollectorSpec, exc: BaseException) -> str:
    operation = error_operation(exc)
    if operation and spec.iam_actions:
        service = spec.iam_actions[0].split(":", 1)[0]
        return f"{service}:{operation}"
    return spec.name
