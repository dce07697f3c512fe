"""cluster.nodegroup_health as a pure function, and the collector's reading of health.issues."""

from __future__ import annotations

from datetime import UTC, datetime

from eksmon.checks.cluster_nodegroup_health import nodegroup_health
from eksmon.collectors.eks import Nodegroup, Nodegroups, health_issues
from eksmon.models import Severity
from eksmon.parts import HealthIssue
from eksmon.registry import NoThresholds, load

from .lifecycle_builders import snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def run(*groups: Nodegroup) -> list:
    return list(nodegroup_health(snapshot(Nodegroups(groups)), NoThresholds(), NOW))


def ng(name: str, *issues: HealthIssue, status: str = "ACTIVE") -> Nodegroup:
    return Nodegroup(name, "1.34", status, None, issues)


LAUNCH = HealthIssue("AsgInstanceLaunchFailures", "Could not launch On-Demand Instances.", ("eks-ng-1",))


def test_an_unhealthy_node_group_is_critical_with_code_message_and_resources() -> None:
    [p] = run(ng("workers", LAUNCH))
    assert p.severity is Severity.CRITICAL
    assert p.resource == "nodegroup/workers/health/AsgInstanceLaunchFailures"
    assert "Could not launch On-Demand Instances." in p.message and "eks-ng-1" in p.message
    assert "Auto Scaling group" in p.remediation and "--nodegroup-name workers" in p.remediation
    assert p.details["resource_ids"] == ["eks-ng-1"] and p.details["code"] == "AsgInstanceLaunchFailures"


def test_a_healthy_node_group_beside_it_is_not_reported() -> None:
    found = run(ng("healthy"), ng("workers", LAUNCH))
    assert [p.details["nodegroup"] for p in found] == ["workers"]


def test_one_finding_per_node_group_and_code_with_the_resources_merged() -> None:
    again = HealthIssue("AsgInstanceLaunchFailures", "other text", ("eks-ng-2", "eks-ng-1"))
    role = HealthIssue("IamInstanceProfileNotFound", "", ())
    found = run(ng("a", LAUNCH, again, role), ng("b", role))
    assert [p.resource for p in found] == [
        "nodegroup/a/health/AsgInstanceLaunchFailures",
        "nodegroup/a/health/IamInstanceProfileNotFound",
        "nodegroup/b/health/IamInstanceProfileNotFound",
    ]
    assert found[0].details["resource_ids"] == ["eks-ng-1", "eks-ng-2"]
    assert "Affected" not in found[1].message  # no resources named: nothing invented


def test_a_degraded_node_group_with_issues_is_reported_but_one_being_deleted_is_not() -> None:
    assert len(run(ng("a", LAUNCH, status="DEGRADED"))) == 1
    assert len(run(ng("a", LAUNCH, status="DELETE_FAILED"))) == 1
    assert run(ng("a", LAUNCH, status="DELETING")) == []


def test_no_node_groups_means_nothing_to_report() -> None:
    assert run() == []


def test_health_issues_are_read_from_an_api_answer_tolerating_missing_fields() -> None:
    doc = {"health": {"issues": [{"code": "NodeCreationFailure"}, {"message": "m", "resourceIds": None}]}}
    assert health_issues(doc) == (
        HealthIssue("NodeCreationFailure", "", ()),
        HealthIssue("Unknown", "m", ()),
    )
    assert health_issues({}) == () and health_issues({"health": None}) == ()


def test_registered_with_the_node_group_reads_it_needs() -> None:
    spec = load().checks["cluster.nodegroup_health"]
    assert {"eks:ListNodegroups", "eks:DescribeNodegroup"} <= set(load().iam_actions([spec]))
