"""Powertools Logger, Metrics and Tracer: created once here, imported everywhere else."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "eksmon"
NAMESPACE = "EKSMonitor"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)
