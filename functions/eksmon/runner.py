"""What every scheduled Lambda does, below its thin handler: scan one monitor's checks, notify, measure.

The CLI's demo calls the handlers themselves; everything here is shared by all three ways to run.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.exceptions
from pydantic import BaseModel, ConfigDict, Field

from eksmon.accounts import ORGANIZATION_SOURCE, organization_accounts
from eksmon.aws import ApiCallCounter, Deadline, client_config
from eksmon.cluster_count import count_clusters
from eksmon.context import Services
from eksmon.counters import CounterStore
from eksmon.engine import filter_finding, scan
from eksmon.environment import ENV_CONFIG, ENV_FINDINGS_TABLE, ENV_TOPIC_ARN, LambdaEnvironment
from eksmon.errors import ConfigError, ScanAborted
from eksmon.links import ANCHOR_ALERTS, readme_url
from eksmon.models import Finding, Severity, iso_utc
from eksmon.observability import logger
from eksmon.partition import (
    ASSUMED_CLUSTERS,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_SECONDS,
    Partition,
    clusters_per_invocation,
    oversized,
    partition,
    peak_mib,
)
from eksmon.parts.scan import ScanResult
from eksmon.publish.changes import Change, ChangeKind, changes_without_state
from eksmon.publish.metrics import emit, monitor_points
from eksmon.publish.notify import Message, build_messages, publish
from eksmon.registry import Monitor
from eksmon.settings import Settings, settings_from_json
from eksmon.state import FindingsState


class MonitorEnvironment(LambdaEnvironment):
    """The Lambda's environment, validated once per invocation."""

    config_json: str = Field("", alias=ENV_CONFIG, description="the settings, as the CDK app wrote them")
    topic_arn: str | None = Field(
        None, alias=ENV_TOPIC_ARN, pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$"
    )
    findings_table: str | None = Field(
        None,
        alias=ENV_FINDINGS_TABLE,
        pattern=r"^[A-Za-z0-9_.-]{3,255}$",
        description="DynamoDB findings state; without it every run reports every open finding",
    )
    # set by Lambda in every function's environment; sizes the fan-out's partitions (eksmon.partition)
    memory_mb: int | None = Field(None, alias="AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ge=128)

    def settings(self) -> Settings:
        return settings_from_json(self.config_json)


class ScheduledEvent(BaseModel):
    """What the schedule sends; ``now`` replays a run as of an instant (tests, the demo);
    ``notify_test`` sends one sample finding through the notification path instead of scanning;
    ``partition`` (from the fan-out state machine) narrows the run to those accounts and regions;
    ``plan`` asks for the partitions instead of scanning (:func:`plan_partitions`)."""

    model_config = ConfigDict(extra="ignore")

    now: datetime | None = None
    notify_test: bool = False
    partition: Partition | None = None
    plan: bool = False


class FanoutPlan(BaseModel):
    """The fan-out state machine's first step: the partitions its Map state runs, one invocation each
    (the state machine reads only ``partitions``; the rest is for the execution history and the log).

    ``clusters``: counted in the fleet (with the assumed counts of ``unread``);
    ``max_clusters_per_invocation``: the limit each partition was packed under; ``unread``: the
    account+region pairs whose clusters could not be counted, each counted as
    ``eksmon.partition.ASSUMED_CLUSTERS``; ``oversized``: partitions of one account+region holding more
    clusters than the limit (a pair is never split), with their estimated peak memory."""

    partitions: list[Partition]
    targets: int
    clusters: int = 0
    max_clusters_per_invocation: int | None = None
    unread: list[str] = Field(default_factory=list)
    oversized: list[str] = Field(default_factory=list)


def narrow(settings: Settings, part: Partition) -> Settings:
    """The settings of one partition: exactly its accounts (none: this one) and regions, no discovery.

    The findings state stays correct across partitions: a run plans and resolves findings only in the
    account+region pairs it scanned (eksmon.state), and partitions never share a pair.
    """
    accounts = settings.accounts.model_copy(update={"ids": list(part.accounts), "organization": False})
    return settings.model_copy(update={"accounts": accounts, "regions": list(part.regions)})


# Step Functions keeps an execution's state (here: the plan's partitions, then one result per partition)
# within 256 KiB; the plan may take three quarters, leaving the rest to the Map's results.
PLAN_MAX_BYTES = 192 * 1024


def plan_partitions(
    env: MonitorEnvironment,
    session_factory: Callable[..., boto3.Session] = boto3.Session,
    remaining_seconds: float | None = None,
) -> FanoutPlan:
    """The fleet (configured accounts, or the Organization's, minus excluded; every configured region,
    or the current one) cut into partitions of at most ``fanout.max_targets_per_invocation`` pairs and
    ``fanout.max_clusters_per_invocation`` clusters, counted with one ListClusters per pair.

    ``remaining_seconds``: the invocation's time left; the plan is its first work, so this is the
    function's timeout (less the cold start), which the default cluster limit is derived from."""
    settings = env.settings()
    base = session_factory()
    current = base.region_name or os.environ.get("AWS_REGION")
    regions = list(settings.regions) or ([current] if current else [])
    if not regions:
        raise ConfigError("no AWS region: set regions in the configuration or AWS_REGION")
    accounts = list(settings.accounts.ids)
    if settings.accounts.organization:
        try:
            accounts += organization_accounts(
                base, client_config(settings.aws), ApiCallCounter(), regions[0], settings.aws.max_pages
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            # no plan without the fleet: the run fails loudly (the fan-out's failure alarm), naming why
            raise ScanAborted(
                f"cannot list the Organization's accounts ({ORGANIZATION_SOURCE}): {exc}"
            ) from exc
    excluded = set(settings.accounts.exclude)
    accounts = sorted(a for a in dict.fromkeys(accounts) if a not in excluded)
    timeout = remaining_seconds if remaining_seconds is not None else DEFAULT_TIMEOUT_SECONDS
    limit = settings.fanout.max_clusters_per_invocation or clusters_per_invocation(
        env.memory_mb or DEFAULT_MEMORY_MB, timeout
    )
    # counting is bounded like a scan, and leaves the plan time to answer
    budget = max(1.0, min(settings.aws.scan_timeout_seconds, timeout - settings.aws.publish_margin_seconds))
    census = count_clusters(settings, base, accounts, regions, Deadline(budget), session_factory)
    parts = partition(
        accounts,
        regions,
        settings.fanout.max_targets_per_invocation,
        clusters=census.counts,
        max_clusters=limit,
    )
    size = len(json.dumps([p.model_dump(mode="json") for p in parts], separators=(",", ":")))
    if size > PLAN_MAX_BYTES:  # Step Functions would refuse it (States.DataLimitExceeded), less clearly
        raise ScanAborted(
            f"the fan-out plan's {len(parts)} partitions take {size:,} bytes, more than the "
            f"{PLAN_MAX_BYTES:,} a Step Functions execution's state leaves them: raise "
            "fanout.max_targets_per_invocation (fewer, larger partitions) or split the accounts or regions "
            "between deployments"
        )
    plan = FanoutPlan(
        partitions=parts,
        targets=sum(p.targets for p in parts),
        clusters=sum(p.clusters or 0 for p in parts),
        max_clusters_per_invocation=limit,
        unread=[u.text() for u in census.unread],
        oversized=[
            f"{p.accounts[0] if p.accounts else 'this account'} {p.regions[0]}: {p.clusters} clusters, "
            f"about {peak_mib(p.clusters or 0):.0f} MiB"
            for p in oversized(parts, limit)
        ],
    )
    if plan.unread:
        logger.warning(
            f"fan-out plan: the clusters of {len(plan.unread)} account+region pair(s) could not be counted; "
            f"each is counted as {ASSUMED_CLUSTERS} clusters (EKS's default quota per region), and its "
            "partition's run reports what it cannot read",
            extra={"unread": plan.unread},
        )
    if plan.oversized:
        logger.warning(
            f"fan-out plan: {len(plan.oversized)} account+region pair(s) hold more than the "
            f"{limit} clusters one invocation is sized for (fanout.max_clusters_per_invocation); each is "
            "scanned alone and may run out of memory or time: give the monitor function more memory "
            "(LAMBDA_SIZES in infra/constants.py) or split the clusters between deployments "
            "(clusters.include)",
            extra={"oversized": plan.oversized},
        )
    logger.info(
        f"fan-out plan: {len(parts)} partition(s), {plan.targets} account+region pairs, {plan.clusters} "
        f"clusters, at most {settings.fanout.max_targets_per_invocation} pairs and {limit} clusters each",
        extra={"api_calls": census.api_calls},
    )
    return plan


class RunSummary(BaseModel):
    monitor: str
    findings: int
    by_severity: dict[str, int]
    clusters: int
    collection_errors: int
    messages_published: int
    metrics_emitted: int
    api_calls: int
    duration_seconds: float


class NotificationError(RuntimeError):
    """Some messages could not be published; their changes are retried by the next run."""


def run_monitor(
    monitor: Monitor,
    env: MonitorEnvironment,
    event: Mapping[str, Any] | None = None,
    session_factory: Callable[..., boto3.Session] = boto3.Session,
    services: Services | None = None,
    remaining_seconds: float | None = None,
) -> RunSummary:
    """``remaining_seconds``: the invocation's time left; the scan stops ``aws.publish_margin_seconds``
    before it (and after ``aws.scan_timeout_seconds`` at most), so what was read is still published."""
    settings = env.settings()
    parsed = ScheduledEvent.model_validate(event or {})
    if parsed.partition is not None:
        settings = narrow(settings, parsed.partition)
    now = parsed.now or datetime.now(UTC)
    if parsed.notify_test:
        return _notify_test(monitor, env, now, session_factory)
    if env.findings_table:  # deployed with state: counters count since the previous run
        store = CounterStore(session_factory().client("dynamodb"), env.findings_table, now)
        services = dataclasses.replace(services or Services(), counters=store)
    budget = settings.aws.scan_timeout_seconds
    if remaining_seconds is not None:
        budget = min(budget, max(1.0, remaining_seconds - settings.aws.publish_margin_seconds))
    result = scan(
        settings,
        now,
        monitor=monitor,
        session_factory=session_factory,
        services=services,
        deadline=Deadline(budget),
        window_minutes=settings.schedules.metrics_window(),  # the time since the previous run
    )
    if parsed.partition is None:  # a fan-out partition sees part of the fleet: a miss there proves nothing
        result.findings += _filter_findings(monitor, result, now)
    published, failures = _notify(monitor, env, settings, result, now, session_factory)
    emitted = emit(monitor_points(monitor, result, now))
    if failures:
        raise NotificationError(
            f"{failures} SNS message(s) could not be published; the next run retries them"
        )
    s = result.summary()
    return RunSummary(
        monitor=monitor,
        findings=s["findings"],
        by_severity=s["by_severity"],
        clusters=s["clusters"],
        collection_errors=s["collection_errors"],
        messages_published=published,
        metrics_emitted=emitted,
        api_calls=s["api_calls"],
        duration_seconds=s["duration_seconds"],
    )


def _filter_findings(monitor: Monitor, result: ScanResult, now: datetime) -> list[Finding]:
    """A clusters.include pattern that selects no cluster anywhere the monitor scans: a warning each."""
    if not result.regions:
        return []
    first = result.regions[0]
    return [filter_finding(m, first.account, first.region, monitor, now) for m in result.filter_misses]


def _sns(env: MonitorEnvironment, session_factory: Callable[..., boto3.Session]) -> Any:
    assert env.topic_arn is not None
    return session_factory().client("sns", region_name=env.topic_arn.split(":")[3])


def _notify(
    monitor: Monitor,
    env: MonitorEnvironment,
    settings: Settings,
    result: ScanResult,
    now: datetime,
    session_factory: Callable[..., boto3.Session],
) -> tuple[int, int]:
    """Publish what changed; returns (messages published, messages failed)."""
    if not env.topic_arn:
        return 0, 0  # nowhere to send: the state is left as it is, so nothing is recorded as told
    renotify_days = settings.notifications.renotify_days
    result = notifiable(result, settings)
    if not env.findings_table:
        messages = build_messages(changes_without_state(result.findings))
        outcome = publish(_sns(env, session_factory), env.topic_arn, messages)
        return len(outcome.sent), len(outcome.failed)
    state = FindingsState(
        session_factory().client("dynamodb"),
        env.findings_table,
        monitor,
        now,
        timedelta(days=renotify_days),
    )
    claims = state.claim(state.plan(result))
    if not claims:
        return 0, 0
    by_fingerprint = {c.change.fingerprint: c for c in claims}
    messages = build_messages([c.change for c in claims], result.findings, renotify_days)
    outcome = publish(_sns(env, session_factory), env.topic_arn, messages)
    for message, _id in outcome.sent:
        state.commit(by_fingerprint[fp] for fp in message.fingerprints)
    for message, exc in outcome.failed:
        logger.error(
            "SNS publish failed; the changes are given back for the next run",
            extra={"cluster": message.cluster, "region": message.region, "error": type(exc).__name__},
        )
        state.release(by_fingerprint[fp] for fp in message.fingerprints)
    return len(outcome.sent), len(outcome.failed)


def notifiable(result: ScanResult, settings: Settings) -> ScanResult:
    """The scan as the inboxes see it: findings below ``notifications.min_severity`` left out.

    A finding that drops below the bar is told as resolved, as if it had gone away.
    """
    bar = Severity(settings.notifications.min_severity).rank
    return dataclasses.replace(result, findings=[f for f in result.findings if f.severity.rank >= bar])


TEST_CHECK = "monitor.notify_test"


def sample_finding(account: str, region: str, now: datetime, severity: Severity = Severity.INFO) -> Finding:
    """The one finding `eksmon notify-test` sends: obviously a test, with every field filled in."""
    resource = "notify-test"
    return Finding.observed(
        check=TEST_CHECK,
        severity=severity,
        title="eksmon test notification: alerts from this deployment reach you",
        message=f"This is a test sent at {iso_utc(now)} through the same SNS topic, message format and "
        "attributes as real findings. Nothing is wrong with any cluster.",
        remediation="Nothing to do. If Slack or e-mail did not receive this, check the topic's subscriptions "
        "(e-mail subscriptions must be confirmed) and their filter policies.",
        docs=readme_url(ANCHOR_ALERTS),
        account=account,
        region=region,
        cluster=None,
        resource=resource,
        details={"sent_at": iso_utc(now)},
        now=now,
    )


def send_test_notification(
    sns: Any, topic_arn: str, now: datetime, severity: Severity = Severity.INFO
) -> tuple[str, Message]:
    """Publish one sample finding to the topic; returns (SNS message id, the message)."""
    _arn, _partition, _service, region, account, _name = topic_arn.split(":", 5)
    (message,) = build_messages([Change(ChangeKind.TEST, sample_finding(account, region, now, severity))])
    outcome = publish(sns, topic_arn, [message])
    if outcome.failed:
        cause = outcome.failed[0][1]
        raise NotificationError(f"test notification not published: {type(cause).__name__}") from cause
    return outcome.sent[0][1], message


def _notify_test(
    monitor: Monitor, env: MonitorEnvironment, now: datetime, session_factory: Callable[..., boto3.Session]
) -> RunSummary:
    if not env.topic_arn:
        raise ConfigError("Lambda environment: TOPIC_ARN is not set; a test notification has nowhere to go")
    severity = Severity.INFO
    message_id, _message = send_test_notification(_sns(env, session_factory), env.topic_arn, now, severity)
    logger.info("test notification published", extra={"message_id": message_id})
    return RunSummary(
        monitor=monitor,
        findings=1,
        by_severity={s.value: int(s is severity) for s in Severity},
        clusters=0,
        collection_errors=0,
        messages_published=1,
        metrics_emitted=0,
        api_calls=1,
        duration_seconds=0.0,
    )
