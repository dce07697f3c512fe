"""Fleet scale: one `eksmon scan --no-kubernetes` over N clusters in R regions, each AWS answer taking L ms.

The fleet (defaults: 500 clusters over 10 regions, 557 managed node groups, two add-ons and one passing
insight per cluster) lives in the project's simulator, which runs in a child process so that its CPU
does not compete with the scanner's for one interpreter. Every answer is delayed by --latency seconds
(a realistic round trip). The scan runs twice: calm, then under a throttling storm (--storm-share of
EKS calls answered ThrottlingException for the first --storm-seconds). Printed per run: wall time, AWS
calls, calls per cluster, identical requests sent twice (repeats), peak requests in flight, the speed-up
over making the same calls one after another (calls x latency / wall), the peak RSS of the
process the scan runs in (a fresh one per scan), the scanner's CPU per request, and that CPU against
botocore's own per request, measured one call at a time just before the scan: this 2-core machine's
speed drifts by up to 2x within an hour, which moves both figures together and leaves their ratio. The
scanner process imports the scanner and every check first, as a Lambda's init phase does; that
start-up is printed on its own. --runs N repeats the calm scan and shows the run of median wall time.
Last, the fan-out plan for this fleet: the partitions the plan step makes for each size of monitor
function, with each partition's clusters and estimated peak memory (--max-clusters N imposes a limit).
bench/README.md "Fleet scale" has this machine's figures.

    python bench/bench_fleet_scale.py                         # 500 x 10, 50 ms (a few minutes)
    python bench/bench_fleet_scale.py --clusters 50 --regions 2 --no-storm
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import resource
import sys
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "functions"), str(REPO)]  # eksmon, and infra/ for the plan's function sizes

ACCOUNT = "123456789012"
REGIONS = (
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "us-east-2",
    "eu-west-2",
    "ap-southeast-2",
    "us-west-1",
    "ca-central-1",
    "eu-north-1",
)
VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")
ADDONS = {
    "1.31": (("vpc-cni", "v1.19.0-eksbuild.1"), ("coredns", "v1.11.4-eksbuild.2")),
    "1.32": (("vpc-cni", "v1.19.0-eksbuild.1"), ("coredns", "v1.11.4-eksbuild.2")),
    "1.33": (("vpc-cni", "v1.20.4-eksbuild.1"), ("coredns", "v1.12.3-eksbuild.1")),
    "1.34": (("vpc-cni", "v1.20.4-eksbuild.1"), ("coredns", "v1.12.3-eksbuild.1")),
    "1.35": (("vpc-cni", "v1.21.1-eksbuild.1"), ("coredns", "v1.13.1-eksbuild.1")),
}
NOW = datetime.now(UTC).replace(microsecond=0)
# auth.break_glass (a lifecycle check added after the 8.5 calls-per-cluster target was set) reads these
ACCESS_ENTRY_READS = ("eks.ListAccessEntries", "eks.ListAssociatedAccessPolicies")


# -- the simulator, in a child process ---------------------------------------------------------------
def _seed(sim: Any, clusters: int, regions: tuple[str, ...], nodegroups: int) -> None:
    from eksmon.sim.eks import EksExtension
    from eksmon.sim.fleet import DemoCluster, DemoInsight

    eks = sim.extension(EksExtension)
    extra = nodegroups - clusters  # the first `extra` clusters get a second node group
    for i in range(clusters):
        version = VERSIONS[i % len(VERSIONS)]
        groups = [("workers", version)] + (
            [("batch", VERSIONS[max(0, VERSIONS.index(version) - 1)])] if i < extra else []
        )
        eks.add_cluster(
            DemoCluster(
                name=f"fleet-{i:04d}",
                region=regions[i % len(regions)],
                version=version,
                nodegroups=tuple(groups),
                addons=ADDONS[version],
                insights=(DemoInsight(name="Kubelet version skew", status="PASSING"),),
            ),
            ACCOUNT,
        )


def _warm_up(sim: Any, regions: tuple[str, ...]) -> None:
    """One request per service and region before anything is timed: moto builds each region's request
    router on first use (about a tenth of a second of CPU, during which every simulated answer waits),
    a cost of the simulator that a real endpoint does not have."""
    session = sim.session(regions[0])
    for region in regions:
        session.client("eks", region_name=region).list_clusters(maxResults=1)
        session.client("ec2", region_name=region).describe_vpcs()
        session.client("elbv2", region_name=region).describe_load_balancers()
        session.client("service-quotas", region_name=region).list_service_quotas(ServiceCode="eks")
        session.client("cloudwatch", region_name=region).list_metrics(Namespace="AWS/EKS")


def _serve(
    conn: Connection, clusters: int, regions: tuple[str, ...], nodegroups: int, latency: float
) -> None:
    from eksmon.sim.server import Simulator

    with Simulator(threads=128) as sim:  # every request the scanner may have in flight, and more
        _seed(sim, clusters, regions, nodegroups)
        _warm_up(sim, regions)
        # moto's model of a 500-cluster fleet is large, and every full garbage-collector pass walks it:
        # simulator CPU that AWS's endpoints do not take from the scanner's cores
        gc.freeze()
        conn.send(sim.endpoint_url)
        while True:
            command, arg = conn.recv()
            if command == "stop":
                break
            if command == "floor":  # no latency, no faults: botocore's own CPU, one call at a time
                with sim._lock:
                    sim.faults.clear()
                sim.latency = 0.0
                conn.send("ok")
                continue
            if command == "start":
                with sim._lock:
                    sim.faults.clear()
                    sim.requests.clear()
                    sim.signatures.clear()
                    sim.peak_in_flight = 0
                sim.latency = latency
                if arg:  # a throttling storm: a share of EKS calls throttled for a while
                    share, seconds = arg
                    sim.fault(
                        "eks",
                        code="ThrottlingException",
                        status=400,
                        message="Rate exceeded",
                        probability=share,
                        until=seconds,
                    )
                conn.send("ok")
            elif command == "stats":
                repeats = sum(n - 1 for n in sim.repeats().values())
                throttled = sum(f.hits for f in sim.faults)
                usage = resource.getrusage(resource.RUSAGE_SELF)
                cpu = usage.ru_utime + usage.ru_stime
                conn.send(
                    (len(sim.requests), repeats, sim.peak_in_flight, throttled, usage.ru_maxrss / 1024, cpu)
                )


def _recv(conn: Connection, process: Any, seconds: float = 900.0) -> Any:
    """The next message from a child process, waiting at most ``seconds`` and not at all once the child
    has died (a crashed simulator or scanner would otherwise leave the bench waiting for ever)."""
    deadline = time.monotonic() + seconds
    while not conn.poll(1.0):
        if not process.is_alive():
            raise SystemExit(
                f"the {process.name} process ended (exit code {process.exitcode}) without answering"
            )
        if time.monotonic() > deadline:
            raise SystemExit(f"the {process.name} process did not answer within {seconds:.0f} s")
    return conn.recv()


# -- the scan ---------------------------------------------------------------------------------------
FLOOR_CALLS = 300


def _floor(conn: Connection, endpoint: str, regions: tuple[str, ...]) -> None:
    """botocore's own CPU per request on this machine now: the reads a scan makes most, one after another
    from one thread through a plain client (eksmon's settings, none of its I/O layer), against the same
    simulator with no latency. Taken just before each scan, in a process of its own: this machine's
    speed drifts by up to 2x within an hour, and the scanner's CPU per request is best read against it."""
    from eksmon.aws import client_config
    from eksmon.settings import parse_settings
    from eksmon.sim.server import _EndpointSession

    region = regions[0]
    session = _EndpointSession(endpoint, region_name=region)
    eks = session.client("eks", region_name=region, config=client_config(parse_settings({}).aws))
    name = eks.list_clusters(maxResults=1)["clusters"][0]
    group = eks.list_nodegroups(clusterName=name)["nodegroups"][0]
    calls = (
        lambda: eks.describe_cluster(name=name),
        lambda: eks.list_nodegroups(clusterName=name),
        lambda: eks.describe_nodegroup(clusterName=name, nodegroupName=group),
        lambda: eks.list_updates(name=name),
        lambda: eks.list_addons(clusterName=name),
    )
    for call in calls * 4:  # connections open, models and caches warm
        call()
    started = time.process_time()
    for i in range(FLOOR_CALLS):
        calls[i % len(calls)]()
    conn.send((time.process_time() - started) / FLOOR_CALLS)


def _scan(endpoint: str, regions: tuple[str, ...]) -> Any:
    from eksmon.engine import scan
    from eksmon.settings import parse_settings
    from eksmon.sim.server import _EndpointSession

    def session(**kwargs: Any) -> Any:
        kwargs.setdefault("region_name", regions[0])
        return _EndpointSession(endpoint, **kwargs)

    settings = parse_settings({"regions": list(regions), "kubernetes": {"enabled": False}})
    return scan(settings, NOW, session_factory=session)


def _measure(conn: Connection, endpoint: str, regions: tuple[str, ...], latency: float) -> None:
    """One scan in a process of its own, so that its peak RSS and CPU are its own (a second scan in the
    same process would start from the first one's high-water mark). The process first imports the scanner
    and every check and collector, as a Lambda's init phase does (eksmon.handlers): that start-up is
    reported on its own, not spread over the requests."""
    started = time.process_time()
    from eksmon.engine import scan  # noqa: F401 - imported for its cost, measured here
    from eksmon.registry import load

    load()
    startup = time.process_time() - started
    started, cpu_before = time.monotonic(), time.process_time()
    result = _scan(endpoint, regions)
    wall, cpu = time.monotonic() - started, time.process_time() - cpu_before
    calls = result.api_calls.total
    clusters = len(result.clusters)
    access_entry_reads = sum(result.api_calls.calls[op] for op in ACCESS_ENTRY_READS)
    conn.send(
        {
            "wall": wall,
            "calls": calls,
            "clusters": clusters,
            "per_cluster": calls / max(1, clusters),
            "per_cluster_without_access_entries": (calls - access_entry_reads) / max(1, clusters),
            "speedup": calls * latency / wall if wall else 0.0,
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "cpu": cpu,
            "startup": startup,
            "errors": [f.message for f in result.findings if f.check == "monitor.collection_error"],
            "findings": {f.fingerprint for f in result.findings if f.check != "monitor.collection_error"},
            "by_call": result.api_calls.calls,
        }
    )


def run(
    conn: Connection, server: Any, endpoint: str, regions: tuple[str, ...], latency: float, storm: Any
) -> dict[str, Any]:
    conn.send(("floor", None))
    _recv(conn, server)
    parent, child = multiprocessing.get_context("fork").Pipe()
    floor = multiprocessing.get_context("fork").Process(
        target=_floor, args=(child, endpoint, regions), daemon=True, name="botocore floor"
    )
    floor.start()
    floor_seconds: float = _recv(parent, floor)
    floor.join(timeout=30)
    conn.send(("start", storm))
    _recv(conn, server)
    conn.send(("stats", None))
    sim_cpu_before = _recv(conn, server)[-1]
    parent, child = multiprocessing.get_context("fork").Pipe()
    scanner = multiprocessing.get_context("fork").Process(
        target=_measure, args=(child, endpoint, regions, latency), daemon=True, name="scanner"
    )
    scanner.start()
    measured: dict[str, Any] = _recv(parent, scanner)
    scanner.join(timeout=30)
    conn.send(("stats", None))
    sent, repeats, peak, throttled, sim_rss, sim_cpu = _recv(conn, server)
    return {
        **measured,
        "floor": floor_seconds,
        "sent": sent,
        "repeats": repeats,
        "peak": peak,
        "throttled": throttled,
        "sim_rss": sim_rss,
        "sim_cpu": sim_cpu - sim_cpu_before,
    }


def show(name: str, r: dict[str, Any], latency: float) -> None:
    print(f"{name}:")
    print(f"  wall time             {r['wall']:.1f} s")
    print(f"  AWS calls             {r['calls']} ({r['sent']} HTTP requests with retries)")
    print(
        f"  calls per cluster     {r['per_cluster']:.2f} "
        f"({r['per_cluster_without_access_entries']:.2f} without auth.break_glass's access-entry reads)"
    )
    retried = (
        f" ({max(0, r['repeats'] - r['throttled'])} beyond the retries of throttled answers)"
        if r["throttled"]
        else ""
    )
    print(f"  repeats               {r['repeats']}{retried}")
    print(f"  peak in flight        {r['peak']}")
    print(
        f"  speed-up (sequential) {r['speedup']:.1f}x  ({r['calls']} x {latency * 1000:.0f} ms / {r['wall']:.1f} s)"
    )
    print(f"  peak RSS              {r['rss']:.0f} MiB (scanner), {r['sim_rss']:.0f} MiB (simulator)")
    per_request = r["cpu"] / max(1, r["sent"])
    print(f"  CPU                   {r['cpu']:.1f} s (scanner), {r['sim_cpu']:.1f} s (simulator)")
    print(
        f"  CPU per request       {per_request * 1000:.2f} ms (scanner), {per_request / r['floor']:.2f}x "
        f"botocore's own {r['floor'] * 1000:.2f} ms (one call at a time, just before)"
    )
    print(f"  scanner start-up      {r['startup']:.2f} s CPU (imports, every check and collector), once")
    print(f"  findings              {len(r['findings'])}, collection errors {len(r['errors'])}")
    if r["throttled"]:
        print(f"  throttled answers     {r['throttled']}")


# -- the fan-out plan for this fleet ------------------------------------------------------------------
def plan(endpoint: str, regions: tuple[str, ...], max_clusters: int | None) -> list[str]:
    """The partitions the fan-out's plan step (eksmon.runner.plan_partitions, counting clusters with
    ListClusters against the simulator) makes of this fleet for each size of monitor function
    (infra/constants.py LAMBDA_SIZES), each with its estimated peak memory (eksmon.partition.peak_mib).
    Run last, in this process: the scans above each had a fresh process."""
    from eksmon.observability import logger
    from eksmon.partition import peak_mib
    from eksmon.runner import MonitorEnvironment, plan_partitions
    from eksmon.settings import parse_settings
    from eksmon.sim.server import _EndpointSession

    # infra/ starts jsii's node, found on PATH: the project's own (the Makefile puts .venv/bin first)
    os.environ["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", "")))
    from infra.constants import LAMBDA_SIZES

    def session(**kwargs: Any) -> Any:
        kwargs.setdefault("region_name", regions[0])
        return _EndpointSession(endpoint, **kwargs)

    fanout = {"max_clusters_per_invocation": max_clusters} if max_clusters else {}
    config = parse_settings(
        {"regions": list(regions), "kubernetes": {"enabled": False}, "fanout": fanout}
    ).to_json()
    sizes: dict[tuple[int, float], list[str]] = {}
    for monitor, size in LAMBDA_SIZES.items():
        sizes.setdefault((size.memory_mb, size.timeout.to_seconds()), []).append(monitor)
    logger.setLevel("ERROR")  # the plan's log lines (oversized, unread) are printed below instead
    lines = []
    for (memory, timeout), monitors in sizes.items():
        env = MonitorEnvironment.model_validate(
            {"EKSMON_CONFIG": config, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory)}
        )
        made = plan_partitions(env, session, remaining_seconds=timeout)
        lines.append(
            f"  {', '.join(monitors)} ({memory} MB, {timeout:.0f} s): {len(made.partitions)} partition(s) "
            f"of at most {env.settings().fanout.max_targets_per_invocation} pairs and "
            f"{made.max_clusters_per_invocation} clusters"
        )
        for i, part in enumerate(made.partitions, 1):
            peak = peak_mib(part.clusters or 0)
            lines.append(
                f"    {i:3d}. {max(1, len(part.accounts))} account(s) x {len(part.regions)} region(s) "
                f"({part.regions[0]}{'...' if len(part.regions) > 1 else ''}), {part.clusters} clusters, "
                f"peak about {peak:.0f} MiB of {memory} ({peak / memory:.0%})"
            )
        lines += [f"    oversized: {text}" for text in made.oversized]
        lines += [f"    not counted (assumed full): {text}" for text in made.unread]
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clusters", type=int, default=500)
    p.add_argument("--regions", type=int, default=10, choices=range(1, len(REGIONS) + 1), metavar="R")
    p.add_argument(
        "--nodegroups", type=int, help="managed node groups in all (default: 557 per 500 clusters)"
    )
    p.add_argument("--latency", type=float, default=0.05, help="seconds added to every AWS answer")
    p.add_argument("--storm-share", type=float, default=0.3, help="share of EKS calls throttled in the storm")
    p.add_argument("--storm-seconds", type=float, default=60.0, help="how long the storm lasts")
    p.add_argument("--no-storm", action="store_true", help="only the calm run")
    p.add_argument("--top", type=int, default=0, help="also print the N most frequent calls")
    p.add_argument("--runs", type=int, default=1, help="calm scans to make; the median one is shown")
    p.add_argument(
        "--max-clusters",
        type=int,
        help="the plan's fanout.max_clusters_per_invocation (default: derived from each function's size)",
    )
    args = p.parse_args(argv)
    from eksmon.partition import peak_mib

    regions = REGIONS[: args.regions]
    nodegroups = args.nodegroups if args.nodegroups is not None else round(args.clusters * 557 / 500)
    print(
        f"fleet: {args.clusters} clusters in {len(regions)} regions, {nodegroups} node groups, "
        f"2 add-ons each; {args.latency * 1000:.0f} ms per AWS answer"
    )
    parent, child = multiprocessing.get_context("fork").Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=_serve,
        args=(child, args.clusters, regions, nodegroups, args.latency),
        daemon=True,
        name="simulator",
    )
    server.start()
    try:
        endpoint = _recv(parent, server)
        calms = sorted(
            (run(parent, server, endpoint, regions, args.latency, None) for _ in range(max(1, args.runs))),
            key=lambda r: r["wall"],
        )
        calm = calms[len(calms) // 2]
        show("calm" if len(calms) == 1 else f"calm (median of {len(calms)} runs)", calm, args.latency)
        if len(calms) > 1:
            walls = ", ".join(
                f"{r['wall']:.1f} s ({r['cpu'] / max(1, r['sent']) * 1000:.2f} ms per request, "
                f"{r['cpu'] / max(1, r['sent']) / r['floor']:.2f}x)"
                for r in calms
            )
            print(f"  every run's wall time {walls}")
        if args.top:
            for call, n in calm["by_call"].most_common(args.top):
                print(f"    {call:45} {n}")
        if not args.no_storm:
            storm = run(
                parent, server, endpoint, regions, args.latency, (args.storm_share, args.storm_seconds)
            )
            show(
                f"throttling storm ({args.storm_share:.0%} of EKS calls for the first {args.storm_seconds:.0f} s)",
                storm,
                args.latency,
            )
            same = storm["findings"] == calm["findings"] and not storm["errors"]
            print(f"  same findings as calm {'yes' if same else 'NO'}")
        parent.send(("start", None))  # no storm, counters reset
        _recv(parent, server)
        print("fan-out plan (the partitions the plan step makes of this fleet, by function size):")
        for line in plan(endpoint, regions, args.max_clusters):
            print(line)
        print(
            f"  one scan of the whole fleet: estimated peak {peak_mib(calm['clusters']):.0f} MiB, "
            f"measured {calm['rss']:.0f} MiB (calm scan's peak RSS above)"
        )
    finally:
        parent.send(("stop", None))
        server.join(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
