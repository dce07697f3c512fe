"""auth.config_map_only: authentication only through aws-auth, one bad edit away from a lock-out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot


@check(
    id="auth.config_map_only",
    title="Cluster authentication relies on the aws-auth ConfigMap alone",
    monitor="lifecycle",
    needs=(ClusterInfo,),
    docs="https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html",
    severity_rules="warning when accessConfig.authenticationMode is CONFIG_MAP",
    sources=("eks:DescribeCluster",),
)
def config_map_only(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    info = snap.get(ClusterInfo)
    if info.authentication_mode != "CONFIG_MAP":
        return
    yield Problem(
        Severity.WARNING,
        "access-config",
        f"Cluster {info.name} authenticates IAM principals only through the kube-system/aws-auth ConfigMap. "
        "One malformed edit of that ConfigMap locks every user and node out of the cluster, and only the "
        "cluster creator's identity can still get in.",
        f"Switch to access entries: aws eks update-cluster-config --name {info.name} "
        "--access-config authenticationMode=API_AND_CONFIG_MAP, create access entries for your admin roles, "
        "then move to API.",
        {"authentication_mode": info.authentication_mode},
        title="aws-auth ConfigMap is the only way into the cluster",
    )
