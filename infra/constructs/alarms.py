"""Alarms to the alert topic, two or three per scheduled monitor:

* critical: at least one critical finding is open (``OpenFindings``, ``Severity=critical``, Maximum >= 1);
* heartbeat: no run reported for two schedule periods (the same series: every run writes it, 0 or more;
  SampleCount < 1, missing data breaching): the schedule stopped, or runs no longer get through;
* dead letters, for a monitor whose heartbeat takes longer than ``HEARTBEAT_FAST_ENOUGH`` (2 hours) to
  notice: a run was lost, within five minutes (its schedule could not deliver it, or it failed, timed out or
  was throttled past its retries: Lambda sends it, with the error, to the same queue). With the default
  schedules that is the daily lifecycle and 6-hourly quotas monitors; the hourly ones' heartbeat says it
  within two hours.

The set is small on purpose (each standard alarm is $0.10 a month at list price, a composite $0.50; the
first ten are free): per-function Errors would repeat the dead letters for a run that failed for good and
page for one a retry fixed; throttled invocations that exhaust Lambda's retries end in the queue too;
collection errors are findings of their own (``monitor.collection_error``) and reach the topic as such.
Each critical alarm notifies by itself (no composite: at most one message per monitor). The Slack
forwarder, which has no heartbeat, keeps an Errors alarm besides its dead letters. With any subscription,
one more alarm watches the subscriptions' dead-letter queue (infra/constructs/alert_topic.py): a message
SNS could not deliver to an e-mail address or the forwarder.

A run drawing near its timeout, and AWS throttling that slows it there, reach the user without an alarm:
the engine measures each run against its own time budget (the invocation's time left minus
``aws.publish_margin_seconds``) and raises a ``monitor.run_time`` warning when reading took more than
``aws.run_time_warning_percent`` (80 %) of it, or the deadline cut it, with the throttled answers its
retries absorbed and the slowest sources in its details. It goes through the findings state like any
finding: told once, then once resolved, at no cost. A cut run also leaves ``monitor.collection_error``
findings (resource ``source/deadline``) for what it did not read; the dashboard keeps its line at 80 % of
the timeout (AWS/Lambda Duration). Alarms on Lambda's Throttles and on Duration above 80 % of the timeout
would be eight more alarm metrics for the four monitors, +$0.80 a month: the 10-cluster bill (``make cost``,
the README's table) would go from $7.87 to $8.67, over the $8 a month the deployment must stay under.
"""

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
    HEARTBEAT_FAST_ENOUGH,
    HEARTBEAT_MISSED_RUNS,
    METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
)

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86_400}
FIVE_MINUTES = Duration.minutes(5)
HEARTBEAT_METRIC = "OpenFindings"  # every run writes it (Severity=critical, 0 or more): it is the heartbeat


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
        undelivered: sqs.IQueue | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._allow_cloudwatch(topic, key)
        self.action = actions.SnsAction(topic)
        self.heartbeats: dict[str, cloudwatch.Alarm] = {}
        self.critical: dict[str, cloudwatch.Alarm] = {}
        self.alarms: list[cloudwatch.IAlarm] = []
        for w in monitors:
            period = schedule_period(w.schedule)
            self.critical[w.monitor] = self._critical(w.monitor, period)
            self.heartbeats[w.monitor] = self._heartbeat(w.monitor, period)
            if period.to_seconds() * HEARTBEAT_MISSED_RUNS > HEARTBEAT_FAST_ENOUGH.to_seconds():
                self._dead_letters(w.monitor, w.dead_letter_queue)
        for name, function in (extra_functions or {}).items():
            self._function_errors(name, function)
        for name, queue in (extra_queues or {}).items():
            self._dead_letters(name, queue)
        if undelivered is not None:
            self._undelivered(undelivered)

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
        return self._wire(
            cloudwatch.Alarm(
                self,
                f"Critical{monitor.capitalize()}",
                alarm_description=f"eksmon {monitor}: at least one critical finding is open (see the e-mail or "
                "Slack message for which, or the dashboard)",
                metric=monitor_metric("OpenFindings", monitor, "Maximum", period, Severity="critical"),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
            )
        )

    def _heartbeat(self, monitor: str, period: Duration) -> cloudwatch.Alarm:
        return self._wire(
            cloudwatch.Alarm(
                self,
                f"Heartbeat{monitor.capitalize()}",
                alarm_description=f"eksmon {monitor}: no run reported for {HEARTBEAT_MISSED_RUNS} schedule "
                "periods (the schedule, the function or its metrics stopped, or every run failed)",
                metric=monitor_metric(HEARTBEAT_METRIC, monitor, "SampleCount", period, Severity="critical"),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=HEARTBEAT_MISSED_RUNS,
                datapoints_to_alarm=HEARTBEAT_MISSED_RUNS,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
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

    def _dead_letters(self, name: str, queue: sqs.IQueue) -> cloudwatch.Alarm:
        return self._happened(
            f"DeadLetters{name.capitalize()}",
            f"eksmon {name}: runs were lost (not delivered, or failed after retries) and wait in the "
            "dead-letter queue",
            queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
        )

    def _undelivered(self, queue: sqs.IQueue) -> cloudwatch.Alarm:
        """A notification SNS gave up delivering to a subscriber (e-mail, the Slack forwarder)."""
        return self._happened(
            "UndeliveredNotifications",
            "eksmon: notifications could not be delivered to a subscriber (an e-mail address or the Slack "
            "forwarder) after SNS's retries; they wait in the subscriptions' dead-letter queue for 14 days. "
            "This alarm reaches the subscribers that still work.",
            queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
        )
