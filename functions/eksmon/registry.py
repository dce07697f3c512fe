"""The one registry of checks and collectors.

A check module declares itself with ``@check(...)``; a collector module with ``@collector(...)``.
Both are discovered by importing every module of ``eksmon.checks`` and ``eksmon.collectors``,
so adding a check is one new module plus its tests. Everything generated -- ``eksmon checks``,
the Lambdas' IAM policies, the Kubernetes ClusterRole -- reads this registry.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

import eksmon.checks
import eksmon.collectors
from eksmon.models import Problem, Unevaluated

if TYPE_CHECKING:
    from eksmon.snapshot import ClusterSnapshot, RegionSnapshot

Scope = Literal["cluster", "region"]
Monitor = Literal["lifecycle", "quotas", "metrics", "kubernetes"]
MONITORS: tuple[Monitor, ...] = ("lifecycle", "quotas", "metrics", "kubernetes")
# Every module of these packages is imported by load(), found by listing the package, not by name: no
# import statement names them, so the Lambda asset (infra/asset.py) ships them whole.
DISCOVERED_PACKAGES: tuple[str, ...] = (eksmon.collectors.__name__, eksmon.checks.__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class CollectionNeeds:
    """How much the collectors must read for a scan's checks, from their thresholds (None: no need).

    A check whose thresholds set a window says so in :meth:`Thresholds.collection_needs`; the engine
    merges every selected check's needs (the largest of each) and hands them to the collectors in
    ``CollectContext.needs``, so no collector looks a threshold up by name.
    """

    window_minutes: float | None = None  # CloudWatch series, ending now
    lookback_hours: float | None = None  # CloudWatch history, ending now
    scrape_samples: int | None = None  # reads of the apiserver's /metrics per run
    peak_days: float | None = None  # hourly maxima of seats and scheduling (control_plane.tier_oversized)
    # access policies (ARNs) that make an access entry an administrator path (auth.break_glass)
    admin_access_policies: tuple[str, ...] | None = None
    # DescribeUpdate calls per cluster, node group or add-on at most (cluster.update_failed)
    updates_per_resource: int | None = None

    def merge(self, other: CollectionNeeds) -> CollectionNeeds:
        def most(a: float | None, b: float | None) -> float | None:
            return b if a is None else a if b is None else max(a, b)

        samples = most(self.scrape_samples, other.scrape_samples)
        updates = most(self.updates_per_resource, other.updates_per_resource)
        return CollectionNeeds(
            window_minutes=most(self.window_minutes, other.window_minutes),
            lookback_hours=most(self.lookback_hours, other.lookback_hours),
            scrape_samples=None if samples is None else int(samples),
            peak_days=most(self.peak_days, other.peak_days),
            updates_per_resource=None if updates is None else int(updates),
            admin_access_policies=(
                self.admin_access_policies
                if other.admin_access_policies is None
                else tuple(dict.fromkeys((*(self.admin_access_policies or ()), *other.admin_access_policies)))
            ),
        )


class Thresholds(BaseModel):
    """Base for a check's configurable thresholds: unknown keys are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def collection_needs(self) -> CollectionNeeds:
        """What these thresholds ask the collectors to read (override where a threshold sets a window)."""
        return CollectionNeeds()


class NoThresholds(Thresholds):
    pass


@dataclass(frozen=True)
class KubePermission:
    """One rule of the generated RBAC: cluster-wide (the ClusterRole) unless ``namespace`` is given,
    then a Role in that namespace, limited to the objects in ``names`` (``resourceNames``) if any."""

    api_group: str  # "" for the core group
    resource: str
    verbs: tuple[str, ...] = ("get", "list")
    namespace: str = ""  # "": every namespace (ClusterRole); else a Role in this namespace
    names: tuple[str, ...] = ()  # (): every object; else only these (resourceNames)


@dataclass(frozen=True)
class KubeNonResource:
    url: str
    verbs: tuple[str, ...] = ("get",)


@dataclass(frozen=True)
class CollectorSpec:
    """A collector: does the I/O for one kind of data and returns it as a typed snapshot part."""

    name: str
    provides: type
    scope: Scope
    fn: Callable[..., Any]
    iam_actions: tuple[str, ...] = ()
    kube: tuple[KubePermission | KubeNonResource, ...] = ()
    needs: tuple[type, ...] = ()  # other data this collector reads first (same scope or region)
    uses: tuple[type, ...] = ()  # read when present: waited for, but a missing one does not skip it


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    monitor: Monitor
    scope: Scope
    needs: tuple[type, ...]
    docs: str
    severity_rules: str
    fn: Callable[..., Iterable[Problem | Unevaluated]]
    thresholds: type[Thresholds] = NoThresholds
    sources: tuple[str, ...] = field(default_factory=tuple)
    # parts read when present: collected like needs, but a missing one (reported by its collector)
    # does not skip the check -- for checks with more than one source
    uses: tuple[type, ...] = ()
    # for a region-scoped check: parts it reads from each of the region's clusters (collected per
    # cluster; a cluster without them is simply not looked at)
    cluster_needs: tuple[type, ...] = ()

    def evaluate(
        self, snapshot: ClusterSnapshot | RegionSnapshot, settings: Thresholds, now: datetime
    ) -> list[Problem | Unevaluated]:
        return list(self.fn(snapshot, settings, now))


@dataclass(frozen=True)
class MetricSourceSpec:
    """Turns a snapshot into CloudWatch metric points (published by eksmon.publish.metrics)."""

    name: str
    monitor: Monitor
    scope: Scope
    needs: tuple[type, ...]
    fn: Callable[..., Iterable[Any]]


class Registry:
    def __init__(self) -> None:
        self.checks: dict[str, CheckSpec] = {}
        self.collectors: dict[type, CollectorSpec] = {}
        self.metric_sources: dict[str, MetricSourceSpec] = {}

    # -- declaration ---------------------------------------------------------------------------
    def add_check(self, spec: CheckSpec) -> None:
        if spec.id in self.checks and self.checks[spec.id].fn is not spec.fn:
            raise ValueError(f"check id {spec.id!r} is registered twice")
        self.checks[spec.id] = spec

    def add_collector(self, spec: CollectorSpec) -> None:
        known = self.collectors.get(spec.provides)
        if known is not None and known.fn is not spec.fn:
            raise ValueError(f"{spec.provides.__name__} already has a collector: {known.name}")
        self.collectors[spec.provides] = spec

    # -- queries -------------------------------------------------------------------------------
    def select(
        self,
        patterns: Sequence[str] = (),
        disabled: Iterable[str] = (),
        monitor: Monitor | None = None,
    ) -> list[CheckSpec]:
        """Checks matching any pattern (ids or globs; none means all), minus disabled ones."""
        off = set(disabled)
        chosen = []
        for spec in sorted(self.checks.values(), key=lambda s: s.id):
            if monitor is not None and spec.monitor != monitor:
                continue
            if patterns and not any(fnmatchcase(spec.id, p) for p in patterns):
                continue
            if spec.id in off:
                continue
            chosen.append(spec)
        return chosen

    def collectors_for(self, checks: Iterable[CheckSpec]) -> list[CollectorSpec]:
        """The collectors the checks need, each after the ones it reads (dependency order)."""
        ordered: list[CollectorSpec] = []
        seen: set[type] = set()

        def visit(kind: type, trail: tuple[type, ...]) -> None:
            if kind in seen:
                return
            if kind in trail:
                raise ValueError(f"collector cycle through {kind.__name__}")
            spec = self.collectors.get(kind)
            if spec is None:
                raise ValueError(f"no collector provides {kind.__name__}")
            for need in (*spec.needs, *spec.uses):
                visit(need, (*trail, kind))
            seen.add(kind)
            ordered.append(spec)

        for chk in checks:
            for need in (*chk.cluster_needs, *chk.needs, *chk.uses):
                visit(need, ())
        return ordered

    def iam_actions(self, checks: Iterable[CheckSpec]) -> list[str]:
        actions = {a for c in self.collectors_for(checks) for a in c.iam_actions}
        return sorted(actions)

    def kube_permissions(self, checks: Iterable[CheckSpec]) -> list[KubePermission | KubeNonResource]:
        """One rule per resource and scope (or URL), with the verbs and object names every collector
        declared for it merged; a declaration without names makes the merged rule unrestricted."""
        verbs: dict[tuple[str, ...], set[str]] = {}
        names: dict[tuple[str, ...], set[str] | None] = {}
        for col in self.collectors_for(checks):
            for p in col.kube:
                if isinstance(p, KubeNonResource):
                    verbs.setdefault((p.url,), set()).update(p.verbs)
                    continue
                key = (p.api_group, p.resource, p.namespace)
                verbs.setdefault(key, set()).update(p.verbs)
                known = names.get(key, set())
                names[key] = None if known is None or not p.names else known | set(p.names)
        return [
            KubeNonResource(key[0], tuple(sorted(v)))
            if len(key) == 1
            else KubePermission(key[0], key[1], tuple(sorted(v)), key[2], tuple(sorted(names[key] or ())))
            for key, v in sorted(verbs.items())
        ]


REGISTRY = Registry()
_loaded = False


def load() -> Registry:
    """Import every check and collector module once; return the filled registry."""
    global _loaded  # noqa: PLW0603 - the registry is filled exactly once per process
    if not _loaded:
        for name in DISCOVERED_PACKAGES:
            package = importlib.import_module(name)
            for info in pkgutil.iter_modules(package.__path__, name + "."):
                importlib.import_module(info.name)
        _loaded = True
    return REGISTRY


def check(
    *,
    id: str,
    title: str,
    monitor: Monitor,
    needs: tuple[type, ...],
    docs: str,
    severity_rules: str,
    scope: Scope = "cluster",
    thresholds: type[Thresholds] = NoThresholds,
    sources: tuple[str, ...] = (),
    uses: tuple[type, ...] = (),
    cluster_needs: tuple[type, ...] = (),
) -> Callable[
    [Callable[..., Iterable[Problem | Unevaluated]]], Callable[..., Iterable[Problem | Unevaluated]]
]:
    def register(
        fn: Callable[..., Iterable[Problem | Unevaluated]],
    ) -> Callable[..., Iterable[Problem | Unevaluated]]:
        REGISTRY.add_check(
            CheckSpec(
                id=id,
                title=title,
                monitor=monitor,
                scope=scope,
                needs=needs,
                docs=docs,
                severity_rules=severity_rules,
                fn=fn,
                thresholds=thresholds,
                sources=sources,
                uses=uses,
                cluster_needs=cluster_needs,
            )
        )
        return fn

    return register


def metric_source(
    *, monitor: Monitor, needs: tuple[type, ...], scope: Scope = "cluster"
) -> Callable[[Callable[..., Iterable[Any]]], Callable[..., Iterable[Any]]]:
    """Declare a function (snapshot, now) -> MetricPoints, run after the monitor's scan."""

    def register(fn: Callable[..., Iterable[Any]]) -> Callable[..., Iterable[Any]]:
        name = f"{fn.__module__}.{fn.__name__}"
        REGISTRY.metric_sources[name] = MetricSourceSpec(name, monitor, scope, needs, fn)
        return fn

    return register


def collector(
    *,
    provides: type[T],
    scope: Scope = "cluster",
    iam_actions: tuple[str, ...] = (),
    kube: tuple[KubePermission | KubeNonResource, ...] = (),
    needs: tuple[type, ...] = (),
    uses: tuple[type, ...] = (),
    name: str | None = None,
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Declare a collector. Its name (in findings and ``eksmon checks``) is ``<module>.<function>``
    unless ``name`` is given: a collector moved to another module keeps the name it was reported by."""

    def register(fn: Callable[..., T]) -> Callable[..., T]:
        REGISTRY.add_collector(
            CollectorSpec(
                name=name or fn.__module__.rsplit(".", 1)[-1] + "." + fn.__name__,
                provides=provides,
                scope=scope,
                fn=fn,
                iam_actions=iam_actions,
                kube=kube,
                needs=needs,
                uses=uses,
            )
        )
        return fn

    return register
