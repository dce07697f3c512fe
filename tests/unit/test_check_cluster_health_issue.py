"""cluster.health_issue as a pure function."""

from __future__ import annotations

from datetime import UTC, datetime

from eksmon.checks.cluster_health_issue import health_issue
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .lifecycle_builders import health, info, snapshot

NONE = NoThresholds()
# 1.34: standard support ends 2026-12-02, extended support 2027-12-02
END_134 = datetime(2026, 12, 2, tzinfo=UTC)


class TestClusterChecks:
    def test_one_critical_per_health_issue_code(self) -> None:
        snap = snapshot(
            info(health_issues=health("Ec2SubnetNotFound", "Ec2SubnetNotFound", "IamRoleNotFound"))
        )
        found = list(health_issue(snap, NONE, END_134))
        assert [f.resource for f in found] == ["health/Ec2SubnetNotFound", "health/IamRoleNotFound"]
        assert all(f.severity is Severity.CRITICAL for f in found)
        assert found[0].details["resource_ids"] == ["res-0", "res-1"]
