"""cluster.addon_health as a pure function."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eksmon.checks.cluster_addon_health import AddonHealthThresholds, addon_health
from eksmon.collectors.eks import Addon, Addons
from eksmon.models import Severity
from eksmon.parts import HealthIssue
from eksmon.settings import parse_settings

from .lifecycle_builders import snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
DEFAULT = AddonHealthThresholds()
CONFLICT = HealthIssue("ConfigurationConflict", "Conflicts found when trying to apply.", ("aws-node",))


def addon(name: str, *issues: HealthIssue, status: str = "DEGRADED") -> Addon:
    return Addon(name, "v1.0.0-eksbuild.1", status, "1.35", True, None, issues)


def run(*items: Addon, t: AddonHealthThresholds = DEFAULT) -> list:
    return list(addon_health(snapshot(Addons(items)), t, NOW))


@pytest.mark.parametrize("name", ["vpc-cni", "coredns", "kube-proxy"])
def test_the_addons_every_pod_needs_are_critical(name: str) -> None:
    [p] = run(addon(name, CONFLICT))
    assert p.severity is Severity.CRITICAL
    assert p.resource == f"addon/{name}/health/ConfigurationConflict"
    assert "Conflicts found" in p.message and "aws-node" in p.message and "Every pod" in p.message


@pytest.mark.parametrize("name", ["aws-ebs-csi-driver", "eks-pod-identity-agent", "vpc-cni-custom"])
def test_other_addons_are_warnings(name: str) -> None:
    [p] = run(addon(name, CONFLICT))
    assert p.severity is Severity.WARNING and "Every pod" not in p.message


def test_a_healthy_addon_beside_an_unhealthy_one_is_not_reported() -> None:
    found = run(addon("coredns", status="ACTIVE"), addon("kube-proxy", CONFLICT))
    assert [p.details["addon"] for p in found] == ["kube-proxy"]


def test_a_degraded_status_without_issues_is_not_a_finding() -> None:
    assert run(addon("vpc-cni", status="DEGRADED")) == []


def test_one_finding_per_code_and_none_for_an_addon_being_deleted() -> None:
    perms = HealthIssue("InsufficientNumberOfReplicas", "", ())
    found = run(addon("coredns", CONFLICT, perms, CONFLICT))
    assert [p.details["code"] for p in found] == ["ConfigurationConflict", "InsufficientNumberOfReplicas"]
    assert found[0].details["resource_ids"] == ["aws-node"]
    assert run(addon("coredns", CONFLICT, status="DELETING")) == []


def test_the_critical_list_is_configurable() -> None:
    settings = parse_settings(
        {"checks": {"thresholds": {"cluster.addon_health": {"critical_addons": ["aws-ebs-csi-driver"]}}}}
    )
    t = AddonHealthThresholds.model_validate(settings.checks.thresholds["cluster.addon_health"])
    assert run(addon("aws-ebs-csi-driver", CONFLICT), t=t)[0].severity is Severity.CRITICAL
    assert run(addon("coredns", CONFLICT), t=t)[0].severity is Severity.WARNING
