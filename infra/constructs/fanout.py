"""Growth past one Lambda: a Step Functions state machine that scans a monitor's fleet in partitions.

When the fleet (accounts x regions) can be larger than one invocation scans in its timeout -- the
configured ``accounts.ids`` x ``regions`` exceed ``fanout.max_targets_per_invocation``, or
``accounts.organization`` is on and the accounts are only known at run time -- the monitor's schedule
starts this state machine instead of invoking the function:

1. **Plan** invokes the monitor function with ``{"plan": true}``; it answers the partitions
   (eksmon.partition: stable, balanced, each at most ``max_targets_per_invocation`` pairs).
2. **Partitions**, a Map state (at most ``fanout.max_concurrency`` at once), invokes the function
   once per partition with the schedule's fields and ``{"partition": {"accounts": [...], "regions": [...]}}``.
   A partition whose invocation fails is caught and recorded, so the others still run; the failure
   shows in the function's Errors alarm and in the execution's history.

Notifications and the findings state are per cluster and per account+region, and a run resolves
findings only where it scanned, so partitions never interfere. Logging (ALL, without execution data)
and X-Ray tracing are on; an execution that fails, times out or is aborted (the plan could not be made,
say) raises an alarm to the findings topic.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from eksmon.partition import fleet_size
from eksmon.settings import Settings
from infra.constants import FANOUT_TIMEOUT, LOG_RETENTION
from infra.nag import acknowledge

# The fields of the schedule's input that every invocation carries on (see ScheduledCheck._build_schedule):
# "id" is the correlation id Powertools logs. Plain names only, which every JSONPath dialect reads alike.
FORWARDED = ("source", "monitor", "id", "time")


def needs_fanout(settings: Settings) -> bool:
    """Whether a monitor's schedule goes through the state machine rather than straight to the function."""
    accounts = settings.accounts
    members = [a for a in accounts.ids if a not in set(accounts.exclude)]
    too_many = fleet_size(members, settings.regions) > settings.fanout.max_targets_per_invocation
    return accounts.organization or too_many


class FanOut(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        monitor: str,
        function: lambda_.IFunction,
        max_concurrency: int,
        topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.monitor = monitor
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment=f"eksmon {monitor} monitor: plan the partitions, then scan each with the monitor function",
            definition_body=sfn.DefinitionBody.from_chainable(self._definition(function, max_concurrency)),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=FANOUT_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )
        self._acknowledge(function)
        self.alarm = self._build_alarm(topic)

    def _definition(self, function: lambda_.IFunction, max_concurrency: int) -> sfn.IChainable:
        forwarded = {f"{name}.$": f"$.{name}" for name in FORWARDED}
        plan = tasks.LambdaInvoke(
            self,
            "Plan",
            lambda_function=function,
            payload=sfn.TaskInput.from_object({"plan": True, **forwarded}),
            result_selector={"partitions.$": "$.Payload.partitions"},
            result_path="$.plan",
        )
        scan = tasks.LambdaInvoke(
            self,
            "ScanPartition",
            lambda_function=function,
            payload_response_only=True,  # no Parameters: the item (partition + schedule fields) is the event
        )
        scan.add_catch(sfn.Pass(self, "PartitionFailed"), result_path="$.error")
        partitions = sfn.Map(
            self,
            "Partitions",
            items_path="$.plan.partitions",
            max_concurrency=max_concurrency,
            item_selector={"partition.$": "$$.Map.Item.Value", **forwarded},
            result_path=sfn.JsonPath.DISCARD,
        )
        partitions.item_processor(scan)
        return plan.next(partitions)

    def _build_alarm(self, topic: sns.ITopic | None) -> cloudwatch.Alarm:
        period = Duration.minutes(5)
        machine = self.state_machine
        unfinished = cloudwatch.MathExpression(
            expression="failed + timedout + aborted",
            using_metrics={
                "failed": machine.metric_failed(period=period, statistic="Sum"),
                "timedout": machine.metric_timed_out(period=period, statistic="Sum"),
                "aborted": machine.metric_aborted(period=period, statistic="Sum"),
            },
            period=period,
            label="executions not succeeded",
        )
        alarm = unfinished.create_alarm(
            self,
            "ExecutionsFailed",
            alarm_description=f"eksmon {self.monitor}: a fan-out execution failed, timed out or was aborted; "
            "see the state machine's execution history",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if topic is not None:
            alarm.add_alarm_action(actions.SnsAction(topic))
            alarm.add_ok_action(actions.SnsAction(topic))
        return alarm

    def _acknowledge(self, function: lambda_.IFunction) -> None:
        stack = Stack.of(self)
        policy = self.state_machine.role.node.find_child("DefaultPolicy")
        function_id = stack.get_logical_id(function.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
            "The LambdaInvoke tasks grant lambda:InvokeFunction on the function's versions and aliases "
            "('<function ARN>:*') besides the function itself; it is this monitor's function only.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* and the CloudWatch Logs delivery "
            "actions Step Functions logging needs have no resource-level permissions; CDK grants them on '*'.",
        )
