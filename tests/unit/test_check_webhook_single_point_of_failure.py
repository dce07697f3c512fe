"""webhook.single_point_of_failure: a fail-closed webhook whose ready endpoints one failure takes away,
and the placements that survive one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from eksmon.checks.webhook_single_point_of_failure import single_point_of_failure
from eksmon.collectors.kubernetes_webhooks import Backend
from eksmon.registry import NoThresholds

from .kubernetes_builders import backend, backends, hook, snapshot, webhooks

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def placed(ready: int, zones: tuple[str, ...], nodes: tuple[str, ...], **kwargs: Any) -> Backend:
    return replace(backend(ready=ready, **kwargs), ready_zones=frozenset(zones), ready_nodes=frozenset(nodes))


def findings(*hooks: Any, backend_: Backend) -> list[Any]:
    snap = snapshot(webhooks(*hooks), backends(backend_))
    return list(single_point_of_failure(snap, NoThresholds(), NOW))


def test_one_ready_endpoint_is_a_single_point_of_failure() -> None:
    [p] = findings(hook(), backend_=placed(1, ("us-east-1a",), ("node-1",)))
    assert p.severity.value == "warning"
    assert p.resource == "ValidatingWebhookConfiguration/policy"
    assert "exactly one ready endpoint" in p.message and "topologySpreadConstraints" in p.remediation
    assert p.details["webhooks"][0]["ready_endpoints"] == 1


def test_all_ready_endpoints_in_one_zone() -> None:
    [p] = findings(hook(), backend_=placed(3, ("us-east-1a",), ("n1", "n2", "n3")))
    assert "in one zone (us-east-1a)" in p.message and p.details["webhooks"][0]["zones"] == ["us-east-1a"]


def test_all_ready_endpoints_on_one_node_is_named_before_the_zone() -> None:
    [p] = findings(hook(), backend_=placed(2, ("us-east-1a",), ("ip-10-0-1-5",)))
    assert "on one node (ip-10-0-1-5)" in p.message


def test_one_finding_per_configuration_naming_each_fragile_webhook() -> None:
    hooks = (hook("a.example.com"), hook("b.example.com"))
    [p] = findings(*hooks, backend_=placed(1, ("z",), ("n",)))
    assert [w["name"] for w in p.details["webhooks"]] == ["a.example.com", "b.example.com"]


# -- near misses --------------------------------------------------------------------------------------
def test_two_zones_and_two_nodes_survive_one_failure() -> None:
    assert findings(hook(), backend_=placed(2, ("us-east-1a", "us-east-1b"), ("n1", "n2"))) == []


def test_unknown_placement_is_never_counted_as_one_place() -> None:
    # slices without zone or nodeName (older controllers, non-pod endpoints)
    assert findings(hook(), backend_=placed(2, ("",), ("",))) == []


def test_a_fail_open_webhook_is_not_a_finding() -> None:
    assert findings(hook(failure_policy="Ignore"), backend_=placed(1, ("z",), ("n",))) == []


def test_no_ready_endpoint_belongs_to_webhook_no_endpoints() -> None:
    assert findings(hook(), backend_=placed(0, (), (), endpoints=2)) == []


def test_a_webhook_called_by_url_cannot_be_placed() -> None:
    assert findings(hook(url="https://policy.example/validate"), backend_=placed(1, ("z",), ("n",))) == []


def test_a_webhook_without_rules_intercepts_nothing() -> None:
    assert findings(hook(rules=()), backend_=placed(1, ("z",), ("n",))) == []


def test_an_external_name_service_is_not_judged() -> None:
    b = placed(1, ("z",), ("n",), service_type="ExternalName")
    assert findings(hook(), backend_=b) == []
