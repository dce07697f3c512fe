"""Lambda entry points, one module per monitor: ``eksmon.handlers.<monitor>.handler``.

Each is the same stack of Powertools decorators around one call to :func:`eksmon.runner.run_monitor`;
:func:`monitor_handler` builds it so that the four handlers cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

# aliased: the submodule eksmon.handlers.metrics would otherwise replace the name `metrics` here
from eksmon.observability import capture_lambda_handler, logger
from eksmon.observability import metrics as emf_metrics
from eksmon.registry import Monitor, load
from eksmon.runner import MonitorEnvironment, ScheduledEvent, plan_partitions, run_monitor

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def monitor_handler(monitor: Monitor) -> Handler:
    # Every check and collector is imported here, in Lambda's init phase, which has its own time limit:
    # not in the first invocation, whose scan budget is the invocation's time left.
    load()

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
    # No ColdStart metric: a scheduled run is nearly always a cold start, so it would be one more paid
    # series per function for no signal (Lambda's REPORT log line has the init duration).
    @emf_metrics.log_metrics
    @capture_lambda_handler
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if ScheduledEvent.model_validate(event).plan:  # the fan-out state machine's first step
            return plan_partitions(
                MonitorEnvironment.from_environ(),
                remaining_seconds=context.get_remaining_time_in_millis() / 1000,
            ).model_dump(mode="json")
        summary = run_monitor(
            monitor,
            MonitorEnvironment.from_environ(),
            event,
            remaining_seconds=context.get_remaining_time_in_millis() / 1000,
        )
        logger.info(f"{monitor} run done", extra=summary.model_dump())
        return summary.model_dump()

    handler.__name__ = f"{monitor}_handler"
    return cast(Handler, handler)
