"""CloudWatch metrics in namespace EKSMonitor, as EMF through Powertools, with bounded dimensions.

Monitor-specific points come from ``@metric_source`` functions declared beside their checks;
the generic ones (findings by severity, collection errors, run duration) are computed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from eksmon.context import COLLECTION_ERROR
from eksmon.engine import ScanResult
from eksmon.models import MetricPoint, Severity
from eksmon.observability import NAMESPACE, SERVICE
from eksmon.registry import Monitor, Registry, load
from eksmon.snapshot import MissingData


def generic_points(monitor: str, result: ScanResult) -> Iterator[MetricPoint]:
    by_sev = {s.value: 0 for s in Severity}
    errors = 0
    for f in result.findings:
        if f.check == COLLECTION_ERROR:
            errors += 1
        else:
            by_sev[f.severity.value] += 1
    for sev, n in by_sev.items():
        yield MetricPoint("OpenFindings", n, "Count", {"Monitor": monitor, "Severity": sev})
    yield MetricPoint("CollectionErrors", errors, "Count", {"Monitor": monitor})
    yield MetricPoint(
        "RunDurationSeconds", round(result.duration_seconds, 3), "Seconds", {"Monitor": monitor}
    )
    yield MetricPoint("ClustersScanned", len(result.clusters), "Count", {"Monitor": monitor})
    yield MetricPoint("ApiCalls", result.api_calls.total, "Count", {"Monitor": monitor})


def monitor_points(
    monitor: Monitor, result: ScanResult, now: datetime, registry: Registry | None = None
) -> list[MetricPoint]:
    registry = registry or load()
    points: list[MetricPoint] = list(generic_points(monitor, result))
    for source in registry.metric_sources.values():
        if source.monitor != monitor:
            continue
        snaps = result.clusters if source.scope == "cluster" else result.regions
        for snap in snaps:
            if all(snap.has(n) for n in source.needs):
                try:
                    points.extend(source.fn(snap, now))
                except MissingData:
                    continue
    return points


def emit(points: Iterable[MetricPoint]) -> int:
    """Write each point as one EMF record on stdout (CloudWatch Logs turns it into a metric)."""
    count = 0
    for p in points:
        with single_metric(
            name=p.name, unit=MetricUnit[p.unit], value=p.value, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="service", value=SERVICE)
            for k, v in p.dimensions.items():
                metric.add_dimension(name=k, value=v)
        count += 1
    return count
