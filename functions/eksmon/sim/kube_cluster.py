"""One simulated cluster behind the Kubernetes API stand-in: its objects (:mod:`eksmon.sim.kube_store`),
``/metrics``, RBAC override, access entry, injected faults and request log.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eksmon.sim.dumps import read_dump
from eksmon.sim.kube_auth import Permission
from eksmon.sim.kube_store import ObjectStore

MetricsSource = bytes | Callable[[], Iterable[bytes | str]]

REQUEST_LOG = 10_000
METRICS_FIXTURE = "kube-apiserver-metrics-1_31.prom"  # shipped in eksmon/sim/data/metrics


@dataclass
class KubeFault:
    """``reset`` the connection, answer ``slow``ly, or with a ``status``; for ``times`` requests (None: all)."""

    kind: str  # reset | slow | status | endless
    path: str | None = None  # glob on the API path (no endpoint prefix, no query); None: every path
    status: int = 500
    seconds: float = 0.0
    times: int | None = None
    retry_after: float | None = None
    message: str = "injected by the simulator"
    hits: int = 0

    def matches(self, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


@dataclass(frozen=True)
class KubeRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int  # 0: connection reset
    caller: str | None
    note: str = ""


class KubeCluster(ObjectStore):
    """One simulated cluster's API server: its objects, ``/metrics``, RBAC and faults. Thread-safe."""

    def __init__(self, account: str, region: str, name: str, version: str = "1.31") -> None:
        super().__init__(name)
        self.account, self.region, self.version = account, region, version
        self.permissions: list[Permission] | None = None  # None: exactly the registry's ClusterRole
        self.access_entry = True  # False: every token gets 401, as without an EKS access entry
        self.faults: list[KubeFault] = []
        self.requests: deque[KubeRequest] = deque(maxlen=REQUEST_LOG)
        self._metrics: MetricsSource | None = None

    def __repr__(self) -> str:
        return f"KubeCluster({self.account}/{self.region}/{self.name})"

    # -- /metrics --------------------------------------------------------------------------------
    def set_metrics(self, source: str | MetricsSource | None) -> None:
        """Prometheus text (str/bytes), or a callable returning chunks (for tens of MB); None: default."""
        with self._lock:
            self._metrics = source.encode() if isinstance(source, str) else source

    def metrics_source(self) -> MetricsSource:
        with self._lock:
            return self._metrics if self._metrics is not None else default_metrics()

    # -- faults ----------------------------------------------------------------------------------
    def unreachable(self, path: str | None = None, times: int | None = None) -> KubeFault:
        """Reset the TCP connection instead of answering."""
        return self._fault(KubeFault("reset", path, times=times))

    def slow(self, seconds: float, path: str | None = None, times: int | None = None) -> KubeFault:
        """Answer only after ``seconds`` (the stand-in's stop cuts the wait short)."""
        return self._fault(KubeFault("slow", path, seconds=seconds, times=times))

    def fail(
        self,
        status: int,
        path: str | None = None,
        times: int | None = None,
        retry_after: float | None = None,
        message: str = "injected by the simulator",
    ) -> KubeFault:
        """Answer ``status`` with a Kubernetes Status body (and ``Retry-After`` if given)."""
        return self._fault(
            KubeFault("status", path, status=status, times=times, retry_after=retry_after, message=message)
        )

    def endless_list(
        self, path: str | None = None, repeat: bool = True, times: int | None = None
    ) -> KubeFault:
        """Lists never end: every page carries a ``continue`` token -- the same one again (``repeat``)
        or a new one each time -- whatever token was sent, as a broken apiserver or proxy would."""
        return self._fault(KubeFault("endless" if repeat else "endless-new", path, times=times))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _fault(self, fault: KubeFault) -> KubeFault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, path: str) -> KubeFault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(path):
                    fault.hits += 1
                    return fault
        return None

    def paths_requested(self, prefix: str = "") -> list[str]:
        return [r.path for r in list(self.requests) if r.path.startswith(prefix)]


def default_metrics() -> bytes:
    """The real kube-apiserver v1.31 dump shipped with the simulator (decompressed once per process)."""
    return read_dump(METRICS_FIXTURE)
