"""Peak memory and time of the Kubernetes checks scanning the 5,000-pod demo cluster (search-staging).

The simulator runs in a child process, so what is measured here is the scanning side only: the
Lambda's view. tracemalloc gives the peak of Python allocations during the scan (one page of pods
at a time should keep it flat as the cluster grows); ru_maxrss the process's resident peak.
Run: .venv/bin/python bench/bench_kubernetes_scan.py [--pods 5000 20000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
import tracemalloc
from typing import Any

CLUSTER = "search-staging"
REGION = "eu-west-1"


def serve(conn: Any, pods: int) -> None:
    """Child: the simulator with the demo fleet, search-staging filled up to ``pods`` pods."""
    from eksmon.sim.fleet import DEMO_ACCOUNT
    from eksmon.sim.k8s_hazards import seed_pods
    from eksmon.sim.kubernetes_api import KubernetesApi
    from eksmon.sim.server import Simulator

    with Simulator() as sim:
        sim.reset()
        sim.seed_demo()
        cluster = sim.extension(KubernetesApi).clusters[(DEMO_ACCOUNT, REGION, CLUSTER)]
        seed_pods(cluster, pods)
        conn.send((sim.environ(REGION), cluster.count("Pod")))
        conn.recv()  # wait until the parent is done


def measure(environ: dict[str, str], patterns: list[str]) -> dict[str, Any]:
    from eksmon.engine import scan
    from eksmon.settings import parse_settings
    from eksmon.sim.fleet import DEMO_NOW

    os.environ.update(environ)
    settings = parse_settings({"regions": [REGION], "clusters": {"include": [CLUSTER]}})
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    result = scan(settings, DEMO_NOW, patterns=patterns)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    errors = [f for f in result.findings if f.check == "monitor.collection_error"]
    if errors:
        raise SystemExit(f"collection errors: {[e.message for e in errors]}")
    return {
        "seconds": seconds,
        "tracemalloc_peak_mib": peak / 2**20,
        "maxrss_mib": rss_after / 1024,
        "maxrss_growth_mib": (rss_after - rss_before) / 1024,
        "findings": len(result.findings),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, nargs="+", default=[5000])
    args = parser.parse_args()
    # warm the imports so that they are not part of the measured peak
    import eksmon.checks._kubernetes  # noqa: F401
    from eksmon.kube import kubernetes_client
    from eksmon.registry import load

    load()
    kubernetes_client()  # the official client is imported when the first cluster is reached
    for pods in args.pods:
        parent, child = mp.get_context("spawn").Pipe()
        proc = mp.get_context("spawn").Process(target=serve, args=(child, pods), daemon=True)
        proc.start()
        environ, count = parent.recv()
        try:
            for label, patterns in (
                (
                    "all Kubernetes checks",
                    ["webhook.*", "pod.*", "kube_proxy.*", "cni.*", "auth.aws_auth_invalid"],
                ),
                ("pod.unsafe_sysctls only", ["pod.unsafe_sysctls"]),
            ):
                m = measure(environ, patterns)
                print(
                    f"{CLUSTER} with {count:,} pods, {label}: {m['seconds']:.2f} s, "
                    f"tracemalloc peak {m['tracemalloc_peak_mib']:.1f} MiB, "
                    f"process maxrss {m['maxrss_mib']:.0f} MiB (+{m['maxrss_growth_mib']:.1f} MiB during the scan), "
                    f"{m['findings']} findings"
                )
        finally:
            parent.send("done")
            proc.join(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
