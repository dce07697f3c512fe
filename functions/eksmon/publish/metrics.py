"""CloudWatch metrics in namespace EKSMonitor, as EMF through Powertools, with bounded dimensions.

Monitor-specific points come from ``@metric_source`` functions declared beside their checks;
the generic one (open findings by severity, also the heartbeat) is computed here. A custom metric is
published only where no free metric carries the signal: ``make cost`` prices every series written here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from eksmon.models import MetricPoint, Severity
from eksmon.observability import NAMESPACE, SERVICE
from eksmon.parts.scan import ABOUT_THE_MONITOR, ScanResult
from eksmon.registry import Monitor, Registry, load
from eksmon.snapshot import MissingData

# Info findings never page: their count is in each run's summary (log line) and in the reports, not in a
# series of its own that would cost $0.30 a month per monitor.
PUBLISHED_SEVERITIES = (Severity.CRITICAL, Severity.WARNING)


def generic_points(monitor: str, result: ScanResult) -> Iterator[MetricPoint]:
    """Open critical and warning findings: one series per monitor and severity, and nothing else per run.

    ``OpenFindings`` with ``Severity=critical`` is also the run's heartbeat (every run writes it, 0 or
    more). What AWS already records for free is not repeated: run duration and invocations (AWS/Lambda),
    messages published (AWS/SNS); collection errors and a run near its time budget are findings of their
    own (``monitor.collection_error``, ``monitor.run_time``), not counted here: the series counts what is
    wrong with the fleet.
    """
    by_sev = dict.fromkeys(PUBLISHED_SEVERITIES, 0)
    for f in result.findings:
        if f.check not in ABOUT_THE_MONITOR and f.severity in by_sev:
            by_sev[f.severity] += 1
    for sev, n in by_sev.items():
        yield MetricPoint("OpenFindings", n, "Count", {"Monitor": monitor, "Severity": sev.value})


def located(point: MetricPoint, account: str, region: str) -> MetricPoint:
    """The point with ``Account`` and ``Region`` first: two clusters (or regions) of one name in two
    accounts or regions never share a series (SPEC "CloudWatch")."""
    return replace(point, dimensions={"Account": account, "Region": region, **point.dimensions})


def monitor_points(
    monitor: Monitor, result: ScanResult, now: datetime, registry: Registry | None = None
) -> list[MetricPoint]:
    """What one run of ``monitor`` publishes: the generic series and its metric sources' points,
    less those a free AWS metric already carries (``MetricPoint.free``)."""
    registry = registry or load()
    points: list[MetricPoint] = list(generic_points(monitor, result))
    for source in registry.metric_sources.values():
        if source.monitor != monitor:
            continue
        snaps = result.clusters if source.scope == "cluster" else result.regions
        for snap in snaps:
            if all(snap.has(n) for n in source.needs):
                try:
                    found = list(source.fn(snap, now))
                except MissingData:
                    continue
                points.extend(located(p, snap.account, snap.region) for p in found if not p.free)
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
