"""cluster.control_plane_logging: control-plane log types that are switched off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@check(
    id="cluster.control_plane_logging",
    title="Control-plane logging partly off",
    monitor="lifecycle",
    needs=(ClusterInfo,),
    docs="https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html",
    severity_rules="info when any of api, audit, authenticator, controllerManager, scheduler logs is off",
    sources=("eks:DescribeCluster",),
)
def control_plane_logging(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    info = snap.get(ClusterInfo)
    if info.logging_enabled is None:
        return  # the API did not say (e.g. a simulator without logging): nothing to judge
    off = [t for t in LOG_TYPES if t not in info.logging_enabled]
    if not off:
        return
    yield Problem(
        Severity.INFO,
        "logging",
        f"Cluster {info.name} does not send these control-plane logs to CloudWatch Logs: {', '.join(off)}. "
        "Without them an apiserver, authentication or scheduling incident leaves no trace to investigate.",
        f"Enable them: aws eks update-cluster-config --name {info.name} --logging "
        f'\'{{"clusterLogging":[{{"types":[{", ".join(repr(t).replace(chr(39), chr(34)) for t in off)}],"enabled":true}}]}}\''
        " (CloudWatch Logs ingestion is charged).",
        {"disabled": off, "enabled": sorted(info.logging_enabled)},
        title=f"{len(off)} control-plane log type{'s' if len(off) > 1 else ''} off",
    )
