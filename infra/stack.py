"""The eksmon stack: composition only; every resource is built by a construct in infra/constructs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from eksmon.settings import Settings
from infra.constructs import AlertTopic, DependencyLayer, ScheduledCheck
from infra.monitors import MonitorPlan


class EksmonStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        monitors: Sequence[MonitorPlan],
        layer_dir: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.alerts = AlertTopic(self, "Alerts", emails=settings.notifications.emails)
        self.dependency_layer = DependencyLayer(self, "Dependencies", directory=layer_dir)
        self.checks = {
            plan.monitor: ScheduledCheck(
                self,
                f"{plan.monitor.capitalize()}Monitor",
                plan=plan,
                settings=settings,
                layer=self.dependency_layer.layer,
                topic=self.alerts.topic,
                key=self.alerts.key,
            )
            for plan in monitors
        }
