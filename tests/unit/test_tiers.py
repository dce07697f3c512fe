"""The Provisioned Control Plane tiers: a cluster's tier from its scaling configuration."""

from __future__ import annotations

import pytest

from eksmon.tiers import tier_name


@pytest.mark.parametrize("config", [None, {}, {"tier": None}, {"tier": ""}])
def test_an_absent_or_empty_scaling_config_is_standard(config) -> None:
    assert tier_name(config) == "standard"
