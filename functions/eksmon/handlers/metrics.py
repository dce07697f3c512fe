"""Every 15 minutes: etcd size and growth, apiserver errors, throttling and latency, admission webhooks,
deprecated APIs in use -- from CloudWatch (AWS/EKS, ContainerInsights) and the apiservers' /metrics."""

from eksmon.handlers import monitor_handler

handler = monitor_handler("metrics")
