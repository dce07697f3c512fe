"""A small task graph for one scan: tasks run when what they read is done, fairly across regions.

Each task belongs to a lane (an account+region). At most ``per_lane`` tasks of one lane run at once
-- a collector makes one AWS request at a time, so this bounds a region's requests in flight without
parking threads on it -- and free threads take the next ready task of the lane after the last one
served, so one region with many clusters never starves the others. Within a lane, the ready task
added first runs first: a cluster's tasks (added together) go before the next cluster's, so a cluster
that started finishes before new ones start, and its reads that wait on DescribeCluster do not queue
behind every other cluster's first reads. Threads are daemons: a call stuck past the scan's deadline
never keeps the process alive.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field


@dataclass(eq=False)
class Task:
    name: str
    lane: Hashable
    fn: Callable[[], None]
    waiting: int = 0
    followers: list[Task] = field(default_factory=list)
    started: bool = False
    done: bool = False
    order: int = 0  # the order tasks were added in: within a lane, the lowest ready one runs first


class TaskGraph:
    def __init__(self, threads: int, per_lane: int) -> None:
        self.threads = max(1, threads)
        self.per_lane = max(1, per_lane)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # workers wait here for a runnable task
        self._all_done = threading.Condition(self._lock)  # wait() waits here
        self._ready: dict[Hashable, list[tuple[int, Task]]] = {}  # a heap per lane, by Task.order
        self._lanes: deque[Hashable] = deque()  # lanes with ready tasks, in round-robin order
        self._order = itertools.count()
        self._running: dict[Hashable, int] = {}
        self._workers: list[threading.Thread] = []
        self._idle = 0
        self._open = 0  # tasks added and not done
        self._closed = False
        self.errors: list[tuple[Task, BaseException]] = []

    # -- building ----------------------------------------------------------------------------------
    def add(self, name: str, lane: Hashable, fn: Callable[[], None], after: Iterable[Task] = ()) -> Task:
        with self._cond:
            task = Task(name, lane, fn, order=next(self._order))
            self._open += 1
            for dep in after:
                if not dep.done:
                    task.waiting += 1
                    dep.followers.append(task)
            if task.waiting == 0:
                self._make_ready(task)
        return task

    def _make_ready(self, task: Task, kick: bool = True) -> None:  # under the lock
        if self._closed:
            return
        queue = self._ready.get(task.lane)
        if queue is None:
            queue = self._ready[task.lane] = []
        if not queue and task.lane not in self._lanes:
            self._lanes.append(task.lane)
        heapq.heappush(queue, (task.order, task))
        if kick:
            self._kick()

    def _kick(self) -> None:  # under the lock
        """Wake one idle worker (or start one) when a task could run now."""
        if not any(self._running.get(lane, 0) < self.per_lane for lane in self._lanes):
            return
        if self._idle > 0:
            self._cond.notify()
        elif len(self._workers) < self.threads:
            worker = threading.Thread(target=self._work, name=f"eksmon-{len(self._workers)}", daemon=True)
            self._workers.append(worker)
            worker.start()

    # -- running -----------------------------------------------------------------------------------
    def _next(self) -> Task | None:  # under the lock
        for _ in range(len(self._lanes)):
            lane = self._lanes[0]
            self._lanes.rotate(-1)
            if self._running.get(lane, 0) >= self.per_lane:
                continue
            queue = self._ready[lane]
            _, task = heapq.heappop(queue)
            if not queue:
                self._lanes.remove(lane)
            self._running[lane] = self._running.get(lane, 0) + 1
            return task
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                task = self._next()
                while task is None:
                    if self._closed:
                        return
                    self._idle += 1
                    self._cond.wait()
                    self._idle -= 1
                    task = self._next()
                task.started = True
                self._kick()  # a wake-up may have gone to this worker while more tasks were ready
            try:
                task.fn()
            except BaseException as exc:  # noqa: BLE001 - kept for the caller; the graph goes on
                with self._cond:
                    self.errors.append((task, exc))
            with self._cond:
                task.done = True
                self._running[task.lane] -= 1
                self._open -= 1
                # No worker is woken here: this one takes the next runnable task as it loops, and wakes
                # another only if more are runnable then. Waking one here too woke, for nearly every task
                # done, a thread that found nothing to do (bench/README.md, "Fleet scale").
                for follower in task.followers:
                    follower.waiting -= 1
                    if follower.waiting == 0:
                        self._make_ready(follower, kick=False)
                if self._open == 0:
                    self._all_done.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every task is done (True) or ``timeout`` seconds pass (False)."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._open > 0:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                # short waits: Ctrl-C reaches the main thread promptly
                self._all_done.wait(0.2 if left is None else min(left, 0.2))
            return True

    def close(self) -> None:
        """No task starts any more; running ones finish on their own (their results are ignored)."""
        with self._cond:
            self._closed = True
            self._ready.clear()
            self._lanes.clear()
            self._cond.notify_all()
