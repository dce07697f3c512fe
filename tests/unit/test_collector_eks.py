"""What the EKS collector reads from DescribeCluster's answer."""

from __future__ import annotations


def test_the_hpa_sync_period_is_read_from_describe_cluster() -> None:
    from eksmon.collectors.eks import _hpa_sync_period

    doc = {"horizontalPodAutoscalerControllerConfig": {"horizontalPodAutoscalerSyncPeriod": "10s"}}
    assert _hpa_sync_period(doc) == "10s"
    assert _hpa_sync_period({}) is None and _hpa_sync_period(None) is None
    assert _hpa_sync_period({"horizontalPodAutoscalerControllerConfig": None}) is None
