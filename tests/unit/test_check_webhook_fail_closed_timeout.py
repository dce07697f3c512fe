"""webhook.fail_closed_timeout as a pure function: policies, timeouts and the v1 default."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from eksmon.checks.webhook_fail_closed_timeout import FailClosedTimeoutThresholds, fail_closed_timeout
from eksmon.collectors.kubernetes_webhooks import parse_webhook
from eksmon.models import Severity

from .kubernetes_builders import hook, snapshot, webhooks

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
TIMEOUT = FailClosedTimeoutThresholds()


class TestFailClosedTimeout:
    @pytest.mark.parametrize(
        ("policy", "timeout", "reported"),
        [("Fail", 30, True), ("Fail", 29, False), ("Fail", 10, False), ("Ignore", 30, False)],
    )
    def test_fail_with_30_seconds(self, policy, timeout, reported) -> None:
        found = list(
            fail_closed_timeout(
                snapshot(webhooks(hook(failure_policy=policy, timeout_seconds=timeout))), TIMEOUT, NOW
            )
        )
        assert [p.severity for p in found] == ([Severity.WARNING] if reported else [])
        if reported:
            assert found[0].details["timeout_seconds"] == 30 and "30 s" in found[0].message

    def test_unset_timeout_counts_as_the_v1_default_of_10(self) -> None:
        parsed = parse_webhook(
            "ValidatingWebhookConfiguration",
            "p",
            {"name": "h", "clientConfig": {"url": "https://x"}, "rules": [{"apiGroups": ["*"]}]},
            0,
        )
        assert parsed.timeout_seconds == 10
        assert list(fail_closed_timeout(snapshot(webhooks(parsed)), TIMEOUT, NOW)) == []

    def test_threshold_is_configurable_and_validated(self) -> None:
        tighter = FailClosedTimeoutThresholds(timeout_seconds=15)
        assert len(list(fail_closed_timeout(snapshot(webhooks(hook(timeout_seconds=15))), tighter, NOW))) == 1
        for bad in (0, 31):
            with pytest.raises(ValidationError):
                FailClosedTimeoutThresholds(timeout_seconds=bad)

    def test_a_webhook_without_rules_intercepts_nothing(self) -> None:
        assert (
            list(fail_closed_timeout(snapshot(webhooks(hook(timeout_seconds=30, rules=()))), TIMEOUT, NOW))
            == []
        )
