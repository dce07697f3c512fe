"""cluster.control_plane_logging as a pure function."""

from __future__ import annotations

from datetime import UTC, datetime

from eksmon.checks.cluster_control_plane_logging import control_plane_logging
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .lifecycle_builders import info, snapshot

NONE = NoThresholds()
# 1.34: standard support ends 2026-12-02, extended support 2027-12-02
END_134 = datetime(2026, 12, 2, tzinfo=UTC)


class TestClusterChecks:
    def test_logging_off_is_info_listing_the_types(self) -> None:
        (f,) = control_plane_logging(snapshot(info(logging_enabled=frozenset({"api"}))), NONE, END_134)
        assert f.severity is Severity.INFO
        assert f.details["disabled"] == ["audit", "authenticator", "controllerManager", "scheduler"]
        assert list(control_plane_logging(snapshot(info()), NONE, END_134)) == []
        assert list(control_plane_logging(snapshot(info(logging_enabled=None)), NONE, END_134)) == []
