"""What the webhooks collector reads: v1 defaults, label selectors, endpoint slices, and the
configurations it rejects with the field named."""

from __future__ import annotations

import pytest

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

NAME = "kubernetes.io/metadata.name"


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
