"""The scanner built from one request, and its Kubernetes circuit breaker as part of the error model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eksmon.collection import _KubeState
from eksmon.context import CollectContext
from eksmon.engine import Scanner, ScanRequest
from eksmon.kube.errors import KubeServerError, KubeUnauthorized
from eksmon.registry import CollectorSpec, KubePermission, load
from eksmon.settings import Settings
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REGISTRY = load()
PODS = KubePermission("", "pods", ("list",))


class _PartA:
    pass


class _PartB:
    pass


def _scanner() -> Scanner:
    return Scanner(ScanRequest(Settings(), list(REGISTRY.checks.values()), NOW, registry=REGISTRY))


def _ctx() -> CollectContext:
    region = RegionSnapshot("123456789012", "eu-west-1")
    cluster = ClusterSnapshot("123456789012", "eu-west-1", "prod", region)
    return CollectContext("123456789012", "eu-west-1", None, Settings(), NOW, region, cluster)  # type: ignore[arg-type]


def _spec(name: str, provides: type, exc: BaseException) -> CollectorSpec:
    def fn(_ctx: Any) -> Any:
        raise exc

    return CollectorSpec(name=name, provides=provides, scope="cluster", fn=fn, kube=(PODS,))


def test_a_scanner_is_built_from_one_request() -> None:
    request = ScanRequest(
        Settings(), REGISTRY.select(["cluster.*"]), NOW, registry=REGISTRY, window_minutes=45
    )
    scanner = Scanner(request)
    assert scanner.needs.window_minutes == 45
    assert scanner.now == NOW and scanner.monitor is None
    assert {c.id for c in scanner.checks} == {c.id for c in REGISTRY.select(["cluster.*"])}


def test_a_cluster_wide_kube_error_stops_the_clusters_kubernetes_collectors() -> None:
    scanner, kube = _scanner(), _KubeState()
    refused = KubeUnauthorized(401, "Unauthorized", "/api/v1/pods")
    scanner._run_collector(_spec("k8s.a", _PartA, refused), _ctx(), {}, kube)
    scanner._run_collector(_spec("k8s.b", _PartB, RuntimeError("never called")), _ctx(), {}, kube)
    assert kube.down is refused
    assert [s.name for s in kube.skipped] == ["k8s.a", "k8s.b"]  # the second was not asked
    assert scanner._errors == {}  # reported once, when the cluster is done


def test_one_failed_request_is_its_sources_error_and_the_cluster_is_asked_again() -> None:
    scanner, kube = _scanner(), _KubeState()
    scanner._run_collector(
        _spec("k8s.a", _PartA, KubeServerError(500, "boom", "/api/v1/pods")), _ctx(), {}, kube
    )
    assert kube.down is None and kube.skipped == []
    [error] = scanner._errors.values()
    assert error.resource == "source/k8s.a"


def test_only_the_error_model_trips_the_breaker_not_an_attribute_of_any_exception() -> None:
    """An exception outside the Kubernetes error model is one source's error, whatever attributes it has."""

    class Lookalike(Exception):
        cluster_wide = True

    scanner, kube = _scanner(), _KubeState()
    scanner._run_collector(_spec("k8s.a", _PartA, Lookalike("not a KubeError")), _ctx(), {}, kube)
    assert kube.down is None
    [error] = scanner._errors.values()
    assert error.resource == "source/k8s.a"


def test_a_context_lists_what_its_collector_reported() -> None:
    ctx = _ctx()
    ctx.report("eks:ListThings", RuntimeError("one"))
    ctx.report_region("cloudwatch:GetMetricData", RuntimeError("two"))
    errors = ctx.errors
    assert [e.resource for e in errors] == ["source/eks:ListThings", "source/cloudwatch:GetMetricData"]
    assert [e.cluster for e in errors] == ["prod", None]
    errors.clear()  # a copy: the context's own list is not the caller's to change
    assert len(ctx.errors) == 2
