"""cluster.health_issue: EKS reports a health issue on the cluster (one finding per issue code)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot


@check(
    id="cluster.health_issue",
    title="EKS cluster health issue",
    monitor="lifecycle",
    needs=(ClusterInfo,),
    docs="https://docs.aws.amazon.com/eks/latest/APIReference/API_ClusterIssue.html",
    severity_rules="critical, one finding per health issue code",
    sources=("eks:DescribeCluster",),
)
def health_issue(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    info = snap.get(ClusterInfo)
    by_code: dict[str, list[str]] = {}
    messages: dict[str, str] = {}
    for issue in info.health_issues:
        by_code.setdefault(issue.code, []).extend(issue.resource_ids)
        messages.setdefault(issue.code, issue.message)
    for code, resources in sorted(by_code.items()):
        listed = f" Affected: {', '.join(resources)}." if resources else ""
        yield Problem(
            Severity.CRITICAL,
            f"health/{code}",
            f"EKS reports {code} on cluster {info.name}: {messages[code]}{listed} Until it is fixed, EKS may be "
            "unable to update, scale or repair the control plane.",
            "Fix the named resources (subnets, security groups, IAM role, KMS key) as the EKS documentation for "
            f"{code} describes, then check `aws eks describe-cluster --name {info.name} --query cluster.health`.",
            {"code": code, "message": messages[code], "resource_ids": resources},
            title=f"Cluster health issue {code}",
        )
