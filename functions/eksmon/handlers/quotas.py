"""Every 6 hours: AWS service quotas an EKS fleet runs into, usage against the applied limit."""

from eksmon.handlers import monitor_handler

handler = monitor_handler("quotas")
