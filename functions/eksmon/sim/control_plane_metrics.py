"""The control-plane metrics of the simulated fleet: AWS/EKS history in CloudWatch and each apiserver's /metrics.

* **CloudWatch**: the vended AWS/EKS series (1-minute request, error, latency and webhook series of
  the last hour; 5-minute etcd size history of the last days) go into moto's store through
  :class:`~eksmon.sim.cloudwatch.CloudWatchExtension`, which answers ``GetMetricData`` (paging,
  ``PartialData``, per-query failures). This module answers no request itself.
* **/metrics**: built from the real kube-apiserver dumps shipped in ``eksmon/sim/data/metrics`` (the
  dump of the newest version not newer than the cluster's), with the scenario's values put into
  the real series: the etcd size, ``process_start_time_seconds`` per replica, and series relabelled
  from real ones for what no dump has (deprecated APIs from the 1.35 dump, webhook rejections from
  the Kubernetes documentation's example, webhook latency from the admission-controller histogram).
  Each cluster serves two replicas in turn, as two apiservers behind EKS's load balancer.

Tests build their own data with the same helpers::

    ext = sim.extension(ControlPlaneMetrics)
    ext.seed_cluster(account, region, "prod", Profile(size_bytes=7.9 * GIB), now)
    kube.cluster(account, region, "prod").set_metrics(
        replicas(apiserver_metrics("1.31", etcd_bytes=..., started_at=...), apiserver_metrics(...)))
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from eksmon.parts.cloudwatch import (
    AWS_EKS,
    ETCD_QUOTA_BYTES,
    LATENCY_METRICS,
    PENDING_ACTIVE,
    REQUESTS,
    REQUESTS_5XX,
    REQUESTS_429,
    SCHEDULED,
    SEATS,
    VERBS,
    WEBHOOK_DURATION,
    WEBHOOK_REJECTIONS,
)
from eksmon.sim.dumps import WEBHOOK_REJECTIONS_EXAMPLE, apiserver_dump, read_dump
from eksmon.sim.server import Extension, Simulator

GIB = 1024**3
CHUNK = 64 * 1024
WINDOW_HISTORY = timedelta(hours=1)  # 1-minute series seeded this far back
SIZE_HISTORY = timedelta(days=3)  # 5-minute etcd size history seeded this far back
SIZE_STEP = timedelta(minutes=5)
PEAK_HISTORY = timedelta(days=14)  # hourly maxima of seats and scheduling seeded this far back
IN_USE = "etcd_mvcc_db_total_size_in_use_in_bytes"
PHYSICAL = "etcd_mvcc_db_total_size_in_bytes"
OLD_SIZE = "apiserver_storage_size_bytes"
FAILING_WEBHOOK = "validate.kyverno.svc-fail"
DEFAULT_LATENCY = {"GET": 0.045, "LIST": 0.38, "PUT": 0.06, "PATCH": 0.05, "POST": 0.08, "DELETE": 0.07}


# -- CloudWatch: what one cluster publishes ---------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    """A cluster's vended metrics: steady values, plus a burst over the last ``burst_minutes``."""

    size_bytes: float  # etcd size now (the in-use size, for the metrics that have one)
    growth_per_day: float = 0.0
    physical_overhead: float = 1.015  # physically allocated / in use
    size_metrics: tuple[str, ...] = (OLD_SIZE,)  # what AWS/EKS vends (its only size series)
    requests_per_minute: float = 2400.0
    errors_5xx_per_minute: float = 0.0
    throttled_per_minute: float = 0.0
    latency: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LATENCY))
    webhook_rejections_per_minute: float = 0.0
    webhook_p99_seconds: float = 0.02
    burst_minutes: int = 0
    burst_requests_per_minute: float = 0.0
    burst_5xx_per_minute: float = 0.0
    burst_429_per_minute: float = 0.0
    burst_latency: Mapping[str, float] = field(default_factory=dict)
    burst_webhook_rejections_per_minute: float = 0.0
    burst_webhook_p99_seconds: float = 0.0
    seats: float = 240.0  # seats in use, steady
    seats_peak: float = 0.0  # one minute of the window at this many seats (0: none)
    scheduled_per_minute: float = 300.0  # pods scheduled a minute (5 pods/s)
    hourly_seats_peak: float = 420.0  # the busiest minute of each of the last 14 days' hours (at most)
    hourly_scheduled_peak: float = 900.0  # pods in the busiest minute of each hour (at most)
    # stretches of the scheduler's active queue: (minutes before now it started, minutes long, pods)
    pending_active: tuple[tuple[int, int, float], ...] = ()


def profile_for(scenarios: Iterable[str]) -> Profile | None:
    """The demo fleet's vended metrics per scenario tag (None: the cluster publishes none)."""
    tags = set(scenarios)
    if "no-vended-metrics" in tags:
        return None
    kwargs: dict[str, object] = {"size_bytes": 1.1 * GIB, "growth_per_day": 15e6}
    if "etcd-near-quota" in tags:
        kwargs.update(size_bytes=0.96 * ETCD_QUOTA_BYTES, growth_per_day=4e6)
    if "etcd-growing" in tags:  # 1.2 GiB a day from 5.8 GiB: the quota in ~1.8 days
        kwargs.update(size_bytes=5.8 * GIB, growth_per_day=1.2 * GIB, size_metrics=(OLD_SIZE,))
    if "seats-high" in tags:  # a standard control plane at a tier's load: 1,450 seats at its peak
        kwargs.update(seats=900.0, seats_peak=1450.0, hourly_seats_peak=1500.0)
    if "tier-oversized" in tags:  # tier-2xl (3,400 seats, 283 pods/s) whose 14-day peaks fit tier-xl
        kwargs.update(
            size_bytes=6.0 * GIB,
            growth_per_day=2e6,
            seats=600.0,
            hourly_seats_peak=900.0,
            scheduled_per_minute=1200.0,
            hourly_scheduled_peak=2400.0,  # 40 pods/s
        )
    if "tier-xl-9gib" in tags:  # 9 GiB of tier-xl's 16 GiB database, 1,100-1,300 seats of 1,700
        kwargs.update(
            size_bytes=9.0 * GIB,
            growth_per_day=5e6,
            seats=1100.0,
            hourly_seats_peak=1300.0,
            scheduled_per_minute=1800.0,
            hourly_scheduled_peak=3000.0,
        )
    if "scheduler-backlog" in tags:  # 22 minutes when 35 pods never left the active queue, ended 18 ago
        kwargs.update(pending_active=((40, 22, 35.0),))
    if "scheduler-burst" in tags:  # a scale-out of 300 pods that drained within 12 minutes: no finding
        kwargs.update(pending_active=((30, 12, 300.0),))
    # 8 minutes of 5xx and 429 at the end of the window; GET past its 1 s SLO, LIST's few seconds within
    # its 30 s SLO (the near-miss beside it)
    if "apiserver-errors" in tags:
        kwargs.update(
            requests_per_minute=4000.0,
            burst_minutes=8,
            burst_requests_per_minute=4000.0,
            burst_5xx_per_minute=500.0,
            burst_429_per_minute=150.0,
            burst_latency={"LIST": 2.6, "GET": 2.2},
        )
    if "webhook-failing" in tags:  # a fail-closed webhook timing out at 10 s
        kwargs.update(
            burst_minutes=max(int(str(kwargs.get("burst_minutes", 0))), 10),
            webhook_rejections_per_minute=0.0,
            burst_webhook_rejections_per_minute=40.0,
            burst_webhook_p99_seconds=9.6,
        )
    return Profile(**kwargs)  # type: ignore[arg-type]


def window_series(profile: Profile, now: datetime, seed: str) -> dict[str, list[tuple[datetime, float]]]:
    """The 1-minute AWS/EKS series of the last hour, ending the minute before ``now``."""
    rng = random.Random(seed)  # noqa: S311 - deterministic noise, not cryptography
    end = now.replace(second=0, microsecond=0)
    minutes = int(WINDOW_HISTORY.total_seconds() // 60)
    out: dict[str, list[tuple[datetime, float]]] = {}
    for i in range(minutes, 0, -1):
        ts = end - timedelta(minutes=i)
        burst = i <= profile.burst_minutes

        def jitter(value: float, spread: float = 0.03) -> float:
            return max(0.0, value * (1 + rng.uniform(-spread, spread)))

        requests = (
            profile.burst_requests_per_minute
            if burst and profile.burst_requests_per_minute
            else profile.requests_per_minute
        )
        values = {
            REQUESTS: round(jitter(requests)),
            REQUESTS_5XX: round(
                jitter(profile.burst_5xx_per_minute if burst else profile.errors_5xx_per_minute)
            ),
            REQUESTS_429: round(
                jitter(profile.burst_429_per_minute if burst else profile.throttled_per_minute)
            ),
            WEBHOOK_REJECTIONS: round(
                jitter(
                    profile.burst_webhook_rejections_per_minute
                    if burst
                    else profile.webhook_rejections_per_minute
                )
            ),
            WEBHOOK_DURATION: jitter(
                profile.burst_webhook_p99_seconds
                if burst and profile.burst_webhook_p99_seconds
                else profile.webhook_p99_seconds,
                0.02,
            ),
        }
        values[SEATS] = round(profile.seats_peak if i == 3 and profile.seats_peak else jitter(profile.seats))
        values[SCHEDULED] = round(jitter(profile.scheduled_per_minute))
        values[PENDING_ACTIVE] = next(
            (pods for start, length, pods in profile.pending_active if start - length < i <= start), 0.0
        )
        for verb in VERBS:
            seconds = profile.burst_latency.get(verb) if burst else None
            values[LATENCY_METRICS[verb]] = jitter(seconds or profile.latency.get(verb, 0.05), 0.05)
        for metric, value in values.items():
            out.setdefault(metric, []).append((ts, float(value)))
    return out


def size_series(profile: Profile, now: datetime, seed: str) -> dict[str, list[tuple[datetime, float]]]:
    """The 5-minute etcd size history of the last days, growing linearly to ``size_bytes`` now."""
    rng = random.Random(seed + "/size")  # noqa: S311 - deterministic noise, not cryptography
    end = now.replace(second=0, microsecond=0)
    steps = int(SIZE_HISTORY / SIZE_STEP)
    out: dict[str, list[tuple[datetime, float]]] = {}
    for i in range(steps, 0, -1):
        ts = end - i * SIZE_STEP
        in_use = profile.size_bytes - profile.growth_per_day * ((i * SIZE_STEP) / timedelta(days=1))
        in_use = max(in_use * (1 + rng.uniform(-0.002, 0.002)), 1e6)
        for metric in profile.size_metrics:
            value = in_use if metric == IN_USE else in_use * profile.physical_overhead
            if metric == OLD_SIZE and IN_USE not in profile.size_metrics:
                value = in_use  # the only size metric: it is the size
            out.setdefault(metric, []).append((ts, float(round(value))))
    return out


def peak_series(
    profile: Profile, now: datetime, seed: str
) -> dict[str, list[tuple[datetime, dict[str, float]]]]:
    """Hourly statistic sets of seats and scheduling over the 14 days before the last hour.

    Stored as one statistic set an hour (as CloudWatch aggregates a high-resolution series), so the
    demo holds 14 days of hourly maxima without 20,000 one-minute points per cluster.
    """
    rng = random.Random(seed + "/peaks")  # noqa: S311 - deterministic noise, not cryptography
    end = now.replace(minute=0, second=0, microsecond=0)
    hours = int(PEAK_HISTORY / timedelta(hours=1))
    out: dict[str, list[tuple[datetime, dict[str, float]]]] = {}
    for i in range(hours, 1, -1):
        ts = end - timedelta(hours=i)
        busy = i % 24 == 6  # one busy hour a day reaches the peak; the rest stay below
        for metric, peak, steady in (
            (SEATS, profile.hourly_seats_peak, profile.seats),
            (SCHEDULED, profile.hourly_scheduled_peak, profile.scheduled_per_minute),
        ):
            top = peak if busy else min(peak, steady) * (1 + rng.uniform(-0.05, 0.0))
            out.setdefault(metric, []).append(
                (ts, {"Maximum": round(top), "Minimum": 0.0, "Sum": round(steady * 60), "SampleCount": 60.0})
            )
    return out


# -- /metrics ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeprecatedApiSeed:
    group: str
    version: str
    resource: str
    removed_release: str
    subresource: str = ""


@dataclass(frozen=True)
class WebhookSeed:
    """One webhook's series: failed calls (``calling_webhook_error``) and a latency histogram."""

    name: str
    operation: str = "CREATE"
    type: str = "validating"
    calling_errors: float = 0.0
    policy_rejections: float = 0.0  # error_type="no_error": the webhook said no, as designed
    calls: float = 0.0  # observations of the latency histogram
    slow_share: float = 0.0  # share of calls that took 2.5-10 s (the rest: under 0.1 s)


@cache
def _fixture(name: str) -> str:
    return read_dump(name).decode("utf-8")


_LABELS = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def relabel(
    line: str,
    *,
    metric: str | None = None,
    value: float | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """A real sample line with its metric name, label values and/or value replaced (labels keep their order)."""
    name, brace, rest = line.partition("{")
    if not brace:
        name, _, old = line.partition(" ")
        return f"{metric or name} {_num(value) if value is not None else old}"
    body, _, tail = rest.rpartition("}")
    pairs = dict(_LABELS.findall(body))
    pairs.update(labels or {})
    rendered = ",".join(f'{k}="{v}"' for k, v in pairs.items() if v is not None)
    old_value = tail.split()[0] if tail.split() else "0"
    return f"{metric or name}{{{rendered}}} {_num(value) if value is not None else old_value}"


def _num(value: float) -> str:
    return repr(float(value)) if value != int(value) or abs(value) >= 1e15 else str(int(value))


@cache
def _family_lines(text: str, family: str) -> tuple[list[str], list[str]]:
    """(# HELP/# TYPE lines, sample lines) of one family in a dump."""
    head, samples = [], []
    for line in text.splitlines():
        if line.startswith((f"# HELP {family} ", f"# TYPE {family} ")):
            head.append(line)
        elif line.startswith((family + "{", family + " ", family + "_")) and not line.startswith("#"):
            bare = line.split("{", 1)[0].split(" ", 1)[0]
            if bare == family or bare in {family + s for s in ("_bucket", "_sum", "_count")}:
                samples.append(line)
    return head, samples


def _set_values(text: str, families: Sequence[str], value: float) -> str:
    """The text with the value of every sample of these families replaced (labels kept as they are)."""
    text = "\n" + text
    for family in families:
        pieces: list[str] = []
        pos = 0
        while (at := text.find("\n" + family, pos)) >= 0:
            end = text.find("\n", at + 1)
            end = len(text) if end < 0 else end
            line = text[at + 1 : end]
            if line[len(family) : len(family) + 1] in ("{", " "):
                pieces += [text[pos : at + 1], line.rsplit(" ", 1)[0], " ", _num(value)]
                pos = end
            else:
                pieces.append(text[pos:end])
                pos = end
        text = "".join([*pieces, text[pos:]])
    return text[1:]


def _insert_family(lines: list[str], family: str, block: list[str]) -> None:
    """Put a family's lines where Prometheus would: in name order among the # HELP lines."""
    for i, line in enumerate(lines):
        if line.startswith("# HELP ") and line.split(" ", 3)[2] > family:
            lines[i:i] = block
            return
    lines.extend(block)


def apiserver_metrics(
    version: str,
    *,
    etcd_bytes: float | None = None,
    started_at: float | None = None,
    deprecated: Sequence[DeprecatedApiSeed] = (),
    webhooks: Sequence[WebhookSeed] = (),
    apf_rejections: Sequence[ApfSeed] = (),
    objects: Mapping[str, int] | None = None,
    seat_saturation: Mapping[str, float] | None = None,
) -> bytes:
    """One apiserver replica's /metrics: the real dump for ``version`` with these values in it.

    ``objects``: stored objects per resource (``secrets``, ``deployments.apps``) in both object
    families the dump has. ``seat_saturation``: per priority level, the share of the time its
    seat-utilization histogram spent above 0.9."""
    text = _fixture(apiserver_dump(version))
    if etcd_bytes is not None:
        text = _set_values(
            text,
            (
                "apiserver_storage_size_bytes",
                "apiserver_storage_db_total_size_in_bytes",
                "etcd_db_total_size_in_bytes",
            ),
            etcd_bytes,
        )
    if started_at is not None:
        text = _set_values(text, ("process_start_time_seconds",), started_at)
    if not deprecated and not webhooks and not apf_rejections and not objects and not seat_saturation:
        return text.encode()
    lines = text.splitlines()
    if objects:
        _set_objects(lines, objects)
    if seat_saturation:
        _saturate(lines, seat_saturation)
    if apf_rejections:
        _add_apf(lines, apf_rejections)
    if deprecated:
        _add_deprecated(lines, deprecated)
    if webhooks:
        _add_webhooks(lines, webhooks)
    return ("\n".join(lines) + "\n").encode()


@dataclass(frozen=True)
class ApfSeed:
    """Requests APF rejected at one priority level and flow schema (no dump has any: written here)."""

    priority_level: str
    flow_schema: str
    reason: str
    count: int


APF_FAMILY = "apiserver_flowcontrol_rejected_requests_total"
SEAT_FAMILY = "apiserver_flowcontrol_priority_level_seat_utilization"


def _set_objects(lines: list[str], objects: Mapping[str, int]) -> None:
    """Set the count of each resource in apiserver_storage_objects{resource="name.group"} and
    apiserver_resource_objects{group,resource}, where the dump has the series."""
    for i, line in enumerate(lines):
        if line.startswith("apiserver_storage_objects{"):
            key = _label(line, "resource")
        elif line.startswith("apiserver_resource_objects{"):
            group, resource = _label(line, "group"), _label(line, "resource")
            key = f"{resource}.{group}" if group else resource
        else:
            continue
        if key in objects:
            lines[i] = relabel(line, value=objects[key])


def _saturate(lines: list[str], shares: Mapping[str, float]) -> None:
    """Cap each named level's executing buckets up to le=0.9 at (1 - share) of its count."""
    counts = {
        _label(line, "priority_level"): float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith(SEAT_FAMILY + "_count{") and _label(line, "phase") == "executing"
    }
    for i, line in enumerate(lines):
        if not line.startswith(SEAT_FAMILY + "_bucket{") or _label(line, "phase") != "executing":
            continue
        level, le = _label(line, "priority_level"), _label(line, "le")
        if level in shares and level in counts and le != "+Inf" and float(le) <= 0.9:
            cap = counts[level] * (1 - shares[level])
            lines[i] = relabel(line, value=min(float(line.rsplit(" ", 1)[1]), cap))


def _label(line: str, name: str) -> str:
    found = re.search(rf'[{{,]{name}="([^"]*)"', line)
    return found.group(1) if found else ""


def _add_apf(lines: list[str], seeds: Sequence[ApfSeed]) -> None:
    """The family as kube-apiserver exports it (component-base: HELP/TYPE name the _total counter)."""
    block = [
        f"# HELP {APF_FAMILY} [BETA] Number of requests rejected by API Priority and Fairness subsystem",
        f"# TYPE {APF_FAMILY} counter",
        *(
            f'{APF_FAMILY}{{flow_schema="{a.flow_schema}",priority_level="{a.priority_level}",'
            f'reason="{a.reason}"}} {a.count}'
            for a in seeds
        ),
    ]
    _insert_family(lines, APF_FAMILY, block)


def _add_deprecated(lines: list[str], apis: Sequence[DeprecatedApiSeed]) -> None:
    family = "apiserver_requested_deprecated_apis"
    head, template = _family_lines(_fixture(apiserver_dump("1.35")), family)
    new = [
        relabel(
            template[0],
            value=1,
            labels={
                "group": a.group,
                "version": a.version,
                "resource": a.resource,
                "subresource": a.subresource,
                "removed_release": a.removed_release,
            },
        )
        for a in apis
    ]
    present = [i for i, line in enumerate(lines) if line.startswith(family + "{")]
    if present:
        lines[present[-1] + 1 : present[-1] + 1] = new
    else:
        _insert_family(lines, family, head + new)


def _add_webhooks(lines: list[str], webhooks: Sequence[WebhookSeed]) -> None:
    rej_head, rej_template = _family_lines(_fixture(WEBHOOK_REJECTIONS_EXAMPLE), WEBHOOK_REJECTIONS)
    rejections = [
        relabel(
            rej_template[0],
            value=count,
            labels={
                "name": w.name,
                "operation": w.operation,
                "type": w.type,
                "error_type": error_type,
                "rejection_code": code,
            },
        )
        for w in webhooks
        for error_type, count, code in (
            ("calling_webhook_error", w.calling_errors, "0"),
            ("no_error", w.policy_rejections, "400"),
        )
        if count
    ]
    if rejections:
        _insert_family(lines, WEBHOOK_REJECTIONS, rej_head + rejections)
    # The webhook histogram has the admission-controller histogram's labels (name, operation,
    # rejected, type) and buckets 0.005 ... 2.5, 10, 25: relabel the controller's real lines.
    controller = "apiserver_admission_controller_admission_duration_seconds"
    head, samples = _family_lines(_fixture(apiserver_dump("1.35")), controller)
    bucket = next(s for s in samples if s.startswith(controller + "_bucket{"))
    total = next(s for s in samples if s.startswith(controller + "_sum{"))
    histogram: list[str] = []
    for w in webhooks:
        if not w.calls:
            continue
        labels = {
            "name": w.name,
            "operation": w.operation,
            "rejected": "false",
            "type": _admission_type(w.type),
        }
        for le, count in _webhook_buckets(w):
            histogram.append(
                relabel(
                    bucket,
                    metric=WEBHOOK_DURATION + "_bucket",
                    value=round(count),
                    labels={**labels, "le": le},
                )
            )
        fast, slow = w.calls * (1 - w.slow_share), w.calls * w.slow_share
        spent = round(fast * 0.012 + slow * 7.8, 3)
        histogram.append(relabel(total, metric=WEBHOOK_DURATION + "_sum", value=spent, labels=labels))
        histogram.append(
            relabel(total, metric=WEBHOOK_DURATION + "_count", value=round(w.calls), labels=labels)
        )
    if histogram:
        renamed = [
            h.replace(controller, WEBHOOK_DURATION).replace("Admission controller", "Admission webhook")
            for h in head
        ]
        _insert_family(lines, WEBHOOK_DURATION, renamed + histogram)


def _webhook_buckets(w: WebhookSeed) -> list[tuple[str, float]]:
    """Cumulative counts: the fast calls under 0.5 s, the slow ones between 2.5 s and 10 s."""
    fast, slow = w.calls * (1 - w.slow_share), w.calls * w.slow_share
    shares = {"0.005": 0.5, "0.025": 0.85, "0.1": 0.98}
    out = [(le, fast * share) for le, share in shares.items()]
    out += [
        ("0.5", fast),
        ("1", fast),
        ("2.5", fast),
        ("10", fast + slow),
        ("25", w.calls),
        ("+Inf", w.calls),
    ]
    return out


def _admission_type(kind: str) -> str:
    return {"validating": "validate", "admit": "admit", "mutating": "admit"}.get(kind, kind)


class Replicas:
    """A /metrics source for ``KubeCluster.set_metrics``: the apiserver replicas answer in turn."""

    def __init__(self, *bodies: bytes) -> None:
        if not bodies:
            raise ValueError("at least one replica's /metrics")
        self.bodies = bodies
        self.served = 0
        self._lock = threading.Lock()

    def __call__(self) -> Iterator[bytes]:
        with self._lock:
            body = self.bodies[self.served % len(self.bodies)]
            self.served += 1
        return (body[i : i + CHUNK] for i in range(0, len(body), CHUNK))


def replicas(*bodies: bytes) -> Callable[[], Iterator[bytes]]:
    return Replicas(*bodies)


# -- the extension ----------------------------------------------------------------------------------
class ControlPlaneMetrics(Extension):
    """Seeds the control-plane metrics of the demo fleet (and of tests) into CloudWatch and /metrics."""

    service = ""  # answers no AWS request: CloudWatchExtension serves GetMetricData
    seed_order = 30  # after the clusters (10), the Kubernetes stand-in (20/21) and CloudWatch (20)

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def seed_cluster(
        self,
        account: str,
        region: str,
        cluster: str,
        profile: Profile,
        now: datetime,
        namespace: str = AWS_EKS,
    ) -> int:
        """Store a cluster's vended series ending at ``now``; returns the number of datapoints."""
        from eksmon.sim.cloudwatch import CloudWatchExtension

        cw: CloudWatchExtension = self.sim.extension(CloudWatchExtension)
        dims = {"ClusterName": cluster}
        count = 0
        seed = f"{account}/{region}/{cluster}"
        if namespace == AWS_EKS:
            for metric, points in window_series(profile, now, seed).items():
                unit = "Seconds" if metric.endswith(("_P99", "_seconds")) else "Count"
                count += cw.put(account, region, namespace, metric, dims, points, unit)
            for metric, sets in peak_series(profile, now, seed).items():
                count += cw.put(account, region, namespace, metric, dims, sets, "Count")
        for metric, points in size_series(profile, now, seed).items():
            count += cw.put(account, region, namespace, metric, dims, points, "Bytes")
        return count

    def seed_demo(self, sim: Simulator) -> None:
        from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_FLEET, DEMO_NOW
        from eksmon.sim.kubernetes_api import KubernetesApi

        api: KubernetesApi = sim.extension(KubernetesApi)
        for c in DEMO_FLEET:
            profile = profile_for(c.scenarios)
            if c.status == "ACTIVE" and profile is not None:
                self.seed_cluster(DEMO_ACCOUNT, c.region, c.name, profile, DEMO_NOW)
            cluster = api.clusters.get((DEMO_ACCOUNT, c.region, c.name)) or api.cluster(
                DEMO_ACCOUNT, c.region, c.name, c.version
            )
            cluster.set_metrics(demo_metrics(c.version, c.scenarios, profile, DEMO_NOW))


def demo_metrics(
    version: str, scenarios: Iterable[str], profile: Profile | None, now: datetime
) -> Callable[[], Iterator[bytes]]:
    """Two replicas' /metrics for a demo cluster (started 9 and 2 days before ``now``)."""
    tags = set(scenarios)
    size = (profile.size_bytes * profile.physical_overhead) if profile else 3.1 * GIB
    older, newer = (now - timedelta(days=9)).timestamp(), (now - timedelta(days=2)).timestamp()
    deprecated: tuple[DeprecatedApiSeed, ...] = ()
    if "no-vended-metrics" in tags:  # the legacy cluster's monitoring stack still lists v1beta3 flowschemas
        deprecated = (DeprecatedApiSeed("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas", "1.32"),)
    webhooks_a: tuple[WebhookSeed, ...] = ()
    webhooks_b: tuple[WebhookSeed, ...] = ()
    if "webhook-failing" in tags:
        webhooks_a = (
            WebhookSeed(
                FAILING_WEBHOOK,
                "CREATE",
                calling_errors=1283,
                policy_rejections=12,
                calls=5120,
                slow_share=0.2,
            ),
            WebhookSeed(FAILING_WEBHOOK, "UPDATE", calling_errors=310, calls=2200, slow_share=0.15),
        )
        webhooks_b = (
            WebhookSeed(FAILING_WEBHOOK, "CREATE", calling_errors=402, calls=1610, slow_share=0.25),
        )
    apf_a: tuple[ApfSeed, ...] = ()
    apf_b: tuple[ApfSeed, ...] = ()
    saturation: dict[str, float] = {}
    if "apf-saturated" in tags:  # leader-election at its limit 3 % of the time, a batch level 25 %;
        # near misses: global-default at 8 % (under 10 %), exempt always above (never judged)
        saturation = {"leader-election": 0.03, "workload-low": 0.25, "global-default": 0.08, "exempt": 1.0}
    objects: dict[str, int] = {}
    if "etcd-objects" in tags:  # Helm release Secrets piling up; Services close, but under 80 %
        objects = {"secrets": 9_412, "services": 7_900, "configmaps": 21_050, "events": 64_800, "pods": 3_120}
    if "apf-drops" in tags:  # controllers' lease renewals queued out at leader-election, plus a noisy client
        apf_a = (
            ApfSeed("leader-election", "system-leader-election", "queue-full", 37),
            ApfSeed("leader-election", "kube-system-service-accounts", "time-out", 4),
            ApfSeed("workload-low", "service-accounts", "concurrency-limit", 212),
        )
        apf_b = (ApfSeed("leader-election", "system-leader-election", "queue-full", 12),)
    return replicas(
        apiserver_metrics(
            version,
            etcd_bytes=size,
            started_at=older,
            webhooks=webhooks_a,
            apf_rejections=apf_a,
            objects=objects,
            seat_saturation=saturation,
        ),
        apiserver_metrics(
            version,
            etcd_bytes=size,
            started_at=newer,
            deprecated=deprecated,
            webhooks=webhooks_b,
            apf_rejections=apf_b,
            objects={k: v - 3 for k, v in objects.items()},  # counted a moment apart
        ),
    )


def install(sim: Simulator) -> None:
    sim.extensions.append(ControlPlaneMetrics(sim))


__all__ = [
    "FAILING_WEBHOOK",
    "GIB",
    "ApfSeed",
    "ControlPlaneMetrics",
    "DeprecatedApiSeed",
    "Profile",
    "Replicas",
    "WebhookSeed",
    "apiserver_metrics",
    "demo_metrics",
    "profile_for",
    "relabel",
    "replicas",
    "size_series",
    "window_series",
]
