"""The scan's task graph: dependencies first, a cap per lane (account+region), lanes side by side."""

from __future__ import annotations

import threading
import time
from collections import Counter

from eksmon.tasks import TaskGraph


def test_a_task_runs_after_what_it_reads() -> None:
    graph = TaskGraph(threads=4, per_lane=4)
    order: list[str] = []
    first = graph.add("list", "r1", lambda: (time.sleep(0.05), order.append("list")))
    graph.add("describe", "r1", lambda: order.append("describe"), after=[first])
    assert graph.wait(5) and order == ["list", "describe"]


def test_each_lane_is_capped_and_lanes_run_side_by_side() -> None:
    graph = TaskGraph(threads=16, per_lane=2)
    lock = threading.Lock()
    now: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    both = [0, 0]

    def work(lane: str) -> None:
        with lock:
            now[lane] += 1
            peak[lane] = max(peak[lane], now[lane])
            both[1] = max(both[1], sum(now.values()))
        time.sleep(0.05)
        with lock:
            now[lane] -= 1

    for i in range(12):
        lane = "eu-west-1" if i < 10 else "us-east-1"  # a busy region must not starve a quiet one
        graph.add(f"t{i}", lane, lambda lane=lane: work(lane))
    started = time.monotonic()
    assert graph.wait(10)
    assert peak == {"eu-west-1": 2, "us-east-1": 2} and both[1] == 4
    assert time.monotonic() - started < 0.5  # 5 rounds of the busy lane, the quiet one alongside


def test_wait_returns_at_the_deadline_and_close_starts_nothing_more() -> None:
    graph = TaskGraph(threads=1, per_lane=1)
    gate = threading.Event()
    ran: list[str] = []
    graph.add("stuck", "r", lambda: gate.wait(5))
    graph.add("late", "r", lambda: ran.append("late"))
    started = time.monotonic()
    assert graph.wait(0.3) is False and time.monotonic() - started < 1
    graph.close()
    gate.set()
    time.sleep(0.1)
    assert ran == []


def test_a_failing_task_is_kept_and_its_followers_still_run() -> None:
    graph = TaskGraph(threads=2, per_lane=2)
    ran: list[str] = []

    def boom() -> None:
        raise RuntimeError("bug")

    first = graph.add("boom", "r", boom)
    graph.add("after", "r", lambda: ran.append("after"), after=[first])
    assert graph.wait(5) and ran == ["after"]
    assert [(t.name, str(e)) for t, e in graph.errors] == [("boom", "bug")]


def test_a_lane_runs_the_earliest_added_ready_task_first_so_a_started_cluster_finishes_first() -> None:
    # one slot: cluster 1's add-on read, ready once its DescribeCluster ends, goes before cluster 2's
    # DescribeCluster (first come, first served would run both DescribeClusters first)
    graph = TaskGraph(threads=1, per_lane=1)
    gate = threading.Event()
    order: list[str] = []
    graph.add("gate", "r", lambda: gate.wait(5))
    for cluster in ("c1", "c2", "c3"):
        describe = graph.add(f"describe {cluster}", "r", lambda c=cluster: order.append(f"describe {c}"))
        graph.add(f"addons {cluster}", "r", lambda c=cluster: order.append(f"addons {c}"), after=[describe])
    gate.set()
    assert graph.wait(5)
    assert order == ["describe c1", "addons c1", "describe c2", "addons c2", "describe c3", "addons c3"]


def test_a_chain_of_tasks_runs_on_the_thread_that_finished_the_one_before() -> None:
    # A finished task's follower is taken by the worker that finished it: waking (or starting) another
    # thread for it woke, for nearly every task of a scan, one that then found nothing to do.
    graph = TaskGraph(threads=8, per_lane=8)
    ran: list[int] = []
    previous = graph.add("t0", "r1", lambda: ran.append(threading.get_ident()))
    for i in range(1, 30):
        previous = graph.add(f"t{i}", "r1", lambda: ran.append(threading.get_ident()), after=[previous])
    assert graph.wait(5) and len(ran) == 30
    assert len(set(ran)) == 1


def test_followers_that_become_ready_together_still_run_side_by_side() -> None:
    graph = TaskGraph(threads=8, per_lane=8)
    barrier = threading.Barrier(4, timeout=5)  # passes only when four followers run at once
    first = graph.add("describe", "r1", lambda: None)
    for i in range(4):
        graph.add(f"read{i}", "r1", barrier.wait, after=[first])
    assert graph.wait(10) and not graph.errors
