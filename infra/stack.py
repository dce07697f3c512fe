"""The eksmon stack: composition only; every resource is built by a construct in infra/constructs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from constructs import Construct

from eksmon.registry import load
from eksmon.settings import Settings
from infra.constants import ENV_FINDINGS_TABLE, NO_SUBSCRIBER, NO_SUBSCRIBER_WARNING_ID
from infra.constructs import AlertTopic, DependencyLayer, ScheduledCheck
from infra.constructs.alarms import Alarms, Watched
from infra.constructs.dashboard import Dashboard
from infra.constructs.findings_table import FindingsTable
from infra.constructs.function_code import function_code
from infra.constructs.kubernetes_access import build_kubernetes_access, kubernetes_monitors
from infra.constructs.network import kubernetes_network
from infra.constructs.outputs import add_next_step_outputs
from infra.constructs.slack import SlackForwarder, build_slack
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
        code = function_code(self)  # one asset for every function of the stack
        registry = load()
        # Decided before the monitors are built: each ScheduledCheck places its own function.
        readers = kubernetes_monitors(registry, [plan.monitor for plan in monitors])
        network = kubernetes_network(self, settings.kubernetes.vpc) if readers else None
        self.checks = {
            plan.monitor: ScheduledCheck(
                self,
                f"{plan.monitor.capitalize()}Monitor",
                plan=plan,
                settings=settings,
                layer=self.dependency_layer.layer,
                code=code,
                topic=self.alerts.topic,
                key=self.alerts.key,
                network=network if plan.monitor in readers else None,
            )
            for plan in monitors
        }
        self.kubernetes_access = build_kubernetes_access(
            self, settings, {m: c.function for m, c in self.checks.items()}, registry
        )
        self.findings = FindingsTable(self, "Findings", key=self.alerts.key)
        for check in self.checks.values():
            self.findings.grant_state(check.role)
            check.function.add_environment(ENV_FINDINGS_TABLE, self.findings.table.table_name)
        self.slack = build_slack(
            self,
            settings.notifications.slack,
            topic=self.alerts.topic,
            topic_key=self.alerts.key,
            layer=self.dependency_layer.layer,
            code=code,
            tracing=settings.tracing,
            undelivered=self.alerts.delivery_dead_letters,
        )
        self._say_who_is_notified(settings)
        forwarder = self.slack if isinstance(self.slack, SlackForwarder) else None
        self.alarms = Alarms(
            self,
            "Alarms",
            topic=self.alerts.topic,
            key=self.alerts.key,
            monitors=[
                Watched(m, getattr(settings.schedules, m), c.function, c.dead_letter_queue, c.timeout)
                for m, c in self.checks.items()
            ],
            extra_functions={"slack-forwarder": forwarder.function} if forwarder else None,
            extra_queues={"slack-forwarder": forwarder.dead_letter_queue} if forwarder else None,
            undelivered=self.alerts.delivery_dead_letters()
            if self.alerts.has_delivery_dead_letters
            else None,
        )
        self.dashboard = Dashboard(
            self,
            "Dashboard",
            settings=settings,
            monitors=list(self.checks),
            health_alarms=self.alarms.alarms,
            functions={m: c.function for m, c in self.checks.items()},
        )
        add_next_step_outputs(
            self,
            dashboard=self.dashboard.dashboard,
            table=self.findings.table,
            kubernetes_roles={m: self.checks[m].role for m in readers},
        )

    def _say_who_is_notified(self, settings: Settings) -> None:
        """A stack output naming the subscribers; with none, also a synth warning (findings and alarms
        would go to a topic nobody reads)."""
        emails = settings.notifications.emails
        if self.slack is None and not emails:
            text = NO_SUBSCRIBER
            Annotations.of(self).add_warning_v2(NO_SUBSCRIBER_WARNING_ID, text)
        else:
            parts = [f"{len(emails)} e-mail address(es) (each must confirm AWS's e-mail)"] if emails else []
            if isinstance(self.slack, SlackForwarder):
                parts.append("Slack (incoming webhook forwarder)")
            elif self.slack is not None:
                parts.append("Slack (AWS Chatbot)")
            text = "Alerts go to " + " and ".join(parts) + "; check the path with `eksmon notify-test`."
        CfnOutput(self, "Notifications", value=text, description="who receives eksmon's findings and alarms")
