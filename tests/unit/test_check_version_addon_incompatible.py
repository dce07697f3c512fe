"""version.addon_incompatible as a pure function."""

from __future__ import annotations

from datetime import UTC, datetime

from eksmon.checks.version_addon_incompatible import addon_incompatible
from eksmon.collectors.eks import Addon
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .lifecycle_builders import addons, info, snapshot

NONE = NoThresholds()
# 1.34: standard support ends 2026-12-02, extended support 2027-12-02
END_134 = datetime(2026, 12, 2, tzinfo=UTC)


class TestAddons:
    def test_incompatible_addon_warns_with_the_version_to_move_to(self) -> None:
        snap = snapshot(
            info(),
            addons(
                Addon("vpc-cni", "v1.18.3", "ACTIVE", "1.35", False, "v1.21.1"),
                Addon("coredns", "v1.12", "ACTIVE", "1.35", True, "v1.13"),
                Addon("custom", "v0", "ACTIVE", "1.35", None, None),
            ),
        )
        (f,) = addon_incompatible(snap, NONE, END_134)
        assert f.resource == "addon/vpc-cni" and f.severity is Severity.WARNING
        assert f.details["next_version"] == "1.35" and "v1.21.1" in f.remediation
