"""webhook.catch_all as a pure function: failure policies, selectors, one finding per configuration."""

from __future__ import annotations

from datetime import UTC, datetime

from eksmon.checks.webhook_catch_all import catch_all
from eksmon.collectors.kubernetes_webhooks import LabelSelector, Requirement
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .kubernetes_builders import hook, not_in, rule, snapshot, webhooks

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
NONE = NoThresholds()
NAME = "kubernetes.io/metadata.name"


class TestCatchAll:
    def test_fail_closed_catch_all_is_critical_and_names_the_configuration(self) -> None:
        [p] = catch_all(snapshot(webhooks(hook(configuration="gatekeeper", timeout_seconds=30))), NONE, NOW)
        assert p.severity is Severity.CRITICAL
        assert p.resource == "ValidatingWebhookConfiguration/gatekeeper"
        assert "gatekeeper" in p.title and "check.example.com" in p.message
        assert "in kube-system too" in p.message
        assert p.details["webhooks"][0]["excludes_kube_system"] is False

    def test_ignore_catch_all_is_a_warning_about_latency(self) -> None:
        [p] = catch_all(snapshot(webhooks(hook(failure_policy="Ignore"))), NONE, NOW)
        assert p.severity is Severity.WARNING
        assert "waits for it" in p.message and p.details["failure_policy"] == "Ignore"

    def test_a_namespace_selector_sparing_kube_system_is_still_catch_all_but_says_so(self) -> None:
        spared = hook(namespace_selector=not_in(NAME, "kube-system"))
        [p] = catch_all(snapshot(webhooks(spared)), NONE, NOW)
        assert p.severity is Severity.CRITICAL  # cluster-scoped objects and every other namespace
        assert "spares kube-system" in p.message
        assert p.details["webhooks"][0]["excludes_kube_system"] is True
        assert (
            "kubernetes.io/metadata.name notin (kube-system)"
            in p.details["webhooks"][0]["namespace_selector"]
        )

    def test_a_selector_on_a_custom_label_is_evaluated_against_kube_systems_labels(self) -> None:
        ignore = LabelSelector(match_expressions=(Requirement("control-plane", "DoesNotExist"),))
        labelled = {NAME: "kube-system", "control-plane": "true"}
        [p] = catch_all(snapshot(webhooks(hook(namespace_selector=ignore), system=labelled)), NONE, NOW)
        assert p.details["webhooks"][0]["excludes_kube_system"] is True
        [q] = catch_all(snapshot(webhooks(hook(namespace_selector=ignore))), NONE, NOW)
        assert q.details["webhooks"][0]["excludes_kube_system"] is False

    def test_one_finding_per_configuration_with_the_worst_failure_policy(self) -> None:
        found = list(
            catch_all(
                snapshot(
                    webhooks(
                        hook("a.example.com", failure_policy="Ignore"),
                        hook("b.example.com"),
                        hook("c.example.com", rules=(rule(resources=("pods",)),)),
                        hook("m.example.com", kind="MutatingWebhookConfiguration", failure_policy="Ignore"),
                    )
                ),
                NONE,
                NOW,
            )
        )
        assert [(p.resource, p.severity) for p in found] == [
            ("MutatingWebhookConfiguration/policy", Severity.WARNING),
            ("ValidatingWebhookConfiguration/policy", Severity.CRITICAL),
        ]
        assert [w["name"] for w in found[1].details["webhooks"]] == ["a.example.com", "b.example.com"]

    def test_narrow_webhooks_and_no_webhooks_are_not_reported(self) -> None:
        narrow = hook(
            rules=(rule(("apps",), ("v1",), ("deployments",), ("CREATE",)), rule(resources=("pods/*",)))
        )
        assert list(catch_all(snapshot(webhooks(narrow)), NONE, NOW)) == []
        assert list(catch_all(snapshot(webhooks()), NONE, NOW)) == []

    def test_object_selectors_and_match_conditions_are_shown(self) -> None:
        sel = LabelSelector(match_labels=(("inject", "true"),))
        [p] = catch_all(snapshot(webhooks(hook(object_selector=sel, match_conditions=2))), NONE, NOW)
        assert p.details["webhooks"][0]["object_selector"] == "inject=true"
        assert p.details["webhooks"][0]["match_conditions"] == 2
