"""auth.config_map_only as a pure function: every authentication mode."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eksmon.checks.auth_config_map_only import config_map_only
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .lifecycle_builders import info, snapshot

NONE = NoThresholds()
# 1.34: standard support ends 2026-12-02, extended support 2027-12-02
END_134 = datetime(2026, 12, 2, tzinfo=UTC)


class TestClusterChecks:
    @pytest.mark.parametrize(
        ("mode", "fires"),
        [("CONFIG_MAP", True), ("API_AND_CONFIG_MAP", False), ("API", False), (None, False)],
    )
    def test_config_map_only(self, mode: str | None, fires: bool) -> None:
        found = list(config_map_only(snapshot(info(authentication_mode=mode)), NONE, END_134))
        assert bool(found) is fires
        if fires:
            assert found[0].severity is Severity.WARNING and "locks" in found[0].message
