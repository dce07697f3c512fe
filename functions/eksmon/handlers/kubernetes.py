"""Hourly: admission webhooks, unsafe sysctls, kube-proxy at scale, VPC CNI IP caching, aws-auth."""

from eksmon.handlers import monitor_handler

handler = monitor_handler("kubernetes")
