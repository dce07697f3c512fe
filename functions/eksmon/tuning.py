"""Process tuning for a scan: fewer garbage-collector passes, and one CPU for the scan's threads.

Both are process-wide and undone when the outermost scan returns; the engine wraps every scan in them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator

# Python's cyclic garbage collector runs its youngest generation every 700 container allocations, and
# each full pass walks every object alive. A botocore call allocates thousands (request, headers, parsed
# answer), and the loaded service models are large: at fleet scale the collector took 13 % of the
# scan's CPU (bench/bench_fleet_scale.py). During a scan, what exists before it (modules, models,
# sessions) is frozen out of collection and the youngest generation runs every 20,000 allocations; both
# are undone when the scan returns. Garbage without cycles is freed at once as always (reference counts).
GC_YOUNG_THRESHOLD = 20_000


_gc_lock = threading.Lock()
_gc_scans = 0  # scans running in this process (the outermost one sets and restores the collector)
_gc_before: tuple[int, int, int] = (700, 10, 10)


@contextlib.contextmanager
def fewer_gc_passes() -> Iterator[None]:
    global _gc_scans, _gc_before  # noqa: PLW0603 - the collector is one per process, like this count
    with _gc_lock:
        if _gc_scans == 0:
            _gc_before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(_gc_before[0], GC_YOUNG_THRESHOLD), *_gc_before[1:])
        _gc_scans += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_scans -= 1
            if _gc_scans == 0:
                gc.set_threshold(*_gc_before)
                gc.unfreeze()


@contextlib.contextmanager
def one_cpu(enabled: bool = True) -> Iterator[None]:
    """Run the calling thread, and every thread it starts (the scan's workers), on the CPU it is on now.

    A scan's threads take turns holding one interpreter lock, so together they never use more than about
    one CPU. Spread over several, every hand-off of the lock wakes a thread on another CPU and moves its
    data there: on the fleet bench (500 clusters, 2 CPUs) the scanner spent 25-35 % more CPU, and took
    20-30 % longer, than on one. Linux only (``os.sched_setaffinity`` applies to the calling thread, and
    new threads inherit it); elsewhere, with one CPU allowed, or when ``aws.single_cpu`` is false, nothing
    changes. The calling thread's CPUs are restored when the scan returns.
    """
    setaffinity = getattr(os, "sched_setaffinity", None)
    if not enabled or setaffinity is None:
        yield
        return
    try:
        allowed: set[int] = os.sched_getaffinity(0)
    except OSError:
        allowed = set()
    if len(allowed) <= 1:
        yield
        return
    cpu = _current_cpu(allowed)
    try:
        setaffinity(0, {cpu})
    except OSError:  # a container that forbids it: run as before
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            setaffinity(0, allowed)


def _current_cpu(allowed: set[int]) -> int:
    """The CPU the calling thread runs on (the scheduler put it there), else the first allowed one."""
    try:
        with open("/proc/thread-self/stat", encoding="ascii") as stat:
            cpu = int(stat.read().rsplit(")", 1)[1].split()[36])  # field 39, "processor"
    except (OSError, ValueError, IndexError):
        return min(allowed)
    return cpu if cpu in allowed else min(allowed)
