"""webhook.fail_closed_timeout: a fail-closed webhook that may hold every request for 30 seconds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby

from pydantic import Field

from eksmon.checks._kubernetes import CONTROL_PLANE_DOCS, listed
from eksmon.models import Problem, Severity
from eksmon.parts.webhooks import AdmissionWebhooks
from eksmon.registry import Thresholds, check
from eksmon.snapshot import ClusterSnapshot


class FailClosedTimeoutThresholds(Thresholds):
    timeout_seconds: int = Field(
        30, ge=1, le=30, description="warn when a Fail webhook's timeoutSeconds is this or more"
    )


@check(
    id="webhook.fail_closed_timeout",
    title="Fail-closed admission webhook with a long timeout",
    monitor="kubernetes",
    needs=(AdmissionWebhooks,),
    docs=CONTROL_PLANE_DOCS,
    severity_rules="warning when failurePolicy is Fail and timeoutSeconds >= 30 (unset counts as 10)",
    thresholds=FailClosedTimeoutThresholds,
    sources=("Kubernetes: validatingwebhookconfigurations", "Kubernetes: mutatingwebhookconfigurations"),
)
def fail_closed_timeout(
    snap: ClusterSnapshot, t: FailClosedTimeoutThresholds, _now: datetime
) -> Iterator[Problem]:
    hooks = [
        h
        for h in snap.get(AdmissionWebhooks).items
        if h.failure_policy == "Fail" and h.timeout_seconds >= t.timeout_seconds and h.rules
    ]
    for resource, group in groupby(
        sorted(hooks, key=lambda h: (h.resource, h.name)), key=lambda h: h.resource
    ):
        found = list(group)
        kind, _, configuration = resource.partition("/")
        longest = max(h.timeout_seconds for h in found)
        yield Problem(
            severity=Severity.WARNING,
            resource=resource,
            title=f"{kind} {configuration} fails closed after waiting {longest} s",
            message=f"{kind} {configuration}: webhook {listed(h.name for h in found)} has failurePolicy Fail and "
            f"timeoutSeconds {longest}. When the webhook slows down, every matching request waits {longest} s "
            "and is then rejected; clients retry, requests pile up in the apiserver's queues and the "
            "whole control plane slows down with it.",
            remediation="Lower timeoutSeconds to a few seconds (the v1 default is 10) so a slow webhook fails "
            "fast, and make sure the webhook answers well within it.",
            details={
                "kind": kind,
                "configuration": configuration,
                "timeout_seconds": longest,
                "webhooks": [{"name": h.name, "timeout_seconds": h.timeout_seconds} for h in found],
            },
        )
