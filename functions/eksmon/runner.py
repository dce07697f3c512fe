"""What every scheduled Lambda does, below its thin handler: scan one monitor's checks, notify, measure.

The CLI's demo calls the handlers themselves; everything here is shared by all three ways to run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eksmon.engine import Services, scan
from eksmon.publish.metrics import emit, monitor_points
from eksmon.publish.notify import build_messages, publish
from eksmon.registry import Monitor
from eksmon.settings import ConfigError, Settings, settings_from_json


class MonitorEnvironment(BaseModel):
    """The Lambda's environment, validated once per invocation."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    config_json: str = Field("", alias="EKSMON_CONFIG", description="the settings, as the CDK app wrote them")
    topic_arn: str | None = Field(
        None, alias="TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$"
    )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> MonitorEnvironment:
        try:
            return cls.model_validate(dict(os.environ if environ is None else environ))
        except ValidationError as exc:
            bad = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"Lambda environment: {bad}") from None

    def settings(self) -> Settings:
        return settings_from_json(self.config_json)


class ScheduledEvent(BaseModel):
    """What the schedule sends; ``now`` replays a run as of an instant (tests, the demo)."""

    model_config = ConfigDict(extra="ignore")

    now: datetime | None = None


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


def run_monitor(
    monitor: Monitor,
    env: MonitorEnvironment,
    event: Mapping[str, Any] | None = None,
    session_factory: Callable[..., boto3.Session] = boto3.Session,
    services: Services | None = None,
) -> RunSummary:
    settings = env.settings()
    now = ScheduledEvent.model_validate(event or {}).now or datetime.now(UTC)
    result = scan(settings, now, monitor=monitor, session_factory=session_factory, services=services)
    messages = build_messages(result.findings)
    published = 0
    if env.topic_arn and messages:
        region = env.topic_arn.split(":")[3]
        sns = session_factory().client("sns", region_name=region)
        published = len(publish(sns, env.topic_arn, messages))
    emitted = emit(monitor_points(monitor, result, now))
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
