"""One construct per file; the stack composes them."""

from infra.constructs.alert_topic import AlertTopic
from infra.constructs.dependency_layer import DependencyLayer
from infra.constructs.scheduled_check import ScheduledCheck

__all__ = ["AlertTopic", "DependencyLayer", "ScheduledCheck"]
