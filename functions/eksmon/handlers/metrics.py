"""On the ``schedules.metrics`` schedule (hourly by default): etcd size and growth, apiserver errors,
throttling and latency, admission webhooks, deprecated APIs in use -- from CloudWatch (AWS/EKS,
ContainerInsights) and the apiservers' /metrics. Each run reads all the time since the previous one
(the schedule's period, ``schedules.window_minutes``)."""

from eksmon.handlers import monitor_handler

handler = monitor_handler("metrics")
