"""Powertools Logger, Metrics and Tracer: created once here, imported everywhere else."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "eksmon"
NAMESPACE = "EKSMonitor"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)

# Every point is written with single_metric (each has its own dimensions), so the shared Metrics object
# has nothing of its own to flush but the cold-start metric: that is expected, not worth a warning per run.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
