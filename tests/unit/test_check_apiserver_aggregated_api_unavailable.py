"""apiserver.aggregated_api_unavailable: an aggregated API down, worse once a namespace waits on it;
and the APIServices that only look unavailable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from eksmon.checks.apiserver_aggregated_api_unavailable import aggregated_api_unavailable
from eksmon.collectors.kubernetes_aggregation import (
    AggregatedApis,
    ApiService,
    StuckNamespace,
    api_service,
    stuck_namespace,
)
from eksmon.collectors.kubernetes_common import BadObject
from eksmon.registry import NoThresholds

from .kubernetes_builders import snapshot

NOW = datetime(2026, 12, 5, tzinfo=UTC)
METRICS = ApiService(
    "v1beta1.metrics.k8s.io",
    "metrics.k8s.io/v1beta1",
    "kube-system/metrics-server",
    available=False,
    reason="MissingEndpoints",
    message="endpoints for service/metrics-server in kube-system have no addresses",
    since="2026-12-01T00:00:00Z",
)
STUCK = StuckNamespace(
    "preview-42",
    "Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: "
    "metrics.k8s.io/v1beta1: the server is currently unable to handle the request",
)


def findings(*apis: ApiService, stuck: tuple[StuckNamespace, ...] = ()) -> list[Any]:
    return list(aggregated_api_unavailable(snapshot(AggregatedApis(apis, stuck)), NoThresholds(), NOW))


def test_an_unavailable_aggregated_api_is_a_warning_naming_its_service_and_reason() -> None:
    [p] = findings(METRICS)
    assert p.severity.value == "warning" and p.resource == "APIService/v1beta1.metrics.k8s.io"
    assert "kube-system/metrics-server" in p.message and "MissingEndpoints" in p.message
    assert "since 2026-12-01" in p.message and "kubectl delete apiservice" in p.remediation
    assert p.details["stuck_namespaces"] == []


def test_a_namespace_stuck_on_it_makes_it_critical_and_is_named() -> None:
    [p] = findings(METRICS, stuck=(STUCK,))
    assert p.severity.value == "critical" and "preview-42" in p.message
    assert p.details["stuck_namespaces"] == ["preview-42"]


def test_a_namespace_stuck_on_another_group_does_not_raise_this_one() -> None:
    other = StuckNamespace("x", "Discovery failed ...: custom.metrics.k8s.io/v1beta2: unable to handle")
    [p] = findings(METRICS, stuck=(other,))
    assert p.severity.value == "warning"


def test_one_finding_per_unavailable_api() -> None:
    custom = ApiService(
        "v1beta2.custom.metrics.k8s.io", "custom.metrics.k8s.io/v1beta2", "monitoring/adapter", False
    )
    assert {p.resource for p in findings(METRICS, custom)} == {
        "APIService/v1beta1.metrics.k8s.io",
        "APIService/v1beta2.custom.metrics.k8s.io",
    }


# -- near misses --------------------------------------------------------------------------------------
def test_available_again_is_not_a_finding() -> None:
    back = ApiService("v1beta1.metrics.k8s.io", "metrics.k8s.io/v1beta1", "kube-system/metrics-server", True)
    assert findings(back, stuck=(STUCK,)) == []


def test_an_api_without_an_available_condition_yet_is_not_judged() -> None:
    fresh = ApiService("v1beta1.metrics.k8s.io", "metrics.k8s.io/v1beta1", "kube-system/metrics-server", None)
    assert findings(fresh) == []


# -- reading objects ----------------------------------------------------------------------------------
def apiservice_obj(service: dict[str, Any] | None, status: str = "False") -> dict[str, Any]:
    spec: dict[str, Any] = {"group": "metrics.k8s.io", "version": "v1beta1"}
    if service is not None:
        spec["service"] = service
    return {
        "metadata": {"name": "v1beta1.metrics.k8s.io"},
        "spec": spec,
        "status": {
            "conditions": [
                {
                    "type": "Available",
                    "status": status,
                    "reason": "ServiceNotFound",
                    "lastTransitionTime": "t",
                }
            ]
        },
    }


def test_a_local_apiservice_is_the_apiserver_itself_and_never_kept() -> None:
    assert api_service(apiservice_obj(None)) is None


def test_an_aggregated_apiservice_is_read_with_its_condition() -> None:
    got = api_service(apiservice_obj({"namespace": "kube-system", "name": "metrics-server"}))
    assert got is not None and got.available is False and got.reason == "ServiceNotFound"
    assert got.group_version == "metrics.k8s.io/v1beta1" and got.service == "kube-system/metrics-server"


def test_a_service_that_is_not_an_object_is_a_bad_object() -> None:
    with pytest.raises(BadObject):
        api_service(apiservice_obj("metrics-server"))  # type: ignore[arg-type]


def test_only_a_true_discovery_failure_condition_makes_a_namespace_stuck() -> None:
    def ns(status: str, kind: str = "NamespaceDeletionDiscoveryFailure") -> dict[str, Any]:
        return {
            "metadata": {"name": "preview-42"},
            "status": {
                "phase": "Terminating",
                "conditions": [{"type": kind, "status": status, "message": "m"}],
            },
        }

    assert stuck_namespace(ns("True")) == StuckNamespace("preview-42", "m", None)
    assert stuck_namespace(ns("False")) is None
    assert stuck_namespace(ns("True", "NamespaceContentRemaining")) is None
