"""Growth past one Lambda: a Step Functions state machine that scans a monitor's fleet in partitions.

When the fleet (accounts x regions) can be larger than one invocation scans in its timeout -- the
configured ``accounts.ids`` x ``regions`` exceed ``fanout.max_targets_per_invocation``, or
``accounts.organization`` is on and the accounts are only known at run time -- the monitor's schedule
starts this state machine instead of invoking the function:

1. **Plan** invokes the monitor function with ``{"plan": true}``; it counts each account+region's
   clusters (eksmon.cluster_count) and answers the partitions (eksmon.partition: stable, each at most
   ``max_targets_per_invocation`` pairs and ``max_clusters_per_invocation`` clusters, which follow the
   function's memory and timeout; a partition's ``clusters`` is its count, informational).
2. **Partitions**, a Map state (at most ``fanout.max_concurrency`` at once), invokes the function
   once per partition with the schedule's fields and
   ``{"partition": {"accounts": [...], "regions": [...], "clusters": n}}``.
   A partition whose invocation fails is caught and recorded in its item's result (the error, a cause
   cut to ``CAUSE_CHARS``, the partition), so the others still run.
3. **AnyPartitionFailed**, a Choice, ends the execution in the Fail state **PartitionsFailed** with the
   first failed partition's error when any failed (the cause says how many of how many, and which
   accounts and regions), else in **Scanned**. So a failed partition fails the execution, and the
   execution alarm below fires, while every other partition's findings are still reported.

Notifications and the findings state are per cluster and per account+region, and a run resolves
findings only where it scanned, so partitions never interfere. Logging (ALL, without execution data)
and X-Ray tracing are on; an execution that fails (a partition failed, or the plan could not be made),
times out or is aborted raises an alarm to the findings topic.

The Map and the tasks are JSONPath states; the states that read the partitions' results are JSONata ones
(QueryLanguage per state), because JSONata counts and filters an array whose every element may be a
failure or none may be, where a JSONPath filter that selects nothing has no documented result.
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
# A failed partition's cause (a Lambda error's message and stack trace) is kept to this many characters: the
# Map's results of every partition share the 256 KiB an execution's state may hold.
CAUSE_CHARS = 2_000
SCANNED = "scanned"  # where the Map puts its per-partition results in the execution's state
# JSONata (Step Functions' $states.input: the state's input) over the Map's results.
_FAILED = f"$states.input.{SCANNED}[failed]"
ANY_FAILED = f"{{% $count({_FAILED}) > 0 %}}"
FIRST_ERROR = f'{{% $exists({_FAILED}[0].error) ? {_FAILED}[0].error : "eksmon.PartitionFailed" %}}'
FAILED_CAUSE = (
    f'{{% ($failed := {_FAILED}; $string($count($failed)) & " of " & '
    f"$string($count($states.input.{SCANNED})) & "
    '" partitions failed (the others finished). First: accounts " & '
    '$join($failed[0].partition.accounts, ", ") & " in " & $join($failed[0].partition.regions, ", ") & '
    '": " & $failed[0].cause) %}'
)
FAILED_ITEM = (
    '{% {"failed": true, "partition": $states.input.partition, "error": $states.input.error.Error, '
    f'"cause": $substring($string($states.input.error.Cause), 0, {CAUSE_CHARS})}} %}}'
)


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
            result_selector={"failed": False},  # the run's summary is in its log; the Map keeps only this
        )
        failed = sfn.Pass(
            self, "PartitionFailed", query_language=sfn.QueryLanguage.JSONATA, outputs=FAILED_ITEM
        )
        scan.add_catch(failed, result_path="$.error")
        partitions = sfn.Map(
            self,
            "Partitions",
            items_path="$.plan.partitions",
            max_concurrency=max_concurrency,
            item_selector={"partition.$": "$$.Map.Item.Value", **forwarded},
            result_path=f"$.{SCANNED}",
        )
        partitions.item_processor(scan)
        verdict = sfn.Choice(self, "AnyPartitionFailed", query_language=sfn.QueryLanguage.JSONATA)
        verdict.when(
            sfn.Condition.jsonata(ANY_FAILED),
            sfn.Fail(
                self,
                "PartitionsFailed",
                query_language=sfn.QueryLanguage.JSONATA,
                error=FIRST_ERROR,
                cause=FAILED_CAUSE,
            ),
        )
        verdict.otherwise(sfn.Succeed(self, "Scanned"))
        return plan.next(partitions).next(verdict)

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
            alarm_description=f"eksmon {self.monitor}: a fan-out execution failed (a partition failed while "
            "the others were scanned and reported, or the plan could not be made), timed out or was aborted; "
            "the execution's error and cause name the partition; see the state machine's execution history",
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
