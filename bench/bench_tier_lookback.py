"""Benchmark: what the 14-day look-back of control_plane.tier_oversized costs in CloudWatch reads.

The hourly maxima of seats and scheduling (14 days) ride in the same GetMetricData call as the etcd
size history, whose range grows to the longer look-back: no call per cluster is added. For a fleet of
N clusters in one region this prints, with and without the control_plane.* checks, the GetMetricData
calls, the metrics requested per cluster (what CloudWatch bills, $0.01 per 1,000) and the scan time
against the simulator.

Run: .venv/bin/python bench/bench_tier_lookback.py   (about a minute on 2 cores, mostly seeding)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "functions"))

from eksmon.collectors.control_plane_metrics import (  # noqa: E402
    AWS_EKS,
    ETCD_SIZE_METRICS,
    PEAK_METRICS,
    WINDOW_METRICS,
)
from eksmon.engine import scan  # noqa: E402
from eksmon.settings import parse_settings  # noqa: E402
from eksmon.sim.control_plane_metrics import GIB, ControlPlaneMetrics, Profile  # noqa: E402
from eksmon.sim.eks import EksExtension  # noqa: E402
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_NOW, DemoCluster  # noqa: E402
from eksmon.sim.server import Simulator  # noqa: E402

REGION = "us-east-1"
FLEETS = (10, 120)
WITHOUT = ("etcd.*", "apiserver.error_rate", "apiserver.throttling", "apiserver.latency")
WITH = (*WITHOUT, "control_plane.*")


def run(sim: Simulator, patterns: tuple[str, ...]) -> tuple[int, float, int]:
    settings = parse_settings({"regions": [REGION]})
    started = time.perf_counter()
    result = scan(settings, DEMO_NOW, patterns=patterns, session_factory=sim.session_factory())
    elapsed = time.perf_counter() - started
    assert not [f for f in result.findings if f.check == "monitor.collection_error"], result.findings
    return result.api_calls.calls["cloudwatch.GetMetricData"], elapsed, len(result.findings)


def main() -> None:
    base = len(WINDOW_METRICS) + len(ETCD_SIZE_METRICS[AWS_EKS])
    print(
        f"metrics requested per cluster and scan: {base} without the tier checks, {base + len(PEAK_METRICS)} "
        f"with them ({len(PEAK_METRICS)} hourly maxima over 14 days)"
    )
    with Simulator() as sim:
        seeded = 0
        for n in FLEETS:
            eks, seeder = sim.extension(EksExtension), sim.extension(ControlPlaneMetrics)
            for i in range(seeded, n):
                name = f"team-{i:03d}"
                tier = "tier-2xl" if i % 3 == 0 else "standard"
                eks.add_cluster(DemoCluster(name, REGION, "1.33", tier=tier), DEMO_ACCOUNT)
                seeder.seed_cluster(
                    DEMO_ACCOUNT, REGION, name, Profile(size_bytes=(1 + i % 6) * GIB), DEMO_NOW
                )
            seeded = n
            calls_without, t_without, _ = run(sim, WITHOUT)
            calls_with, t_with, found = run(sim, WITH)
            print(
                f"{n:4d} clusters: GetMetricData calls {calls_without} without the tier checks, {calls_with} "
                f"with them (14-day look-back included); scan {t_without:.1f} s vs {t_with:.1f} s; "
                f"{found} findings"
            )


if __name__ == "__main__":
    main()
