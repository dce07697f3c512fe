"""The budgets of Kubernetes access on the official ``kubernetes`` client (bench/README.md "Kubernetes access: budgets").

1. Cold import: ``eksmon.handlers.kubernetes`` alone (what it cost before the client), then the same
   plus ``kubernetes.client`` (what the first cluster adds), in fresh interpreters; median of 5.
2. A 50 MB ``/metrics``: streamed from the simulator's Kubernetes API over HTTPS through
   ``KubeClient.stream`` into the parser, tracemalloc peak (the body never exists whole), and the
   same for a 5 MB body: flat means the two peaks are about equal.
3. The Lambda layer (``layers/build/python``): unzipped size, and that ``kubernetes/aio`` is left out.

The 50,000-pod scan is ``bench/bench_kubernetes_scan.py --pods 50000``.
Run: PYTHONPATH=functions .venv/bin/python bench/bench_kubernetes_client.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
LAYER = REPO / "layers" / "build" / "python"
RUNS = 9  # alternated between the two variants, so that load changes hit both alike

HANDLER = "import eksmon.handlers.kubernetes"
WITH_CLIENT = HANDLER + "; from eksmon.kube import kubernetes_client; kubernetes_client()"


def cold_imports(*codes: str) -> list[tuple[float, float]]:
    """Median (wall seconds, CPU seconds) of each of ``codes`` in fresh interpreters, the variants
    alternated run by run. The CPU time is the steadier figure on a shared machine; on an idle one
    (Lambda's case) the two agree."""
    timed = (
        "import time; w = time.perf_counter(); c = time.process_time(); "
        "{}; print(time.perf_counter() - w, time.process_time() - c)"
    )
    env = {**os.environ, "PYTHONPATH": str(FUNCTIONS), "POWERTOOLS_TRACE_DISABLED": "true"}
    walls: list[list[float]] = [[] for _ in codes]
    cpus: list[list[float]] = [[] for _ in codes]
    for _ in range(RUNS):
        for i, code in enumerate(codes):
            done = subprocess.run(
                [sys.executable, "-c", timed.format(code)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            )
            wall, cpu = done.stdout.strip().splitlines()[-1].split()
            walls[i].append(float(wall))
            cpus[i].append(float(cpu))
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)]


def metrics_peak(megabytes: int) -> tuple[float, int]:
    """tracemalloc peak (MiB) and bytes read while a body of ``megabytes`` MB is streamed and parsed."""
    from eksmon.collectors.apiserver_scrape import FAMILIES
    from eksmon.kube import KubeClient, get_token, kubernetes_client
    from eksmon.prometheus import parse
    from eksmon.sim.fleet import DEMO_ACCOUNT
    from eksmon.sim.kubernetes_api import KubernetesApi, default_metrics
    from eksmon.sim.server import Simulator

    kubernetes_client()
    real = default_metrics()
    copies = max(1, megabytes * 1_000_000 // len(real))

    def body() -> Iterator[bytes]:
        for _ in range(copies):
            for i in range(0, len(real), 65536):
                yield real[i : i + 65536]

    with Simulator() as sim:
        api: KubernetesApi = sim.extension(KubernetesApi)
        cluster = api.cluster(DEMO_ACCOUNT, "us-east-1", "bench", "1.31", register=False)
        cluster.set_metrics(body)
        token = get_token(sim.session("us-east-1").client("sts"), "bench")
        client = KubeClient(api.endpoint(DEMO_ACCOUNT, "us-east-1", "bench"), ca_pem=api.ca_pem, token=token)
        client.get("/version")  # connection and TLS set up outside the measurement
        tracemalloc.start()
        parsed = parse(client.stream("/metrics"), FAMILIES)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert parsed.invalid is None, parsed.invalid
        return peak / 2**20, parsed.bytes


def layer() -> tuple[float, bool] | None:
    if not LAYER.is_dir():
        return None
    total = sum(f.stat().st_size for f in LAYER.rglob("*") if f.is_file())
    return total / 2**20, (LAYER / "kubernetes" / "aio").exists()


def main() -> int:
    (alone, alone_cpu), (both, both_cpu) = cold_imports(HANDLER, WITH_CLIENT)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"cold import, median of {RUNS}: eksmon.handlers.kubernetes {alone:.3f} s wall / {alone_cpu:.3f} s CPU; "
        f"+ kubernetes.client {both:.3f} / {both_cpu:.3f} s; added by the client "
        f"{both - alone:+.3f} s wall, {both_cpu - alone_cpu:+.3f} s CPU (budget +0.300 s)"
    )
    for mb in (5, 50):
        started = time.perf_counter()
        peak, read = metrics_peak(mb)
        print(
            f"/metrics of {read / 1e6:.0f} MB over HTTPS through KubeClient.stream + parse: "
            f"tracemalloc peak {peak:.1f} MiB, {time.perf_counter() - started:.1f} s"
        )
    found = layer()
    if found is None:
        print("layer: not built (PYTHONPATH=functions .venv/bin/python layers/build.py)")
    else:
        size, aio = found
        print(f"layer unzipped: {size:.1f} MiB (budget 80 MiB); kubernetes/aio present: {aio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
