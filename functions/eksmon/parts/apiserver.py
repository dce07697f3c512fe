"""What the apiserver's ``/metrics`` says, sampled on each replica: deprecated APIs requested, webhook
rejections and latencies, APF rejections and seat utilization, object counts, the etcd size.

``collectors/apiserver_scrape.py`` fills ``ApiserverMetrics``; ``histogram_quantile`` is the arithmetic
the checks share over its histograms.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

# etcd size, by preference (as served by the real dumps in tests/fixtures/metrics, and the Kubernetes
# metrics reference https://kubernetes.io/docs/reference/instrumentation/metrics/):
# <=1.25 etcd_db_total_size_in_bytes; 1.26-1.27
# apiserver_storage_db_total_size_in_bytes; 1.28 both it and apiserver_storage_size_bytes; 1.29+ only
# apiserver_storage_size_bytes. The first family present wins, the largest of its series.
ETCD_SIZE_FAMILIES = (
    "apiserver_storage_size_bytes",
    "apiserver_storage_db_total_size_in_bytes",
    "etcd_db_total_size_in_bytes",
)
DEPRECATED_APIS = "apiserver_requested_deprecated_apis"
WEBHOOK_REJECTIONS = "apiserver_admission_webhook_rejection_count"
WEBHOOK_DURATION = "apiserver_admission_webhook_admission_duration_seconds"
START_TIME = "process_start_time_seconds"
BUILD_INFO = "kubernetes_build_info"
APF_REJECTED = "apiserver_flowcontrol_rejected_requests_total"  # not vended to CloudWatch
# time-weighted histogram of each priority level's seats in use over its current limit (borrowing
# included), observed continuously since the replica started
SEAT_UTILIZATION = "apiserver_flowcontrol_priority_level_seat_utilization"
SATURATED_BOUND = 0.9  # the bucket whose complement is "time above 90 % of the limit"
INQUEUE = "apiserver_flowcontrol_current_inqueue_requests"
# objects stored per resource: apiserver_resource_objects{group,resource} from 1.34, before it
# apiserver_storage_objects{resource="name.group"} (-1 when the apiserver could not count)
OBJECT_FAMILIES = ("apiserver_resource_objects", "apiserver_storage_objects")
FAMILIES = (
    *ETCD_SIZE_FAMILIES,
    DEPRECATED_APIS,
    WEBHOOK_REJECTIONS,
    WEBHOOK_DURATION,
    START_TIME,
    BUILD_INFO,
    APF_REJECTED,
    SEAT_UTILIZATION,
    INQUEUE,
    *OBJECT_FAMILIES,
)
DEFAULT_SAMPLES = 3


# -- parts --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, order=True)
class DeprecatedApi:
    group: str
    version: str
    resource: str
    subresource: str
    removed_release: str

    @property
    def name(self) -> str:
        """``flowcontrol.apiserver.k8s.io/v1beta3 flowschemas`` (core group: ``v1 endpoints``)."""
        gv = f"{self.group}/{self.version}" if self.group else self.version
        sub = f"/{self.subresource}" if self.subresource else ""
        return f"{gv} {self.resource}{sub}"

    @property
    def resource_id(self) -> str:
        parts = [self.group or "core", self.version, self.resource, self.subresource]
        return "api/" + "/".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class WebhookRejection:
    name: str
    type: str  # validating | admit
    operation: str
    error_type: str  # calling_webhook_error | apiserver_internal_error | no_error
    rejection_code: str
    count: float


@dataclass(frozen=True, slots=True)
class WebhookLatency:
    """One webhook's duration histogram, summed over operation, type and rejected (cumulative)."""

    name: str
    buckets: tuple[tuple[float, float], ...]  # (le, cumulative count), ascending, +Inf last
    count: float
    total_seconds: float

    def quantile(self, q: float) -> float | None:
        return histogram_quantile(q, self.buckets)


@dataclass(frozen=True, slots=True)
class ApfRejection:
    """Requests API Priority and Fairness dropped (a counter since the replica started)."""

    priority_level: str
    flow_schema: str
    reason: str  # queue-full | concurrency-limit | time-out | cancelled
    count: float


@dataclass(frozen=True, slots=True)
class SeatUtilization:
    """One priority level's seat-utilization histogram on one replica (time-weighted, cumulative)."""

    priority_level: str
    at_most_90: float  # bucket le="0.9": time spent at or below 90 % of the level's limit
    count: float  # all the time observed
    inqueue: float = 0.0  # requests waiting in the level's queues at the scrape


@dataclass(frozen=True, slots=True)
class ObjectCount:
    group: str  # "" for the core group
    resource: str
    count: int

    @property
    def name(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


@dataclass(frozen=True, slots=True)
class ReplicaSample:
    """What one scrape returned: one apiserver replica's view."""

    started_at: float | None  # process_start_time_seconds: tells the replicas apart
    git_version: str | None
    etcd_metric: str | None
    etcd_bytes: float | None
    deprecated: tuple[DeprecatedApi, ...] = ()
    rejections: tuple[WebhookRejection, ...] = ()
    latencies: tuple[WebhookLatency, ...] = ()
    apf_rejections: tuple[ApfRejection, ...] = ()
    seat_utilization: tuple[SeatUtilization, ...] = ()
    objects: tuple[ObjectCount, ...] = ()
    bytes: int = 0
    parse_errors: int = 0
    first_errors: tuple[str, ...] = ()
    error_families: tuple[str, ...] = ()  # the families with lines that could not be parsed
    lines: int = 0
    selected_lines: int = 0  # lines of the families read here (the others are skipped unparsed)
    quoted_name_lines: int = 0  # samples written with a quoted name, {"name", ...}
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class ApiserverMetrics:
    """The samples of one cluster's ``/metrics``; ``error``/``skipped`` say why there are none."""

    samples: tuple[ReplicaSample, ...] = ()
    attempts: int = 0
    error: str | None = None  # nothing could be read (reported as a collection error)
    skipped: str | None = None  # not read on purpose (Kubernetes access off, cluster not ACTIVE)
    failures: tuple[str, ...] = field(default_factory=tuple)  # later samples that failed

    @property
    def replicas(self) -> tuple[ReplicaSample, ...]:
        """One sample per apiserver replica (the last one read of each)."""
        by_start: dict[object, ReplicaSample] = {}
        for i, s in enumerate(self.samples):
            by_start[s.started_at if s.started_at is not None else ("unknown", i)] = s
        return tuple(by_start.values())

    @property
    def complete(self) -> bool:
        """True when at least one sample was read to its end (so an absent family is really absent)."""
        return any(not s.truncated for s in self.samples)

    def etcd_size(self) -> tuple[str, float] | None:
        """(family, bytes): the first family present in any sample, by preference; its largest value."""
        for family in ETCD_SIZE_FAMILIES:
            values = [
                s.etcd_bytes for s in self.samples if s.etcd_metric == family and s.etcd_bytes is not None
            ]
            if values:
                return family, max(values)
        return None

    def deprecated_apis(self) -> dict[DeprecatedApi, int]:
        """Each deprecated API requested, with the number of replicas that report it."""
        seen: dict[DeprecatedApi, int] = {}
        for replica in self.replicas:
            for api in set(replica.deprecated):
                seen[api] = seen.get(api, 0) + 1
        return dict(sorted(seen.items()))

    def webhook_rejections(self) -> list[WebhookRejection]:
        """Rejections summed over replicas, per (webhook, type, operation, error type, code)."""
        totals: dict[tuple[str, str, str, str, str], float] = {}
        for replica in self.replicas:
            for r in replica.rejections:
                key = (r.name, r.type, r.operation, r.error_type, r.rejection_code)
                totals[key] = totals.get(key, 0.0) + r.count
        return [WebhookRejection(*k, count=v) for k, v in sorted(totals.items())]

    def webhook_latencies(self) -> list[WebhookLatency]:
        """Each webhook's histogram summed over the replicas."""
        merged: dict[str, dict[float, float]] = {}
        counts: dict[str, tuple[float, float]] = {}
        for replica in self.replicas:
            for h in replica.latencies:
                into = merged.setdefault(h.name, {})
                for le, n in h.buckets:
                    into[le] = into.get(le, 0.0) + n
                c, s = counts.get(h.name, (0.0, 0.0))
                counts[h.name] = (c + h.count, s + h.total_seconds)
        return [
            WebhookLatency(name, tuple(sorted(b.items())), *counts[name])
            for name, b in sorted(merged.items())
        ]

    def apf_rejections(self) -> list[ApfRejection]:
        """APF drops summed over replicas, per (priority level, flow schema, reason)."""
        totals: dict[tuple[str, str, str], float] = {}
        for replica in self.replicas:
            for r in replica.apf_rejections:
                key = (r.priority_level, r.flow_schema, r.reason)
                totals[key] = totals.get(key, 0.0) + r.count
        return [ApfRejection(*k, count=v) for k, v in sorted(totals.items())]

    def object_counts(self) -> dict[str, ObjectCount]:
        """Objects stored per resource (``secrets``, ``deployments.apps``): the largest any replica
        counts (each counts on its own schedule; none sums another's)."""
        out: dict[str, ObjectCount] = {}
        for replica in self.replicas:
            for o in replica.objects:
                if o.name not in out or o.count > out[o.name].count:
                    out[o.name] = o
        return dict(sorted(out.items()))

    def oldest_start(self) -> datetime | None:
        starts = [s.started_at for s in self.replicas if s.started_at is not None]
        return datetime.fromtimestamp(min(starts), UTC) if starts else None


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """Prometheus's ``histogram_quantile`` over cumulative buckets; None without observations.

    Linear interpolation inside the bucket; a rank in the +Inf bucket gives the highest finite bound.
    """
    ordered = sorted(buckets)
    if not ordered or not math.isinf(ordered[-1][0]):
        return None
    total = ordered[-1][1]
    if total <= 0:
        return None
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for le, count in ordered:
        if count >= rank:
            if math.isinf(le):
                return lower_bound
            if count == lower_count:
                return le
            return lower_bound + (le - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = le, count
    return lower_bound
