"""Benchmark: the metrics monitor's two sources at scale, end to end against the simulator.

1. /metrics of a big cluster: the real v1.35 kube-apiserver dump grown to ~40 MB the way a bigger
   cluster grows (every sample line repeated with one more label, apiserver="N"; nothing about the
   format invented), served over TLS with gzip by the Kubernetes stand-in. The scrape collector reads
   it 3 times (the default number of samples) through the real client and the streaming parser.
   Reported: seconds per sample and the tracemalloc peak of the whole scrape.
2. CloudWatch for a big fleet: 200 clusters in one region with an hour of vended series and 24 h of
   etcd size history each. Reported: GetMetricData calls (at most 500 queries a call) and seconds.

Run: .venv/bin/python bench/bench_metrics_scan.py   (about two minutes on 2 cores, mostly the simulator)
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "functions"))

from eksmon.engine import scan  # noqa: E402
from eksmon.settings import parse_settings  # noqa: E402
from eksmon.sim.control_plane_metrics import GIB, ControlPlaneMetrics, Profile, apiserver_metrics  # noqa: E402
from eksmon.sim.eks import EksExtension  # noqa: E402
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_NOW, DemoCluster  # noqa: E402
from eksmon.sim.kubernetes_api import KubernetesApi  # noqa: E402
from eksmon.sim.server import Simulator  # noqa: E402

REGION = "us-east-1"
MB = 1_000_000
TARGET_MB = 40
CLUSTERS = 200
SCRAPING = ("etcd.db_size", "version.deprecated_api_in_use")  # a check that needs /metrics schedules it


def grown(body: bytes, target: int) -> bytes:
    """Every sample line repeated with apiserver="N" added until the body is ``target`` bytes."""
    lines = body.splitlines(keepends=True)
    out: list[bytes] = []
    size = 0
    copies = max(1, target // len(body))
    for line in lines:
        if line.startswith(b"#") or b"{" not in line:
            out.append(line)
            size += len(line)
            continue
        name, rest = line.split(b"{", 1)
        for n in range(copies):
            copy = name + b'{apiserver="' + str(n).encode() + b'",' + rest if n else line
            out.append(copy)
            size += len(copy)
    return b"".join(out)


def bench_scrape(sim: Simulator) -> None:
    body = grown(apiserver_metrics("1.35", etcd_bytes=6.1 * GIB), TARGET_MB * MB)
    sim.extension(EksExtension).add_cluster(DemoCluster("big", REGION, "1.35"), DEMO_ACCOUNT)
    kube = sim.extension(KubernetesApi).cluster(DEMO_ACCOUNT, REGION, "big", "1.35")
    kube.set_metrics(body)
    settings = parse_settings({"regions": [REGION], "kubernetes": {"timeout_seconds": 60}})
    scan(settings, DEMO_NOW, patterns=SCRAPING, session_factory=sim.session_factory())  # warm up
    started = time.perf_counter()
    result = scan(settings, DEMO_NOW, patterns=SCRAPING, session_factory=sim.session_factory())
    elapsed = time.perf_counter() - started
    assert not [f for f in result.findings if f.check == "monitor.collection_error"], result.findings
    assert len(kube.paths_requested("/metrics")) == 6, "the scrape did not run"
    gc.collect()
    tracemalloc.start()
    scan(settings, DEMO_NOW, patterns=SCRAPING, session_factory=sim.session_factory())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"/metrics of {len(body) / MB:.1f} MB (gzip over TLS), 3 samples per scan:")
    print(
        f"  {elapsed:.2f} s per scan, {elapsed / 3:.2f} s per sample, {len(body) / MB * 3 / elapsed:.0f} MB/s"
    )
    print(f"  tracemalloc peak of the whole scan: {peak / MB:.1f} MB (the body is never held whole)")


def bench_cloudwatch(sim: Simulator) -> None:
    seeder = sim.extension(ControlPlaneMetrics)
    eks = sim.extension(EksExtension)
    for i in range(CLUSTERS):
        name = f"team-{i:03d}"
        eks.add_cluster(DemoCluster(name, REGION, "1.33"), DEMO_ACCOUNT)
        seeder.seed_cluster(DEMO_ACCOUNT, REGION, name, Profile(size_bytes=(1 + i % 6) * GIB), DEMO_NOW)
    settings = parse_settings({"regions": [REGION]})
    started = time.perf_counter()
    result = scan(
        settings, DEMO_NOW, patterns=("etcd.*", "apiserver.*"), session_factory=sim.session_factory()
    )
    elapsed = time.perf_counter() - started
    calls = result.api_calls.calls
    print(f"CloudWatch for {CLUSTERS} clusters (11 window + 3 size metrics each):")
    print(
        f"  {calls['cloudwatch.GetMetricData']} GetMetricData calls, {calls['eks.DescribeCluster']} DescribeCluster, "
        f"{elapsed:.1f} s for the scan (simulator included), {len(result.findings)} findings"
    )


def main() -> None:
    with Simulator() as sim:
        bench_scrape(sim)
        sim.reset()
        bench_cloudwatch(sim)


if __name__ == "__main__":
    main()
