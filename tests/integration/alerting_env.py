"""The deployed alerting path against the simulator: findings table, topic, and a queue as the inbox."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import botocore.loaders

from eksmon.demo import _inbox, _read_inbox
from eksmon.runner import MonitorEnvironment, RunSummary, run_monitor
from eksmon.settings import Settings
from eksmon.sim.fleet import DEMO_ACCOUNT, DemoCluster
from eksmon.sim.server import Simulator
from eksmon.state import create_table, dump

TABLE = "eksmon-findings"
_LOADER = botocore.loaders.create_loader()
_TOLD = re.compile(r"^   Resource: (?P<resource>\S+)   Check: (?P<check>\S+)$", re.MULTILINE)


@dataclass
class Inbox:
    sim: Simulator
    topic_arn: str
    queue_url: str
    regions: tuple[str, ...]

    def env(self, table: bool = True) -> MonitorEnvironment:
        return MonitorEnvironment.model_validate(
            {
                "EKSMON_CONFIG": Settings(regions=list(self.regions)).to_json(),
                "TOPIC_ARN": self.topic_arn,
                **({"FINDINGS_TABLE": TABLE} if table else {}),
            }
        )

    def run(self, now: datetime, monitor: str = "lifecycle", **event: Any) -> RunSummary:
        return run_monitor(
            monitor,  # type: ignore[arg-type]
            self.env(),
            {"now": now.isoformat(), **event},
            session_factory=self.session_factory,
        )

    def session_factory(self, **kwargs: Any) -> Any:
        """The simulator's sessions, sharing one botocore data loader (each run reads no JSON again)."""
        session = self.sim.session_factory(self.regions[0])(**kwargs)
        session._session.register_component("data_loader", _LOADER)
        return session

    def messages(self) -> list[dict[str, Any]]:
        """What arrived since the last call (an SQS subscriber gets the ``default`` body: the e-mail text)."""
        return _read_inbox(self.sim.session(self.regions[0]), self.queue_url)

    def items(self) -> list[dict[str, Any]]:
        return dump(self.sim.session(self.regions[0]).client("dynamodb"), TABLE)


def make_inbox(sim: Simulator, regions: tuple[str, ...] = ("us-east-1",)) -> Inbox:
    session = sim.session(regions[0])
    create_table(session.client("dynamodb"), TABLE)
    topic_arn, queue_url = _inbox(session)
    return Inbox(sim, topic_arn, queue_url, regions)


def changes(message: dict[str, Any]) -> list[str]:
    return list(json.loads(message["MessageAttributes"]["changes"]["Value"]))


def told(message: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(cluster, check, resource) of each finding shown in full in an e-mail body."""
    cluster = message["MessageAttributes"]["cluster"]["Value"]
    return [(cluster, m["check"], m["resource"]) for m in _TOLD.finditer(message["Message"])]


def add_cluster(sim: Simulator, name: str, version: str, region: str = "us-east-1") -> None:
    from eksmon.sim.eks import EksExtension

    sim.extension(EksExtension).add_cluster(
        DemoCluster(name=name, region=region, version=version, authentication_mode="API"), DEMO_ACCOUNT
    )


def set_version(name: str, version: str, region: str = "us-east-1") -> None:
    from moto.eks.models import eks_backends

    eks_backends[DEMO_ACCOUNT][region].clusters[name].version = version
