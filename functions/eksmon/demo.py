"""``eksmon demo``: the deployed code path, end to end, against the simulated fleet on loopback.

It starts the simulator, creates the alert topic with a queue subscribed to it (standing in for
the e-mail inbox), invokes each scheduled Lambda handler in-process exactly as Lambda would,
reads back what they published, and prints the fleet report. No AWS account, no network.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from eksmon.registry import MONITORS, load

REPORT_FILE = "eksmon-report.html"


@dataclass
class LambdaContextStandIn:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:eksmon"
    aws_request_id: str = "demo-request"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def available_monitors() -> list[str]:
    """Monitors with checks and a handler module (each landed monitor adds itself)."""
    registry = load()
    return [
        m
        for m in MONITORS
        if registry.select(monitor=m) and importlib.util.find_spec(f"eksmon.handlers.{m}") is not None
    ]


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    keep = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in keep.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_demo(
    fmt: str = "table", out: TextIO | None = None, err: TextIO | None = None, now: datetime | None = None
) -> int:
    import sys

    from eksmon.engine import scan
    from eksmon.publish.output import render
    from eksmon.settings import Settings
    from eksmon.sim.fleet import DEMO_NOW, DEMO_REGIONS
    from eksmon.sim.server import Simulator

    out = out or sys.stdout
    err = err or sys.stderr
    now = now or DEMO_NOW
    started = time.monotonic()
    quiet = fmt == "json"

    def say(text: str = "") -> None:
        if not quiet:
            print(text, file=out)

    with Simulator() as sim:
        sim.seed_demo()
        session = sim.session(DEMO_REGIONS[0])
        topic_arn, queue_url = _inbox(session)
        settings = Settings(regions=list(DEMO_REGIONS))
        env = {
            **sim.environ(DEMO_REGIONS[0]),
            "EKSMON_CONFIG": settings.to_json(),
            "TOPIC_ARN": topic_arn,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_NAMESPACE": "EKSMonitor",
        }
        say(
            f"eksmon demo: simulated account 123456789012, regions {', '.join(DEMO_REGIONS)}, "
            f"as of {now:%Y-%m-%d %H:%M} UTC (simulator at {sim.endpoint_url})"
        )
        say()
        with _environ(env):
            from eksmon.observability import logger

            logger.setLevel("WARNING")
            for monitor in available_monitors():
                summary, emf = _invoke(monitor, now)
                say(
                    f"Lambda eksmon-{monitor}: {summary['findings']} findings in {summary['clusters']} clusters, "
                    f"{summary['messages_published']} SNS messages, {emf} EMF metric records, "
                    f"{summary['api_calls']} AWS API calls, {summary['duration_seconds']:.1f} s"
                )
            messages = _read_inbox(session, queue_url)
            say()
            say(f"Published to {topic_arn} ({len(messages)} messages; what an e-mail subscriber receives):")
            for m in messages:
                say("-" * 100)
                say(f"Subject: {m['Subject']}")
                attrs = {k: v["Value"] for k, v in sorted(m.get("MessageAttributes", {}).items())}
                say(f"Attributes: {json.dumps(attrs)}")
                say()
                say(m["Message"])
            say("-" * 100)
            say()
            result = scan(settings, now, session_factory=sim.session_factory(DEMO_REGIONS[0]))
        report = render(result, fmt, now)
        if fmt == "html":
            with open(REPORT_FILE, "w", encoding="utf-8") as fh:
                fh.write(report)
            say(f"Fleet report written to {REPORT_FILE}")
        else:
            say("Fleet report (`eksmon scan` output):")
            say()
            print(report, file=out)
    say()
    say(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0


def _invoke(monitor: str, now: datetime) -> tuple[dict[str, Any], int]:
    module = importlib.import_module(f"eksmon.handlers.{monitor}")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        summary = module.handler({"now": now.isoformat()}, LambdaContextStandIn(f"eksmon-{monitor}"))
    emf = sum(1 for line in buffer.getvalue().splitlines() if '"_aws"' in line)
    return summary, emf


def _inbox(session: Any) -> tuple[str, str]:
    """The alert topic, with a queue subscribed to it as the stand-in for an e-mail inbox."""
    sns = session.client("sns")
    sqs = session.client("sqs")
    topic_arn = sns.create_topic(Name="eksmon-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="eksmon-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def _read_inbox(session: Any, queue_url: str) -> list[dict[str, Any]]:
    sqs = session.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not batch:
            return found
        for m in batch:
            found.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
