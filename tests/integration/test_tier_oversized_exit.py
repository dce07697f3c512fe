"""control_plane.tier_oversized against the simulator: a Provisioned cluster whose HPA sync period needs
Provisioned mode is never told to go back to standard (EKS user guide, advanced control plane
configuration), whatever its peaks."""

from __future__ import annotations

import pytest

from eksmon.engine import scan
from eksmon.settings import parse_settings
from eksmon.sim.control_plane_metrics import GIB, ControlPlaneMetrics, Profile, apiserver_metrics
from eksmon.sim.eks import EksExtension
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_NOW, DemoCluster
from eksmon.sim.kubernetes_api import KubernetesApi
from eksmon.sim.server import Simulator

REGION = "us-east-1"
# quiet peaks: 2 GiB, 500 seats, 15 pods/s -- standard mode and tier-xl both fit them
QUIET = Profile(size_bytes=2 * GIB, seats=300.0, hourly_seats_peak=500.0, hourly_scheduled_peak=900.0)


def suggestion(sim: Simulator, tier: str, hpa_sync_period: str | None) -> dict[str, object] | None:
    cluster = DemoCluster("batch", REGION, "1.34", tier=tier, hpa_sync_period=hpa_sync_period)
    sim.extension(EksExtension).add_cluster(cluster, DEMO_ACCOUNT)
    sim.extension(KubernetesApi).cluster(DEMO_ACCOUNT, REGION, "batch", "1.34").set_metrics(
        apiserver_metrics("1.34", etcd_bytes=2 * GIB)
    )
    sim.extension(ControlPlaneMetrics).seed_cluster(DEMO_ACCOUNT, REGION, "batch", QUIET, DEMO_NOW)
    result = scan(
        parse_settings({"regions": [REGION]}),
        DEMO_NOW,
        patterns=("control_plane.tier_oversized",),
        session_factory=sim.session_factory(),
    )
    found = [f for f in result.findings if f.check == "control_plane.tier_oversized"]
    assert len(found) <= 1
    return dict(found[0].details) if found else None


@pytest.mark.parametrize("period", [None, "15s"])
def test_quiet_tier_xl_with_the_default_hpa_period_may_go_back_to_standard(sim: Simulator, period) -> None:
    details = suggestion(sim, "tier-xl", period)
    assert details is not None and details["suggested_tier"] == "standard"


def test_quiet_tier_xl_with_a_10s_hpa_period_is_told_nothing(sim: Simulator) -> None:
    assert suggestion(sim, "tier-xl", "10s") is None  # tier-xl is the cheapest tier it may be on


def test_quiet_tier_2xl_with_a_10s_hpa_period_is_pointed_at_tier_xl(sim: Simulator) -> None:
    details = suggestion(sim, "tier-2xl", "10s")
    assert details is not None and details["suggested_tier"] == "tier-xl"
    assert "horizontalPodAutoscalerSyncPeriod is 10s" in str(details["standard_excluded"])
