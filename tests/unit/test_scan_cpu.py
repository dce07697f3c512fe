"""A scan's threads run on one CPU (they share one interpreter lock), and the caller's CPUs come back."""

from __future__ import annotations

import os
import threading

import pytest

from eksmon.engine import one_cpu

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux and at least two CPUs",
)


def test_the_scan_thread_and_the_threads_it_starts_run_on_one_allowed_cpu() -> None:
    allowed = os.sched_getaffinity(0)
    seen: list[set[int]] = []
    with one_cpu():
        inside = os.sched_getaffinity(0)
        worker = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))
        worker.start()
        worker.join()
    assert len(inside) == 1 and inside <= allowed
    assert seen == [inside]  # a worker started during the scan inherits it
    assert os.sched_getaffinity(0) == allowed


def test_switched_off_nothing_changes() -> None:
    allowed = os.sched_getaffinity(0)
    with one_cpu(enabled=False):
        assert os.sched_getaffinity(0) == allowed


def test_the_cpus_come_back_after_a_failed_scan() -> None:
    allowed = os.sched_getaffinity(0)
    with pytest.raises(RuntimeError), one_cpu():
        raise RuntimeError("the scan failed")
    assert os.sched_getaffinity(0) == allowed


def test_only_the_calling_thread_is_moved_not_threads_already_running() -> None:
    allowed = os.sched_getaffinity(0)
    release, seen = threading.Event(), []

    def bystander() -> None:
        release.wait(5)
        seen.append(os.sched_getaffinity(0))

    thread = threading.Thread(target=bystander)
    thread.start()
    with one_cpu():
        release.set()
        thread.join(5)
    assert seen == [allowed]  # e.g. a simulator or an exporter thread of the same process
