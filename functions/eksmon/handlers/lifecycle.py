"""Daily: Kubernetes version support, node-group skew, add-ons, upgrade insights, logging, health, auth mode."""

from eksmon.handlers import monitor_handler

handler = monitor_handler("lifecycle")
