"""The pure rule helpers the webhook checks share: catch-all rule shapes and request matching."""

from __future__ import annotations

import pytest

from eksmon.checks._kubernetes import is_catch_all, matches_request

from .kubernetes_builders import rule


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
