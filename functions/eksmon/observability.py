"""Powertools Logger and Metrics, created once here and imported everywhere else; tracing, opt-in.

Tracing is off unless the settings say ``tracing: true``: the CDK app then turns on active tracing
and sets ``EKSMON_TRACING=true`` on the functions, and only then is Powertools' Tracer (and with it
the AWS X-Ray SDK, about half of a handler's cold import) loaded.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "eksmon"  # the `service` dimension of every metric, and the POWERTOOLS_SERVICE_NAME
NAMESPACE = "EKSMonitor"  # the CloudWatch namespace of every metric; the alarms and dashboard read it
ENV_TRACING = "EKSMON_TRACING"  # "true" on a function deployed with `tracing: true`

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

F = TypeVar("F", bound=Callable[..., Any])

# Every point is written with single_metric (each has its own dimensions), so the shared Metrics object
# has nothing of its own to flush but the cold-start metric: that is expected, not worth a warning per run.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def tracing_enabled(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get(ENV_TRACING, "").lower() == "true"


@functools.cache
def tracer() -> Tracer:
    """Powertools' Tracer, made on first use: importing it loads the X-Ray SDK."""
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - only when tracing is on (cold start)

    return Tracer(service=SERVICE)


def capture_lambda_handler(handler: F) -> F:
    """The handler traced by Powertools when tracing is on; the handler itself otherwise."""
    if not tracing_enabled():
        return handler
    return cast(F, tracer().capture_lambda_handler(handler))
