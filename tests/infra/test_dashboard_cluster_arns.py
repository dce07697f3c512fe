"""The dashboard's per-cluster rows from clusters.include, which may hold cluster ARNs."""

from __future__ import annotations

from eksmon.settings import parse_settings
from infra.constructs.dashboard import dashboard_clusters


def test_a_cluster_arn_in_include_gives_its_cluster_a_row_by_name() -> None:
    arn = "arn:aws:eks:us-east-1:123456789012:cluster/payments-prod"
    settings = parse_settings({"clusters": {"include": [arn, "checkout-prod", "prod-*"]}})
    assert dashboard_clusters(settings) == ["checkout-prod", "payments-prod"]
    wildcard = parse_settings(
        {"clusters": {"include": ["arn:aws:eks:us-east-1:123456789012:cluster/prod-*"]}}
    )
    assert dashboard_clusters(wildcard) == []
