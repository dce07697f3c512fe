"""What a scan hands to its publishers: the findings, the snapshots they came from, and the ids of the
findings the monitor reports about itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eksmon.clusterfilter import FilterMiss
from eksmon.models import Finding, Severity
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot

if TYPE_CHECKING:
    from eksmon.aws import ApiCallCounter
    from eksmon.registry import CheckSpec, Thresholds

COLLECTION_ERROR = "monitor.collection_error"
RUN_TIME = "monitor.run_time"
FILTER_MATCHES_NOTHING = "monitor.filter_matches_nothing"
# findings about the monitor itself, not about the fleet: reported, but not counted in OpenFindings and
# never failing a CI job (--fail-on)
ABOUT_THE_MONITOR = frozenset({COLLECTION_ERROR, RUN_TIME, FILTER_MATCHES_NOTHING})


@dataclass
class ScanResult:
    findings: list[Finding]
    regions: list[RegionSnapshot]
    api_calls: ApiCallCounter
    started_at: datetime
    duration_seconds: float
    checks: list[CheckSpec]
    thresholds: dict[str, Thresholds] = field(default_factory=dict)  # check id -> as configured for the scan
    # clusters.include patterns that selected no cluster (eksmon.clusterfilter)
    filter_misses: list[FilterMiss] = field(default_factory=list)

    @property
    def clusters(self) -> list[ClusterSnapshot]:
        return [c for r in self.regions for c in r.clusters]

    def summary(self) -> dict[str, Any]:
        by_severity = {s.value: 0 for s in Severity}
        for f in self.findings:
            by_severity[f.severity.value] += 1
        return {
            "findings": len(self.findings),
            "by_severity": by_severity,
            "accounts": len({r.account for r in self.regions}),
            "regions": len(self.regions),
            "clusters": len(self.clusters),
            "checks": len(self.checks),
            "collection_errors": sum(1 for f in self.findings if f.check == COLLECTION_ERROR),
            "api_calls": self.api_calls.total,
            "duration_seconds": round(self.duration_seconds, 3),
        }
