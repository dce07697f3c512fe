"""How a scan talks to AWS: no identical request twice, a cap per account and region, regions side by side."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable

import pytest

from eksmon.engine import COLLECTION_ERROR, scan
from eksmon.settings import parse_settings
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_FLEET, DEMO_NOW, DEMO_REGIONS
from eksmon.sim.server import Simulator
from eksmon.tasks import Task, TaskGraph


def test_no_identical_request_is_sent_twice_in_one_scan(demo_sim: Simulator) -> None:
    # every AWS-side check of every monitor: the lifecycle and quota collectors read the same node
    # groups and cluster list, every region the same calendar and add-on versions
    settings = parse_settings({"regions": list(DEMO_REGIONS), "kubernetes": {"enabled": False}})
    result = scan(settings, DEMO_NOW, session_factory=demo_sim.session_factory())
    assert not [f for f in result.findings if f.check == COLLECTION_ERROR]
    assert len(result.clusters) == len(DEMO_FLEET) and len(demo_sim.calls()) > 50
    assert demo_sim.repeats() == {}
    # read once per account, not per region
    assert result.api_calls.calls["eks.DescribeClusterVersions"] == 2  # its two pages
    node_group_lists = [c for c in demo_sim.calls("eks") if c[2].endswith("/node-groups")]
    assert len(node_group_lists) == len(DEMO_FLEET)  # one per cluster, though two collectors read it


def test_requests_in_flight_are_capped_per_account_and_region(demo_sim: Simulator) -> None:
    demo_sim.latency = 0.05
    settings = parse_settings(
        {
            "regions": list(DEMO_REGIONS),
            "kubernetes": {"enabled": False},
            "aws": {"max_in_flight_per_region": 3},
        }
    )
    result = scan(settings, DEMO_NOW, session_factory=demo_sim.session_factory())
    assert len(result.clusters) == len(DEMO_FLEET)
    peaks = {region: demo_sim.peak_in_flight_by[(DEMO_ACCOUNT, region)] for region in DEMO_REGIONS}
    assert peaks == {region: 3 for region in DEMO_REGIONS}  # the cap is reached and never passed
    assert demo_sim.peak_in_flight > 3  # the regions ran side by side


def test_a_scans_worker_threads_run_on_one_cpu_unless_switched_off(demo_sim: Simulator) -> None:
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs Linux and at least two CPUs")
    allowed = os.sched_getaffinity(0)
    for single, expect_one in ((True, True), (False, False)):
        seen: list[set[int]] = []
        settings = parse_settings(
            {"regions": list(DEMO_REGIONS), "kubernetes": {"enabled": False}, "aws": {"single_cpu": single}}
        )
        scan(
            settings,
            DEMO_NOW,
            monitor="lifecycle",
            session_factory=demo_sim.session_factory(),
            progress=lambda _progress, seen=seen: seen.append(os.sched_getaffinity(0)),
        )
        workers = seen[1:]  # the first call comes from the scan's own thread, before any worker
        assert workers, "progress is reported by the worker threads"
        assert all((len(cpus) == 1) is expect_one and cpus <= allowed for cpus in workers), single
        assert os.sched_getaffinity(0) == allowed


def test_a_regions_clusters_are_read_one_after_another_each_from_its_describe_cluster(
    demo_sim: Simulator,
) -> None:
    # one request at a time in the region: a cluster that started is finished before the next starts,
    # and DescribeCluster, which its other reads wait on, is its first read (not queued behind every
    # other cluster's node-group and insight lists)
    settings = parse_settings(
        {"regions": ["eu-west-1"], "kubernetes": {"enabled": False}, "aws": {"max_in_flight_per_region": 1}}
    )
    result = scan(settings, DEMO_NOW, session_factory=demo_sim.session_factory())
    assert not [f for f in result.findings if f.check == COLLECTION_ERROR]
    reads = [
        op.split(" ", 1)[1].split("/")
        for _, _, op in demo_sim.calls("eks")
        if op.startswith(("GET /clusters/", "POST /clusters/"))
    ]
    order = [path[2] for path in reads]
    runs = [name for i, name in enumerate(order) if i == 0 or order[i - 1] != name]
    assert len(runs) == len(set(runs)) == len(result.clusters) == 5, order
    firsts = [path for i, path in enumerate(reads) if i == 0 or reads[i - 1][2] != path[2]]
    assert all(len(path) == 3 for path in firsts), firsts  # GET /clusters/<name>: DescribeCluster


def test_describe_cluster_waits_for_nothing_once_the_cluster_names_are_read(
    demo_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the task that lists the clusters plans them before it ends; a cluster's DescribeCluster must not
    # wait for that task to end (it would queue behind every read of the region that needs nothing)
    waits: dict[str, int] = {}
    add = TaskGraph.add

    def recording_add(
        self: TaskGraph, name: str, lane: Hashable, fn: Callable[[], None], after: Iterable[Task] = ()
    ) -> Task:
        task = add(self, name, lane, fn, after)
        if name.startswith("eks.describe_cluster "):
            waits[name.rsplit(" ", 1)[1]] = task.waiting
        return task

    monkeypatch.setattr(TaskGraph, "add", recording_add)
    settings = parse_settings({"regions": list(DEMO_REGIONS), "kubernetes": {"enabled": False}})
    result = scan(settings, DEMO_NOW, session_factory=demo_sim.session_factory())
    assert waits and set(waits) == {c.name for c in result.clusters}
    assert waits == dict.fromkeys(waits, 0)


def test_progress_counts_regions_and_clusters_to_the_end(demo_sim: Simulator) -> None:
    from eksmon.engine import ScanProgress

    seen: list[ScanProgress] = []
    settings = parse_settings({"regions": list(DEMO_REGIONS), "kubernetes": {"enabled": False}})
    scan(
        settings,
        DEMO_NOW,
        monitor="lifecycle",
        session_factory=demo_sim.session_factory(),
        progress=seen.append,
    )
    # first what is known before anything is read: the regions, no cluster yet (not "0/0 clusters")
    assert seen[0] == ScanProgress(0, len(DEMO_REGIONS), 0, 0)
    last = max(seen, key=lambda p: (p.regions_done, p.clusters_done))
    assert last == ScanProgress(len(DEMO_REGIONS), len(DEMO_REGIONS), len(DEMO_FLEET), len(DEMO_FLEET))
    assert all(p.clusters_done <= p.clusters_total and p.regions_done <= p.regions_total for p in seen)
