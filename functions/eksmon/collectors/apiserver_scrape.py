"""The kube-apiserver's own ``/metrics``, read through the Kubernetes API (``get`` on ``/metrics``).

It is the etcd size of clusters without vended metrics, and the detail only ``/metrics`` has:
which deprecated APIs were requested, which admission webhooks fail or are slow.

* EKS runs two or more apiservers behind a load balancer and each keeps its own counters
  (``apiserver_requested_deprecated_apis`` lives only in the process that served the request), so
  the endpoint is sampled several times (``scrape_samples``), on a new connection each time.
  Replicas are told apart by ``process_start_time_seconds``; a replica seen twice counts once.
* The body is parsed as it streams (:mod:`eksmon.prometheus`), keeping only a few families, so a
  50 MB ``/metrics`` costs one chunk of memory. The whole scrape of one cluster has a time budget;
  past it, the samples already read are used.
* A cluster whose API refuses the monitor or cannot be reached (401, refused, TLS, connect timeout)
  is handed to the engine (``ctx.kubernetes_unreachable``): one ``monitor.collection_error`` for the
  cluster (``source/kubernetes``), and an empty part, so CloudWatch-based checks still run.
  Other failures (403 naming the missing permission, a slow answer) are a collection error for
  ``/metrics`` and an empty part, so CloudWatch-based checks still run. A truncated or garbled body
  is used for what it holds and flagged, never trusted for absence.
* A line of a family read here that cannot be parsed (the parser already takes exemplars, float
  timestamps, quoted names...) is never a silent absence: one collection error for the cluster
  (``UnparsableMetricsLines``) names the families and the first lines by number; the other
  lines are used. Lines of other families are not parsed, only counted (in that error's details).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator

from eksmon.context import CollectContext
from eksmon.kube import (
    KubeBadBody,
    KubeError,
    KubernetesDisabled,
    KubeTimeout,
    KubeTLSError,
    KubeUnavailable,
    kube_client,
)
from eksmon.parts import ClusterInfo
from eksmon.parts.apiserver import (
    APF_REJECTED,
    BUILD_INFO,
    DEFAULT_SAMPLES,
    DEPRECATED_APIS,
    ETCD_SIZE_FAMILIES,
    FAMILIES,
    INQUEUE,
    OBJECT_FAMILIES,
    SATURATED_BOUND,
    SEAT_UTILIZATION,
    START_TIME,
    WEBHOOK_DURATION,
    WEBHOOK_REJECTIONS,
    ApfRejection,
    ApiserverMetrics,
    DeprecatedApi,
    ObjectCount,
    ReplicaSample,
    SeatUtilization,
    WebhookLatency,
    WebhookRejection,
    histogram_quantile,
)
from eksmon.prometheus import ParsedMetrics, Sample, parse
from eksmon.registry import KubeNonResource, collector

SCRAPED_STATUSES = frozenset({"ACTIVE", "UPDATING"})


# -- collection ---------------------------------------------------------------------------------------
@collector(
    provides=ApiserverMetrics,
    uses=(ClusterInfo,),  # DescribeCluster: the endpoint and status, unless a kubeconfig context reaches it
    kube=(KubeNonResource("/metrics"),),
)
def apiserver_scrape(ctx: CollectContext) -> ApiserverMetrics:
    """Sample the apiserver's /metrics ``scrape_samples`` times within the cluster's time budget."""
    info = ctx.get(ClusterInfo) if ctx.cluster_snapshot and ctx.cluster_snapshot.has(ClusterInfo) else None
    if info is not None and info.status not in SCRAPED_STATUSES:
        return ApiserverMetrics(skipped=f"cluster is {info.status}")
    samples = max(1, ctx.needs.scrape_samples or DEFAULT_SAMPLES)
    budget = ctx.settings.kubernetes.timeout_seconds * 3
    try:
        client = kube_client(ctx)
    except KubernetesDisabled as exc:
        return ApiserverMetrics(skipped=str(exc))
    except KubeError as exc:
        _failed(ctx, exc)
        return ApiserverMetrics(error=str(exc))
    deadline = time.monotonic() + budget
    read: list[ReplicaSample] = []
    failures: list[str] = []
    for attempt in range(samples):
        if attempt and time.monotonic() >= deadline:
            failures.append(f"sample {attempt + 1}: time budget of {budget:g} s used up")
            break
        try:
            read.append(scrape_once(client.stream, deadline, budget))
        except KubeBadBody as exc:  # the body breaks a parser limit: said once, not asked again
            ctx.report("kubernetes:/metrics", exc)
            _report_unparsable(ctx, read)
            failures.append(f"sample {attempt + 1}: {exc}")
            return ApiserverMetrics(
                tuple(read),
                attempts=attempt + 1,
                error=None if read else str(exc),
                failures=tuple(failures),
            )
        except KubeError as exc:
            if not read and (attempt == samples - 1 or _permanent(exc) or exc.cluster_wide):
                _failed(ctx, exc)
                return ApiserverMetrics(attempts=attempt + 1, error=str(exc), failures=tuple(failures))
            failures.append(f"sample {attempt + 1}: {exc}")
        client.close()  # a new connection next time: the load balancer may pick another apiserver
    _report_unparsable(ctx, read)
    return ApiserverMetrics(tuple(read), attempts=len(read) + len(failures), failures=tuple(failures))


class UnparsableMetricsLines(KubeBadBody):
    """Lines of the families eksmon reads that could not be parsed; the rest of the body was used."""


def _report_unparsable(ctx: CollectContext, read: list[ReplicaSample]) -> None:
    """One collection error for the cluster when any sample had lines of a family read here that did
    not parse: the finding those lines would have made may be missing, and the user must know."""
    bad = [s for s in read if s.parse_errors]
    if not bad:
        return
    families = sorted({f for s in bad for f in s.error_families})
    worst = max(bad, key=lambda s: s.parse_errors)
    # each replica serves the same broken line: said once
    first = list(dict.fromkeys(e for s in bad for e in s.first_errors))[:3]
    count = worst.parse_errors
    message = (
        f"{count} line{'s' if count != 1 else ''} of {', '.join(families)} in /metrics could not be "
        f"parsed (in {len(bad)} of {len(read)} samples); their samples were left out and the findings "
        f"they feed may be missing: {'; '.join(first)}"
    )
    ctx.report(
        "kubernetes:/metrics",
        UnparsableMetricsLines(200, "UnparsableMetricsLines", "/metrics", message),
        message,
        details={
            "families": families,
            "unparsable_lines": count,
            "first_lines": first,
            "samples_with_errors": len(bad),
            "samples_read": len(read),
            # of the sample with the most unparsable lines: what was parsed, and what was only counted
            "lines": worst.lines,
            "lines_parsed": worst.selected_lines,
            "lines_of_other_families_skipped": worst.lines - worst.selected_lines,
            "quoted_name_lines": worst.quoted_name_lines,
        },
    )


def _failed(ctx: CollectContext, exc: KubeError) -> None:
    if exc.cluster_wide:  # the cluster refuses us or cannot be reached: the engine reports it once
        ctx.kubernetes_unreachable(exc)
    else:
        ctx.report("kubernetes:/metrics", exc)


def _permanent(exc: KubeError) -> bool:
    """What asking again within the same run does not cure: 401, 403, 404, TLS, no endpoint, timeout."""
    return exc.status in (401, 403, 404) or isinstance(exc, (KubeTLSError, KubeUnavailable, KubeTimeout))


def scrape_once(stream: Callable[[str], Iterable[bytes]], deadline: float, budget: float) -> ReplicaSample:
    """One GET /metrics, parsed as it streams; KubeTimeout when the budget runs out mid-body,
    KubeBadBody when the body breaks one of the parser's limits (:mod:`eksmon.prometheus`)."""
    parsed = parse(_until(stream("/metrics"), deadline, budget), FAMILIES)
    if parsed.invalid is not None:
        raise KubeBadBody(
            200,
            "BadMetrics",
            "/metrics",
            f"/metrics could not be read: {parsed.invalid} (after {parsed.bytes} bytes); "
            "its deprecated-API and webhook figures were not used",
        )
    return sample_of(parsed)


def _until(chunks: Iterable[bytes], deadline: float, budget: float) -> Iterator[bytes]:
    iterator = iter(chunks)
    try:
        for chunk in iterator:
            if time.monotonic() > deadline:
                raise KubeTimeout(
                    None,
                    "Timeout",
                    "/metrics",
                    f"reading /metrics took more than the {budget:g} s allowed per cluster "
                    "(3 x kubernetes.timeout_seconds)",
                )
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def sample_of(parsed: ParsedMetrics) -> ReplicaSample:
    """The parts of one parsed /metrics body the checks use."""
    start = _first_value(parsed.get(START_TIME))
    build = parsed.get(BUILD_INFO)
    etcd_metric, etcd_bytes = None, None
    for family in ETCD_SIZE_FAMILIES:
        values = [
            s.value for s in parsed.get(family) if s.name == family and _finite(s.value) and s.value >= 0
        ]
        if values:
            etcd_metric, etcd_bytes = family, max(values)
            break
    return ReplicaSample(
        started_at=start,
        git_version=build[0].labels.get("git_version") if build else None,
        etcd_metric=etcd_metric,
        etcd_bytes=etcd_bytes,
        deprecated=tuple(_deprecated(parsed.get(DEPRECATED_APIS))),
        rejections=tuple(_rejections(parsed.get(WEBHOOK_REJECTIONS))),
        latencies=tuple(_latencies(parsed.get(WEBHOOK_DURATION))),
        apf_rejections=tuple(_apf(parsed.get(APF_REJECTED))),
        seat_utilization=tuple(_seat_utilization(parsed.get(SEAT_UTILIZATION), parsed.get(INQUEUE))),
        objects=_objects(parsed),
        bytes=parsed.bytes,
        parse_errors=parsed.error_count,
        first_errors=tuple(parsed.errors[:3]),
        error_families=tuple(sorted(parsed.error_families)),
        lines=parsed.lines,
        selected_lines=parsed.selected_lines,
        quoted_name_lines=parsed.quoted_name_lines,
        truncated=parsed.truncated,
    )


def _finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


def _first_value(samples: list[Sample]) -> float | None:
    for s in samples:
        if _finite(s.value) and s.value > 0:
            return s.value
    return None


def _deprecated(samples: list[Sample]) -> Iterator[DeprecatedApi]:
    for s in samples:
        if s.name != DEPRECATED_APIS or s.value < 1:  # 1 once requested; 0 is never exported
            continue
        labels = s.labels
        yield DeprecatedApi(
            labels.get("group", ""),
            labels.get("version", ""),
            labels.get("resource", ""),
            labels.get("subresource", ""),
            labels.get("removed_release", ""),
        )


def _apf(samples: list[Sample]) -> Iterator[ApfRejection]:
    for s in samples:
        if s.name != APF_REJECTED or not _finite(s.value) or s.value <= 0:
            continue
        labels = s.labels
        yield ApfRejection(
            labels.get("priority_level", ""),
            labels.get("flow_schema", ""),
            labels.get("reason", ""),
            s.value,
        )


def _seat_utilization(samples: list[Sample], inqueue: list[Sample]) -> Iterator[SeatUtilization]:
    """Per priority level, phase "executing" only (waiting has its own phase and no limit)."""
    bound: dict[str, float] = {}
    count: dict[str, float] = {}
    for s in samples:
        if s.labels.get("phase") != "executing" or not _finite(s.value):
            continue
        level = s.labels.get("priority_level", "")
        if s.name == SEAT_UTILIZATION + "_bucket" and _le(s.labels.get("le", "")) == SATURATED_BOUND:
            bound[level] = s.value
        elif s.name == SEAT_UTILIZATION + "_count":
            count[level] = s.value
    queued: dict[str, float] = {}
    for s in inqueue:
        if s.name == INQUEUE and _finite(s.value):
            level = s.labels.get("priority_level", "")
            queued[level] = queued.get(level, 0.0) + s.value
    for level in sorted(bound.keys() & count.keys()):
        yield SeatUtilization(level, bound[level], count[level], queued.get(level, 0.0))


def _le(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _objects(parsed: ParsedMetrics) -> tuple[ObjectCount, ...]:
    """The first object family present (1.34's, else the deprecated one), -1 (not counted) left out."""
    for family in OBJECT_FAMILIES:
        found = [
            _object(s.labels, family, s.value)
            for s in parsed.get(family)
            if s.name == family and _finite(s.value) and s.value >= 0
        ]
        if found:
            return tuple(found)
    return ()


def _object(labels: dict[str, str], family: str, value: float) -> ObjectCount:
    if family == OBJECT_FAMILIES[0]:
        return ObjectCount(labels.get("group", ""), labels.get("resource", ""), int(value))
    resource, _, group = labels.get("resource", "").partition(".")
    return ObjectCount(group, resource, int(value))


def _rejections(samples: list[Sample]) -> Iterator[WebhookRejection]:
    for s in samples:
        if s.name not in (WEBHOOK_REJECTIONS, WEBHOOK_REJECTIONS + "_total") or not _finite(s.value):
            continue
        labels = s.labels
        yield WebhookRejection(
            labels.get("name", ""),
            labels.get("type", ""),
            labels.get("operation", ""),
            labels.get("error_type", ""),
            labels.get("rejection_code", ""),
            s.value,
        )


def _latencies(samples: list[Sample]) -> Iterator[WebhookLatency]:
    buckets: dict[str, dict[float, float]] = {}
    counts: dict[str, float] = {}
    sums: dict[str, float] = {}
    for s in samples:
        name = s.labels.get("name", "")
        if not _finite(s.value):
            continue
        if s.name == WEBHOOK_DURATION + "_bucket":
            try:
                le = float(s.labels.get("le", ""))
            except ValueError:
                continue
            into = buckets.setdefault(name, {})
            into[le] = into.get(le, 0.0) + s.value
        elif s.name == WEBHOOK_DURATION + "_count":
            counts[name] = counts.get(name, 0.0) + s.value
        elif s.name == WEBHOOK_DURATION + "_sum":
            sums[name] = sums.get(name, 0.0) + s.value
    for name, by_le in sorted(buckets.items()):
        if math.inf not in by_le:
            continue  # a histogram cut short (truncated body): no +Inf bucket, no quantile
        yield WebhookLatency(
            name, tuple(sorted(by_le.items())), counts.get(name, by_le[math.inf]), sums.get(name, 0.0)
        )


__all__ = [
    "APF_REJECTED",
    "ETCD_SIZE_FAMILIES",
    "FAMILIES",
    "ApfRejection",
    "ApiserverMetrics",
    "DeprecatedApi",
    "ObjectCount",
    "ReplicaSample",
    "SeatUtilization",
    "UnparsableMetricsLines",
    "WebhookLatency",
    "WebhookRejection",
    "apiserver_scrape",
    "histogram_quantile",
    "sample_of",
    "scrape_once",
]
