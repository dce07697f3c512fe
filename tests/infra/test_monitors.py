"""Which monitors the stack deploys, and the resources their read actions are granted on (no synth)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from eksmon.registry import CheckSpec, CollectorSpec, Registry
from infra.constants import RESOURCE_SCOPED_ACTIONS
from infra.constructs.scheduled_check import group_by_resource
from infra.monitors import handler_module_exists, plan_monitors

pytestmark = pytest.mark.infra


@dataclass(frozen=True)
class ClusterPart:
    pass


@dataclass(frozen=True)
class QuotaPart:
    pass


def _never(*_args: Any) -> Iterable[Any]:
    return []


def _registry() -> Registry:
    registry = Registry()
    registry.add_collector(
        CollectorSpec("eks.cluster", ClusterPart, "cluster", _never, iam_actions=("eks:DescribeCluster",))
    )
    registry.add_collector(
        CollectorSpec("quotas.q", QuotaPart, "region", _never, iam_actions=("servicequotas:GetServiceQuota",))
    )
    for check_id, monitor, part in (
        ("version.a", "lifecycle", ClusterPart),
        ("quota.b", "quotas", QuotaPart),
    ):
        registry.add_check(
            CheckSpec(check_id, check_id, monitor, "cluster", (part,), "https://example.com", "", _never)  # type: ignore[arg-type]
        )
    return registry


def test_a_monitor_needs_checks_and_a_handler() -> None:
    handlers = {"lifecycle", "kubernetes"}  # kubernetes: a handler but no checks
    plans = plan_monitors(_registry(), handler_exists=lambda m: m in handlers)
    assert [p.monitor for p in plans] == ["lifecycle"]  # quotas: checks but no handler yet
    (plan,) = plans
    assert plan.handler == "eksmon.handlers.lifecycle.handler"
    assert plan.iam_actions == ("eks:DescribeCluster",)
    assert plan.check_ids == ("version.a",)


def test_each_monitor_reads_only_what_its_own_checks_need() -> None:
    plans = {p.monitor: p for p in plan_monitors(_registry(), handler_exists=lambda _m: True)}
    assert plans["quotas"].iam_actions == ("servicequotas:GetServiceQuota",)
    assert plans["lifecycle"].iam_actions == ("eks:DescribeCluster",)


def test_the_handler_rule_uses_the_real_modules() -> None:
    assert not handler_module_exists("no_such_monitor")
    assert handler_module_exists("lifecycle") == _importable("eksmon.handlers.lifecycle")


def test_read_actions_are_scoped_where_iam_allows_it() -> None:
    grouped = group_by_resource(
        ["eks:ListClusters", "eks:DescribeCluster", "eks:DescribeNodegroup", "eks:ListClusters"]
    )
    assert grouped["*"] == ["eks:ListClusters"]
    assert grouped[RESOURCE_SCOPED_ACTIONS["eks:DescribeCluster"]] == ["eks:DescribeCluster"]
    assert grouped[RESOURCE_SCOPED_ACTIONS["eks:DescribeNodegroup"]] == ["eks:DescribeNodegroup"]


def test_update_reads_are_granted_on_the_cluster_its_node_groups_and_its_add_ons() -> None:
    grouped = group_by_resource(["eks:ListUpdates", "eks:DescribeUpdate"])
    assert {pattern.rsplit(":", 1)[1] for pattern in grouped} == {
        "cluster/*",
        "nodegroup/*/*/*",
        "addon/*/*/*",
    }
    assert all(actions == ["eks:DescribeUpdate", "eks:ListUpdates"] for actions in grouped.values())


def test_resource_patterns_pin_service_and_account() -> None:
    for action, pattern in RESOURCE_SCOPED_ACTIONS.items():
        service = action.split(":")[0]
        assert pattern.startswith(f"arn:{{partition}}:{service}:*:{{account}}:"), action


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_registry_actions_are_specific() -> None:
    """What the registry declares becomes the roles: no wildcards, always service:Action."""
    from eksmon.registry import load

    registry = load()
    for action in registry.iam_actions(registry.select()):
        service, _, name = action.partition(":")
        assert service and name and "*" not in action, action
