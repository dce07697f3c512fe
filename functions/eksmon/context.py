"""What a collector is given (:class:`CollectContext`) and what it may be injected (:class:`Services`).

Its own module so that collectors, Kubernetes access and the engine all import it, and none of
them imports another: the engine runs collectors, collectors never import the engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from eksmon.aws import DeadlineExceeded, error_code
from eksmon.aws_io import AwsAccount
from eksmon.links import ANCHOR_COLLECTION_ERROR, readme_url
from eksmon.models import Finding, Severity
from eksmon.parts.scan import COLLECTION_ERROR
from eksmon.registry import CollectionNeeds
from eksmon.settings import Settings
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot

T = TypeVar("T")

COLLECTION_ERROR_DOCS = readme_url(ANCHOR_COLLECTION_ERROR)


@dataclass
class CollectContext:
    """What a collector may use: its clients, its scope, the parts collected before it."""

    account: str
    region: str
    aws: AwsAccount
    settings: Settings
    now: datetime
    region_snapshot: RegionSnapshot
    cluster_snapshot: ClusterSnapshot | None = None
    services: Services | None = None
    needs: CollectionNeeds = field(default_factory=CollectionNeeds)  # windows the scan's checks evaluate
    _errors: list[Finding] = field(default_factory=list)
    kubernetes_down: BaseException | None = None

    def kubernetes_unreachable(self, exc: BaseException) -> None:
        """The cluster's Kubernetes API refused the monitor or cannot be reached: the engine reports
        it once (resource ``source/kubernetes``) and runs no further Kubernetes collector for it."""
        if self.kubernetes_down is None:
            self.kubernetes_down = exc

    @property
    def errors(self) -> list[Finding]:
        """The collection errors reported so far (``report``, ``report_region``), oldest first."""
        return list(self._errors)

    @property
    def cluster(self) -> str | None:
        return self.cluster_snapshot.name if self.cluster_snapshot else None

    def client(self, service: str) -> Any:
        return self.aws.client(service, self.region)

    def get(self, kind: type[T]) -> T:
        snap: ClusterSnapshot | RegionSnapshot = self.cluster_snapshot or self.region_snapshot
        return snap.get(kind)

    def memo(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """A value shared by every cluster of this account+region (e.g. add-on versions), made once."""
        return self.region_snapshot_cache().get(key, make)

    def shared(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """A value made once per account and scan (the version calendar, the same in every region; a key
        that names the region makes it once per account and region, e.g. add-on versions): made by
        whichever scope asks first; a failure is shared too (each scope that reads it reports it)."""
        io = self.aws.io
        if io is None:
            return self.memo(key, make)
        found: T = io.shared.get(
            (self.account, *key), make, keep_error=lambda exc: not isinstance(exc, DeadlineExceeded)
        )
        return found

    def region_snapshot_cache(self) -> RegionMemo:
        memo = self.region_snapshot.parts.get(RegionMemo)
        if memo is None:  # created before any cluster runs, see _collect_region
            raise RuntimeError("region memo missing")
        return memo  # type: ignore[no-any-return]

    def report(
        self,
        source: str,
        exc: BaseException,
        message: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """A non-fatal problem reading a source: reported, and the collector goes on. ``details`` are
        added to the finding's (what the user needs to find the problem, e.g. a line number)."""
        error = collection_error(self.account, self.region, self.cluster, source, exc, self.now, message)
        if details:
            error.details.update(details)
        self._errors.append(error)

    def report_region(self, source: str, exc: BaseException, message: str | None = None) -> None:
        """A problem of a source the whole account+region shares (one finding however many clusters
        hit it: errors of one source in one scope are merged)."""
        self._errors.append(collection_error(self.account, self.region, None, source, exc, self.now, message))


class RegionMemo:
    """Values shared by every cluster of one account+region, each made once (thread-safe)."""

    def __init__(self) -> None:
        self._values: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}

    def get(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                found: T = self._values[key]
                return found
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    again: T = self._values[key]
                    return again
            value = make()
            with self._lock:
                self._values[key] = value
            return value


@dataclass
class Services:
    """Optional, injectable services beyond boto3 (Kubernetes access is added here)."""

    kubernetes: Any = None  # a factory: (CollectContext) -> Kubernetes client
    counters: Any = None  # eksmon.counters.CounterStore: counter values kept between deployed runs


def collection_error(
    account: str,
    region: str,
    cluster: str | None,
    source: str,
    exc: BaseException | None,
    now: datetime,
    message: str | None = None,
) -> Finding:
    code = error_code(exc) if exc is not None else "Unavailable"
    text = message or (str(exc) if exc is not None else "source unavailable")
    where = f"cluster {cluster}" if cluster else f"{account}/{region}"
    resource = f"source/{source}"
    return Finding.observed(
        check=COLLECTION_ERROR,
        severity=Severity.WARNING,
        title=f"eksmon could not read {source} for {where}",
        message=f"{source} failed with {code}: {text[:500]}. Checks that need it were skipped for {where}; "
        "everything else was scanned.",
        remediation="Check the monitor role's permissions and the source's availability; "
        "the next run retries by itself.",
        docs=COLLECTION_ERROR_DOCS,
        account=account,
        region=region,
        cluster=cluster,
        resource=resource,
        details={"source": source, "error_code": code, "error": text[:500]},
        now=now,
    )
