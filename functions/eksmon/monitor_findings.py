"""The findings the monitor reports about itself: what it could not evaluate (``monitor.coverage``), a run
near its time budget (``monitor.run_time``), a cluster filter that selects nothing
(``monitor.filter_matches_nothing``), and the texts of the collection errors the scanner raises (a
cluster's Kubernetes API down, the deadline, a check reading an undeclared part).

Pure: each is a function of what the scanner saw; the scanner (``eksmon.engine``) decides when.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from eksmon.aws import DeadlineExceeded
from eksmon.clusterfilter import FilterMiss
from eksmon.context import collection_error
from eksmon.kube.errors import KubeError
from eksmon.links import ANCHOR_COVERAGE, ANCHOR_FILTERS, ANCHOR_RUN_TIME, readme_url
from eksmon.models import Finding, Problem, Severity
from eksmon.parts.scan import FILTER_MATCHES_NOTHING, RUN_TIME

if TYPE_CHECKING:
    from eksmon.registry import CheckSpec
    from eksmon.snapshot import MissingData

T = TypeVar("T")

COVERAGE = "monitor.coverage"
COVERAGE_DOCS = readme_url(ANCHOR_COVERAGE)
RUN_TIME_DOCS = readme_url(ANCHOR_RUN_TIME)
SLOWEST_SOURCES = 3  # how many sources monitor.run_time names
FILTER_DOCS = readme_url(ANCHOR_FILTERS)


def coverage_finding(
    account: str, region: str, cluster: str | None, unevaluated: Sequence[tuple[str, str]], now: datetime
) -> Finding:
    """One info finding naming every check that an optional source left without data (docs/reference.md)."""
    where = f"cluster {cluster}" if cluster else f"{account}/{region}"
    checks = sorted({c for c, _ in unevaluated})
    lines = "; ".join(f"{c}: {reason}" for c, reason in unevaluated)
    resource = "coverage"
    return Finding.observed(
        check=COVERAGE,
        severity=Severity.INFO,
        title=f"{len(checks)} check{'s' if len(checks) != 1 else ''} could not be evaluated for {where}",
        message=f"eksmon could not evaluate {', '.join(checks)} for {where}, because a source has no "
        f"data for it: {lines}.",
        remediation="Upgrade the cluster's platform version so that it publishes the free AWS/EKS "
        "control-plane metrics (Kubernetes 1.28+), or turn on the CloudWatch Observability add-on, or grant "
        "the monitor `get` on the non-resource URL /metrics (`eksmon rbac`); a new cluster needs a few hours "
        "of history.",
        docs=COVERAGE_DOCS,
        account=account,
        region=region,
        cluster=cluster,
        resource=resource,
        details={"unevaluated": [{"check": c, "reason": reason} for c, reason in unevaluated]},
        now=now,
    )


def run_time_finding(
    *,
    monitor: str | None,
    account: str,
    region: str,
    used_seconds: float,
    budget_seconds: float,
    warning_percent: float,
    cut: bool,
    throttled: int,
    pairs: int,
    slowest: Sequence[Mapping[str, Any]],
    now: datetime,
) -> Finding | None:
    """The warning a run gets when its collection took more than ``warning_percent`` of its time budget
    (or the deadline cut it), so that a fleet outgrowing its function is told before runs lose data.

    One per run: ``account``/``region`` are the run's first account+region pair (fan-out partitions never
    share one, so each partition has its own fingerprint, stable while the fleet is), resource
    ``run/<monitor>`` (``run/scan`` for the command line).
    """
    percent = 100.0 * used_seconds / budget_seconds
    if not cut and percent <= warning_percent:
        return None
    who = f"the {monitor} monitor's run" if monitor else "this scan"
    scope = f"{pairs} account+region pair{'s' if pairs != 1 else ''}"
    budget = _seconds_text(budget_seconds)
    throttling = (
        f" AWS answered {throttled} request{'s' if throttled != 1 else ''} with a throttling error; "
        "the retries that waited them out are part of that time."
        if throttled
        else ""
    )
    if cut:
        title = f"{who[0].upper()}{who[1:]} was cut at its {budget} s deadline"
        outcome = (
            "The deadline cut this run: the sources it had not finished were not checked (see the "
            "monitor.collection_error findings with resource source/deadline)."
        )
    else:
        title = f"{who[0].upper()}{who[1:]} took {percent:.0f} % of its time budget"
        outcome = (
            "If the fleet or AWS's answers get slower, runs start being cut at the deadline: sources not "
            "finished by then are not checked, and each region or cluster they belong to gets a "
            "monitor.collection_error (resource source/deadline)."
        )
    resource = f"run/{monitor or 'scan'}"
    return Finding.observed(
        check=RUN_TIME,
        severity=Severity.WARNING,
        title=title,
        message=f"Reading {scope} (from {account}/{region}) took {_seconds_text(used_seconds)} s of the "
        f"scan's {budget} s budget ({percent:.0f} %; the warning starts above {warning_percent:g} %, "
        f"aws.run_time_warning_percent).{throttling} {outcome}",
        remediation="Give the scan more time or less to do: raise the monitor function's timeout and memory "
        "(LAMBDA_SIZES in infra/constants.py; Lambda's CPU grows with memory, and a large scan is CPU-bound); "
        "lower fanout.max_targets_per_invocation or fanout.max_clusters_per_invocation so that more "
        "invocations share the fleet; or split the "
        "regions between deployments. On the command line, raise --timeout (aws.scan_timeout_seconds). When "
        "details.throttled_retries is high, AWS throttling is what slows the run: another tool may be "
        "calling the same APIs in these accounts.",
        docs=RUN_TIME_DOCS,
        account=account,
        region=region,
        cluster=None,
        resource=resource,
        details={
            "duration_seconds": round(used_seconds, 2),
            "budget_seconds": round(budget_seconds, 2),
            "percent": round(percent, 1),
            "warning_percent": warning_percent,
            "cut": cut,
            "throttled_retries": throttled,
            "account_region_pairs": pairs,
            "slowest_sources": [dict(s) for s in slowest],
        },
        now=now,
    )


def filter_finding(
    miss: FilterMiss, account: str, region: str, monitor: str | None, now: datetime
) -> Finding:
    """The warning of a deployed monitor whose ``clusters.include`` pattern selects no cluster anywhere it
    scans: a monitor watching nothing says so. One per pattern, on the run's first account+region pair."""
    resource = f"filter/{miss.pattern}"
    who = f"The {monitor} monitor's" if monitor else "This scan's"
    return Finding.observed(
        check=FILTER_MATCHES_NOTHING,
        severity=Severity.WARNING,
        title=f"clusters.include pattern {miss.pattern!r} matches no cluster",
        message=f"{who} clusters.include {miss.text()} Nothing is watched through that pattern.",
        remediation="Correct the pattern in clusters.include (the eksmon context of cdk.json, then deploy), "
        "or remove it; `eksmon scan --cluster PATTERN` tries a pattern from a laptop.",
        docs=FILTER_DOCS,
        account=account,
        region=region,
        cluster=None,
        resource=resource,
        details={
            "pattern": miss.pattern,
            "existing_clusters": list(miss.suggestions),
            "unlisted": list(miss.unread),
            **({"outside": miss.outside} if miss.outside else {}),
        },
        now=now,
    )


def _seconds_text(seconds: float) -> str:
    return f"{seconds:.0f}" if seconds >= 100 else f"{seconds:.1f}"


def to_finding(
    spec: CheckSpec, problem: Problem, account: str, region: str, cluster: str | None, now: datetime
) -> Finding:
    return Finding.observed(
        check=spec.id,
        severity=problem.severity,
        title=problem.title or spec.title,
        message=problem.message,
        remediation=problem.remediation,
        docs=spec.docs,
        account=account,
        region=region,
        cluster=cluster,
        resource=problem.resource,
        details=dict(problem.details),
        now=now,
    )


def undeclared_read(
    spec: CheckSpec, missing: MissingData, account: str, region: str, cluster: str | None, now: datetime
) -> Finding:
    """A check read a part it never declared: a bug in eksmon, shown instead of a silent skip."""
    message = (
        f"check {spec.id} reads {missing.kind.__name__}, which it does not declare in needs or uses, so the "
        "engine never collects it for this check; the check did not run. This is a bug in eksmon."
    )
    return collection_error(account, region, cluster, f"check/{spec.id}", missing, now, message)


def kubernetes_down_finding(
    account: str,
    region: str,
    cluster: str | None,
    exc: BaseException,
    affected_checks: Iterable[str],
    skipped_collectors: Iterable[str],
    now: datetime,
) -> Finding:
    """The one finding for a cluster whose Kubernetes API refused the monitor or could not be reached."""
    finding = collection_error(account, region, cluster, "kubernetes", exc, now)
    fix = (exc.fix if isinstance(exc, KubeError) else "") or finding.remediation
    return finding.model_copy(
        update={
            "message": f"{finding.message} The cluster was not asked again in this scan.",
            "remediation": fix,
            "details": {
                **finding.details,
                "affected_checks": sorted(affected_checks),
                "skipped_collectors": sorted(skipped_collectors),
            },
        }
    )


def deadline_finding(
    account: str,
    region: str,
    cluster: str | None,
    unfinished: Sequence[str],
    seconds: float | None,
    now: datetime,
) -> Finding:
    """One scope's (region or cluster) sources that the scan's deadline cut off."""
    exc = DeadlineExceeded("scan", f"the scan's deadline ({seconds:g} s) passed")
    message = (
        f"the scan's deadline ({seconds:g} s) passed before {', '.join(unfinished)} finished; "
        "what they had not read was not checked"
    )
    error = collection_error(account, region, cluster, "deadline", exc, now, message)
    error.details["unfinished"] = list(unfinished)
    return error


class SourceTimes:
    """Each source's longest finished run and the runs still going: what ``monitor.run_time`` names as
    the slowest sources. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slowest: dict[str, tuple[float, str]] = {}  # source -> (seconds, where)
        self._running: dict[tuple[str, str], float] = {}  # (source, where) -> when it started

    def timed(self, source: str, where: str, run: Callable[[], T]) -> T:
        """``run()``, keeping its wall time (waits for AWS slots included) against ``source``."""
        key = (source, where)
        started = time.monotonic()
        with self._lock:
            self._running[key] = started
        try:
            return run()
        finally:
            seconds = time.monotonic() - started
            with self._lock:
                self._running.pop(key, None)
                if seconds > self._slowest.get(source, (-1.0, ""))[0]:
                    self._slowest[source] = (seconds, where)

    def slowest(self, count: int = SLOWEST_SOURCES) -> list[dict[str, Any]]:
        """The sources whose longest run was longest, those still running included."""
        now = time.monotonic()
        with self._lock:
            longest = {name: (seconds, where, True) for name, (seconds, where) in self._slowest.items()}
            for (name, where), started in self._running.items():
                if now - started > longest.get(name, (-1.0, "", True))[0]:
                    longest[name] = (now - started, where, False)
        top = sorted(longest.items(), key=lambda item: -item[1][0])[:count]
        return [
            {"source": name, "seconds": round(seconds, 2), "where": where, "finished": finished}
            for name, (seconds, where, finished) in top
        ]
