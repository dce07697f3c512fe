"""The deployed path in-process: the alert topic with a queue as the inbox, and a monitor's Lambda handler."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import pytest

from eksmon.demo import LambdaContextStandIn, _inbox, _read_inbox
from eksmon.settings import Settings
from eksmon.sim.fleet import DEMO_REGIONS
from eksmon.sim.server import Simulator


@dataclass
class Deployed:
    sim: Simulator
    topic_arn: str
    queue_url: str

    def messages(self) -> list[dict[str, Any]]:
        """What the topic delivered since the last call (an SQS subscriber gets the e-mail text)."""
        return _read_inbox(self.sim.session("us-east-1"), self.queue_url)


def deploy(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    """The Lambda environment the stack gives every monitor, pointed at the simulator."""
    topic_arn, queue_url = _inbox(sim.session("us-east-1"))
    for k, v in sim.environ("us-east-1").items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("EKSMON_CONFIG", Settings(regions=list(DEMO_REGIONS)).to_json())
    monkeypatch.setenv("TOPIC_ARN", topic_arn)
    return Deployed(sim, topic_arn, queue_url)


def invoke(monitor: str, event: dict[str, Any]) -> dict[str, Any]:
    """Call the monitor's Lambda entry point as Lambda does."""
    handler = importlib.import_module(f"eksmon.handlers.{monitor}").handler
    result: dict[str, Any] = handler(event, LambdaContextStandIn(f"eksmon-{monitor}"))
    return result
