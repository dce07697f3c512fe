"""version.nodegroup_skew as a pure function: the skew policy between control plane and node groups."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eksmon.checks.version_nodegroup_skew import nodegroup_skew
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .lifecycle_builders import info, nodegroups, snapshot

NONE = NoThresholds()
# 1.34: standard support ends 2026-12-02, extended support 2027-12-02
END_134 = datetime(2026, 12, 2, tzinfo=UTC)


class TestNodegroupSkew:
    @pytest.mark.parametrize(
        ("plane", "nodes", "expected"),
        [
            ("1.34", "1.34", None),
            ("1.34", "1.33", Severity.WARNING),
            ("1.34", "1.32", Severity.WARNING),
            ("1.34", "1.31", Severity.WARNING),  # 3 is allowed from 1.28 on
            ("1.34", "1.30", Severity.CRITICAL),
            ("1.27", "1.25", Severity.WARNING),  # 2 allowed before 1.28
            ("1.27", "1.24", Severity.CRITICAL),
            ("1.33", "1.34", Severity.CRITICAL),  # kubelet newer than the apiserver
        ],
    )
    def test_skew_policy(self, plane: str, nodes: str, expected: Severity | None) -> None:
        snap = snapshot(info(version=plane), nodegroups(("ng-1", nodes)))
        found = list(nodegroup_skew(snap, NONE, END_134))
        assert [f.severity for f in found] == ([expected] if expected else [])
        if found:
            assert found[0].resource == "nodegroup/ng-1"
            assert found[0].details["skew"] == int(plane.split(".")[1]) - int(nodes.split(".")[1])

    def test_at_the_limit_says_the_control_plane_cannot_move(self) -> None:
        (f,) = nodegroup_skew(snapshot(info(version="1.34"), nodegroups(("ng", "1.31"))), NONE, END_134)
        assert "cannot be upgraded again" in f.message

    def test_deleting_and_unversioned_node_groups_are_ignored(self) -> None:
        snap = snapshot(info(version="1.34"), nodegroups(("gone", "1.30"), status="DELETING"))
        assert list(nodegroup_skew(snap, NONE, END_134)) == []
        assert list(nodegroup_skew(snapshot(info(), nodegroups(("x", None))), NONE, END_134)) == []

    def test_one_finding_per_node_group(self) -> None:
        snap = snapshot(info(version="1.34"), nodegroups(("a", "1.34"), ("b", "1.33"), ("c", "1.29")))
        assert sorted(f.resource for f in nodegroup_skew(snap, NONE, END_134)) == [
            "nodegroup/b",
            "nodegroup/c",
        ]
