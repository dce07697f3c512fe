"""Alarms to the alert topic: any critical finding open, collection errors that persist, a heartbeat
per scheduled Lambda (no run metric for two periods is breaching), Lambda errors, throttles and runs
close to the timeout, dead letters (failed schedule deliveries and failed runs)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import (
    ALARM_PERIOD_MAX_SECONDS,
    DURATION_ALARM_SHARE,
    HEARTBEAT_MISSED_RUNS,
    METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
)

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86_400}
FIVE_MINUTES = Duration.minutes(5)


def schedule_period(expression: str) -> Duration:
    """The alarm period for a schedule: its rate, rounded up to a minute, at most a day.

    A cron() schedule counts as daily (its interval is not fixed): the heartbeat is then slower than it
    could be, never early.
    """
    found = _RATE.match(expression)
    seconds = int(found.group(1)) * _UNIT[found.group(2).rstrip("s")] if found else ALARM_PERIOD_MAX_SECONDS
    seconds = max(60, min(ALARM_PERIOD_MAX_SECONDS, -(-seconds // 60) * 60))
    return Duration.seconds(seconds)


@dataclass(frozen=True)
class Watched:
    """A scheduled monitor as the alarms see it."""

    monitor: str
    schedule: str
    function: lambda_.IFunction
    dead_letter_queue: sqs.IQueue
    timeout: Duration


def monitor_metric(
    name: str, monitor: str, statistic: str, period: Duration, **dims: str
) -> cloudwatch.Metric:
    """An EKSMonitor metric exactly as eksmon.publish.metrics emits it (dimension ``service`` included)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": POWERTOOLS_SERVICE_NAME, "Monitor": monitor, **dims},
        statistic=statistic,
        period=period,
    )


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        key: kms.IKey,
        monitors: Sequence[Watched],
        extra_functions: Mapping[str, lambda_.IFunction] | None = None,
        extra_queues: Mapping[str, sqs.IQueue] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._allow_cloudwatch(topic, key)
        self.action = actions.SnsAction(topic)
        self.heartbeats: dict[str, cloudwatch.Alarm] = {}
        self.alarms: list[cloudwatch.IAlarm] = []
        critical: list[cloudwatch.Alarm] = []
        for w in monitors:
            period = schedule_period(w.schedule)
            critical.append(self._critical(w.monitor, period))
            self.heartbeats[w.monitor] = self._heartbeat(w.monitor, period)
            self._collection_errors(w.monitor, period)
            self._function_errors(w.monitor, w.function)
            self._throttles(w.monitor, w.function)
            self._near_timeout(w.monitor, w.function, w.timeout)
            self._dead_letters(w.monitor, w.dead_letter_queue)
        for name, function in (extra_functions or {}).items():
            self._function_errors(name, function)
        for name, queue in (extra_queues or {}).items():
            self._dead_letters(name, queue)
        if critical:
            self.critical = self._any_critical(critical)

    # -- who may publish -------------------------------------------------------------------------------
    @staticmethod
    def _allow_cloudwatch(topic: sns.ITopic, key: kms.IKey) -> None:
        """CloudWatch publishes alarm state changes to the encrypted topic: the topic and key must allow it."""
        alarms_of_this_account = {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {
                "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
            },
        }
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=alarms_of_this_account,
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsEncrypt",
                principals=[cloudwatch_principal],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],  # in a key policy "*" means this key
                conditions=alarms_of_this_account,
            )
        )

    # -- alarms ----------------------------------------------------------------------------------------
    def _wire(self, alarm: cloudwatch.Alarm, ok_too: bool = True) -> cloudwatch.Alarm:
        alarm.add_alarm_action(self.action)
        if ok_too:
            alarm.add_ok_action(self.action)
        self.alarms.append(alarm)
        return alarm

    def _critical(self, monitor: str, period: Duration) -> cloudwatch.Alarm:
        # Between runs there is no data: keep the state (IGNORE) rather than flap to OK every period.
        return cloudwatch.Alarm(
            self,
            f"Critical{monitor.capitalize()}",
            alarm_description=f"eksmon {monitor}: at least one critical finding is open",
            metric=monitor_metric("OpenFindings", monitor, "Maximum", period, Severity="critical"),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )

    def _any_critical(self, per_monitor: Sequence[cloudwatch.Alarm]) -> cloudwatch.CompositeAlarm:
        """One alarm for "any critical finding open": only it notifies, not the per-monitor ones."""
        composite = cloudwatch.CompositeAlarm(
            self,
            "AnyCritical",
            alarm_description="eksmon: a critical finding is open somewhere in the fleet (see the e-mail or "
            "Slack message for which, or the dashboard)",
            alarm_rule=cloudwatch.AlarmRule.any_of(*per_monitor),
        )
        composite.add_alarm_action(self.action)
        composite.add_ok_action(self.action)
        self.alarms.append(composite)
        return composite

    def _heartbeat(self, monitor: str, period: Duration) -> cloudwatch.Alarm:
        return self._wire(
            cloudwatch.Alarm(
                self,
                f"Heartbeat{monitor.capitalize()}",
                alarm_description=f"eksmon {monitor}: no run reported for {HEARTBEAT_MISSED_RUNS} schedule "
                "periods (the schedule, the function or its metrics stopped)",
                metric=monitor_metric("RunDurationSeconds", monitor, "SampleCount", period),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=HEARTBEAT_MISSED_RUNS,
                datapoints_to_alarm=HEARTBEAT_MISSED_RUNS,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            )
        )

    def _collection_errors(self, monitor: str, period: Duration) -> cloudwatch.Alarm:
        # One failing read is a finding already; two runs in a row mean the monitor is partly blind.
        return self._wire(
            cloudwatch.Alarm(
                self,
                f"CollectionErrors{monitor.capitalize()}",
                alarm_description=f"eksmon {monitor}: sources could not be read on two runs in a row",
                metric=monitor_metric("CollectionErrors", monitor, "Maximum", period),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=2,
                datapoints_to_alarm=2,
                treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
            )
        )

    def _happened(self, construct_id: str, description: str, metric: cloudwatch.IMetric) -> cloudwatch.Alarm:
        """An event that should never happen (metric >= 1 in five minutes): notify once, no OK message."""
        return self._wire(
            cloudwatch.Alarm(
                self,
                construct_id,
                alarm_description=description,
                metric=metric,
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            ok_too=False,
        )

    def _function_errors(self, name: str, function: lambda_.IFunction) -> cloudwatch.Alarm:
        return self._happened(
            f"Errors{name.capitalize()}",
            f"eksmon {name}: the Lambda function failed",
            function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
        )

    def _throttles(self, name: str, function: lambda_.IFunction) -> cloudwatch.Alarm:
        # Lambda holds a throttled asynchronous run and retries it for up to the event's maximum age:
        # the account's concurrency is starving the monitor, and runs arrive late or not at all.
        return self._happened(
            f"Throttles{name.capitalize()}",
            f"eksmon {name}: Lambda throttled the function (account concurrency)",
            function.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
        )

    def _near_timeout(self, name: str, function: lambda_.IFunction, timeout: Duration) -> cloudwatch.Alarm:
        # A run that grows with the fleet is cut at the timeout and reports nothing: say so before it is.
        limit_ms = timeout.to_milliseconds() * DURATION_ALARM_SHARE
        return self._wire(
            cloudwatch.Alarm(
                self,
                f"Duration{name.capitalize()}",
                alarm_description=f"eksmon {name}: a run took more than {DURATION_ALARM_SHARE:.0%} of the "
                f"function's {timeout.to_seconds()} s timeout (raise the timeout or fan out)",
                metric=function.metric_duration(period=FIVE_MINUTES, statistic="Maximum"),
                threshold=limit_ms,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            ok_too=False,
        )

    def _dead_letters(self, name: str, queue: sqs.IQueue) -> cloudwatch.Alarm:
        return self._happened(
            f"DeadLetters{name.capitalize()}",
            f"eksmon {name}: runs were lost (not delivered, or failed after retries) and wait in the "
            "dead-letter queue",
            queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
        )
