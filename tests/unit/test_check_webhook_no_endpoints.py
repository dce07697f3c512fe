"""webhook.no_endpoints as a pure function: ready endpoints, URL and ExternalName webhooks, and the
webhooks that block their own recovery."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eksmon.checks._kubernetes import intercepts_pod_creation
from eksmon.checks.webhook_no_endpoints import no_endpoints
from eksmon.collectors.kubernetes_webhooks import LabelSelector, ServiceRef
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .kubernetes_builders import backend, backends, hook, not_in, rule, snapshot, webhooks

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
NONE = NoThresholds()
NAME = "kubernetes.io/metadata.name"


def endpoints_check(*hooks, items=()) -> list:
    return list(no_endpoints(snapshot(webhooks(*hooks), backends(*items)), NONE, NOW))


class TestNoEndpoints:
    def test_a_ready_endpoint_is_healthy(self) -> None:
        assert endpoints_check(hook(), items=[backend(ready=1)]) == []

    @pytest.mark.parametrize(
        ("item", "reason"),
        [
            (backend(ready=0, endpoints=0), "has no endpoint at all"),
            (backend(ready=0, endpoints=3), "none of the 3 endpoints"),
            (backend(exists=False), "does not exist"),
            (backend(port_found=False), "has no port 443"),
        ],
    )
    def test_fail_webhook_without_ready_endpoint_is_critical(self, item, reason) -> None:
        [p] = endpoints_check(hook(), items=[item])
        assert p.severity is Severity.CRITICAL
        assert p.resource == "ValidatingWebhookConfiguration/policy"
        assert reason in p.message and "rejecting every request" in p.message

    def test_ignore_webhooks_are_not_reported(self) -> None:
        assert endpoints_check(hook(failure_policy="Ignore"), items=[backend(ready=0)]) == []

    def test_a_url_webhook_is_unverifiable_not_broken(self) -> None:
        [p] = endpoints_check(hook(url="https://policy.example.com/validate"))
        assert p.severity is Severity.INFO
        assert "cannot be verified" in p.title and "https://policy.example.com/validate" in p.message
        assert p.details["webhooks"][0]["broken"] is False

    def test_an_external_name_service_is_unverifiable(self) -> None:
        [p] = endpoints_check(hook(), items=[backend(service_type="ExternalName", ready=0)])
        assert p.severity is Severity.INFO and "ExternalName" in p.message

    def test_a_webhook_that_intercepts_its_own_pods_blocks_its_recovery(self) -> None:
        pods = rule(("",), ("v1",), ("pods",), ("CREATE",), "Namespaced")
        [p] = endpoints_check(hook(rules=(pods,)), items=[backend(ready=0)])
        assert p.details["blocks_own_recovery"] is True
        assert "cannot come back by itself" in p.message
        assert "kubectl delete validatingwebhookconfiguration policy" in p.remediation

    def test_a_namespace_selector_excluding_its_own_namespace_leaves_a_way_out(self) -> None:
        # Decision: still critical (requests elsewhere are rejected now), but recovery is possible.
        spared = hook(namespace_selector=not_in(NAME, "kube-system", "policy-system"))
        [p] = endpoints_check(spared, items=[backend(ready=0)])
        assert p.severity is Severity.CRITICAL
        assert p.details["blocks_own_recovery"] is False
        assert "recovers as soon as" in p.message

    def test_rules_that_do_not_cover_pods_leave_a_way_out(self) -> None:
        deployments = hook(rules=(rule(("apps",), ("v1",), ("deployments",), ("CREATE",)),))
        [p] = endpoints_check(deployments, items=[backend(ready=0)])
        assert p.details["blocks_own_recovery"] is False

    def test_intercepting_pod_creation_uses_the_namespace_labels_read_from_the_cluster(self) -> None:
        sel = LabelSelector(match_labels=(("injection", "enabled"),))
        target = hook(namespace_selector=sel)
        assert intercepts_pod_creation(target, {NAME: "x", "injection": "enabled"})
        assert not intercepts_pod_creation(target, {NAME: "x"})

    def test_one_finding_per_configuration_with_every_webhook_described(self) -> None:
        other = ServiceRef("policy-system", "other", 8443)
        found = endpoints_check(
            hook("a.example.com"),
            hook("b.example.com", service=other),
            hook("c.example.com", url="https://x.example.com"),
            items=[backend(ready=0), backend(other, ready=2)],
        )
        [p] = found
        assert p.severity is Severity.CRITICAL
        described = {w["name"]: w for w in p.details["webhooks"]}
        assert described["a.example.com"]["broken"] is True
        assert "b.example.com" not in described  # healthy
        assert described["c.example.com"]["broken"] is False

    def test_fail_webhooks_without_rules_match_nothing(self) -> None:
        assert endpoints_check(hook(rules=()), items=[backend(ready=0)]) == []
