"""The admission-webhook checks as pure functions: every rule shape, v1 defaults, selectors, endpoints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from eksmon.checks._kubernetes import intercepts_pod_creation, is_catch_all, matches_request
from eksmon.checks.webhook_catch_all import catch_all
from eksmon.checks.webhook_fail_closed_timeout import FailClosedTimeoutThresholds, fail_closed_timeout
from eksmon.checks.webhook_no_endpoints import no_endpoints
from eksmon.collectors.kubernetes_common import BadObject
from eksmon.collectors.kubernetes_webhooks import (
    LabelSelector,
    Requirement,
    ServiceRef,
    _slice_endpoints,
    parse_configuration,
    parse_selector,
    parse_webhook,
)
from eksmon.models import Severity
from eksmon.registry import NoThresholds

from .kubernetes_builders import backend, backends, hook, not_in, rule, snapshot, webhooks

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
NONE = NoThresholds()
TIMEOUT = FailClosedTimeoutThresholds()
NAME = "kubernetes.io/metadata.name"


# -- rule shapes --------------------------------------------------------------------------------------
class TestCatchAllRuleShapes:
    @pytest.mark.parametrize(
        "shape",
        [
            rule(),
            rule(resources=("*/*",)),
            rule(resources=("pods", "*")),
            rule(operations=("CREATE", "UPDATE", "DELETE", "CONNECT")),
            rule(operations=("DELETE", "CONNECT", "CREATE", "UPDATE", "*")),
            rule(scope="Namespaced"),  # every Pod, Lease and EndpointSlice is still taken
            rule(scope="Cluster"),
        ],
        ids=[
            "all-stars",
            "star-slash-star",
            "star-among-others",
            "four-operations",
            "ops-with-star",
            "ns",
            "cl",
        ],
    )
    def test_matching_everything_is_catch_all(self, shape) -> None:
        assert is_catch_all(shape)

    @pytest.mark.parametrize(
        "shape",
        [
            rule(resources=("pods/*",)),  # every subresource of pods only
            rule(resources=("*/status",)),  # one subresource of everything
            rule(resources=("*/scale", "pods")),
            rule(groups=("", "apps", "batch")),  # a list of groups is not every group
            rule(versions=("v1",)),
            rule(operations=("CREATE", "UPDATE")),
            rule(operations=("CREATE", "UPDATE", "DELETE")),  # CONNECT missing
            rule(groups=(), versions=(), resources=(), operations=()),  # matches nothing
            rule(groups=("*",), versions=("*",), resources=("deployments",)),
        ],
        ids=[
            "pods-sub",
            "status-sub",
            "scale",
            "groups",
            "version",
            "create-update",
            "no-connect",
            "empty",
            "one",
        ],
    )
    def test_partial_wildcards_are_not_catch_all(self, shape) -> None:
        assert not is_catch_all(shape)

    def test_request_matching_follows_groups_versions_resources_operations_and_scope(self) -> None:
        pods = rule(("",), ("v1",), ("pods",), ("CREATE",), "Namespaced")
        assert matches_request(pods, "", "v1", "pods", "CREATE")
        assert not matches_request(pods, "", "v1", "pods", "UPDATE")
        assert not matches_request(pods, "apps", "v1", "pods", "CREATE")
        assert not matches_request(pods, "", "v1", "pods", "CREATE", namespaced=False)
        assert matches_request(rule(resources=("*/*",)), "", "v1", "pods", "CREATE")
        assert not matches_request(rule(resources=("pods/*",)), "", "v1", "pods", "CREATE")


# -- parsing with v1 defaults -------------------------------------------------------------------------
class TestParsing:
    def test_missing_and_null_fields_read_as_v1_defaults(self) -> None:
        parsed = parse_webhook(
            "ValidatingWebhookConfiguration",
            "policy",
            {
                "name": "v.example.com",
                "clientConfig": {"service": {"namespace": "ns", "name": "svc"}},
                "rules": [
                    {"apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "operations": ["*"]}
                ],
                "failurePolicy": None,
                "timeoutSeconds": None,
                "namespaceSelector": None,
            },
            0,
        )
        assert parsed.failure_policy == "Fail"
        assert parsed.timeout_seconds == 10
        assert parsed.service == ServiceRef("ns", "svc", 443)
        assert parsed.namespace_selector.empty and parsed.object_selector.empty
        assert parsed.rules[0].scope == "*"

    def test_a_configuration_without_webhooks_has_none(self) -> None:
        assert parse_configuration(
            "MutatingWebhookConfiguration", {"metadata": {"name": "x"}, "webhooks": None}
        ) == (
            "x",
            [],
        )

    @pytest.mark.parametrize(
        ("hook_doc", "complaint"),
        [
            ({"name": "h", "clientConfig": {}}, "neither a service nor a url"),
            ({"name": "h", "clientConfig": {"url": "https://x"}, "failurePolicy": "fail"}, "failurePolicy"),
            ({"name": "h", "clientConfig": {"url": "https://x"}, "timeoutSeconds": "30"}, "timeoutSeconds"),
            ({"name": "h", "clientConfig": {"url": "https://x"}, "rules": "everything"}, "not a list"),
            ({"name": "h", "clientConfig": {"service": {"name": "svc"}}}, "no namespace"),
            (
                {
                    "name": "h",
                    "clientConfig": {"url": "https://x"},
                    "namespaceSelector": {"matchExpressions": [{"key": "a", "operator": "Maybe"}]},
                },
                "unknown operator",
            ),
            ("not-an-object", "not an object"),
        ],
    )
    def test_unreadable_webhooks_are_rejected_with_the_field_named(self, hook_doc, complaint) -> None:
        with pytest.raises(BadObject, match=complaint):
            parse_webhook("ValidatingWebhookConfiguration", "policy", hook_doc, 0)

    def test_label_selectors_follow_kubernetes_semantics(self) -> None:
        sel = parse_selector(
            {
                "matchLabels": {"team": "a"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "stage"]},
                    {"key": "skip", "operator": "DoesNotExist"},
                    {"key": NAME, "operator": "NotIn", "values": ["kube-system"]},
                ],
            },
            "namespaceSelector",
        )
        assert sel.matches({"team": "a", "env": "prod", NAME: "apps"})
        assert not sel.matches({"team": "a", "env": "prod", NAME: "kube-system"})
        assert not sel.matches({"team": "a", "env": "dev"})
        assert not sel.matches({"team": "a", "env": "prod", "skip": ""})
        assert not sel.matches({"env": "prod"})
        assert LabelSelector().matches({}) and LabelSelector().empty
        assert LabelSelector(match_expressions=(Requirement("x", "Exists"),)).matches({"x": ""})
        assert LabelSelector(match_expressions=(Requirement("x", "NotIn", ("1",)),)).matches({})


# -- webhook.catch_all --------------------------------------------------------------------------------
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


# -- webhook.fail_closed_timeout ----------------------------------------------------------------------
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


# -- webhook.no_endpoints -----------------------------------------------------------------------------
REF = ServiceRef("policy-system", "policy-webhook")


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


class TestEndpointSlices:
    def test_ready_null_counts_as_ready_and_other_ports_are_ignored(self) -> None:
        eps = {
            "ports": [{"name": "https", "port": 8443}],
            "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": None}},
                {"addresses": ["10.0.0.2"], "conditions": {"ready": False}},
                {"addresses": ["10.0.0.3"]},
                {"addresses": [], "conditions": {"ready": True}},
                "garbage",
            ],
        }
        assert sum(e.ready for e in _slice_endpoints(eps, {"https"})) == 2
        assert len(list(_slice_endpoints(eps, {"https"}))) == 3
        assert list(_slice_endpoints(eps, {"metrics"})) == []
        assert list(_slice_endpoints({"endpoints": None}, {"https"})) == []
        assert list(_slice_endpoints(None, {"https"})) == []

    def test_zone_and_node_are_read_where_the_slice_gives_them(self) -> None:
        eps = {
            "endpoints": [
                {"addresses": ["10.0.0.1"], "zone": "us-east-1a", "nodeName": "ip-10-0-0-1"},
                {"addresses": ["10.0.0.2"], "zone": None},
            ]
        }
        assert [(e.zone, e.node) for e in _slice_endpoints(eps, {"https"})] == [
            ("us-east-1a", "ip-10-0-0-1"),
            ("", ""),
        ]
