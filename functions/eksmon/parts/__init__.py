"""The snapshot parts: the typed data collectors fill and checks and publishers read.

Pure data and the arithmetic the checks share (the window helpers of ``cloudwatch``, the histogram
quantile of ``apiserver``): no I/O, no AWS or Kubernetes client. Collectors import the parts they fill;
checks and publishers import parts only (``tests/unit/test_architecture.py`` enforces it).
One module a source: ``cluster`` (EKS and EC2 APIs), ``access``, ``cloudwatch``, ``apiserver`` (its
``/metrics``), ``apf``, ``kubernetes``, ``webhooks``, ``quotas``, and ``scan`` (a scan's result).
"""

from eksmon.parts.cluster import ClusterInfo, ClusterNames, HealthIssue

__all__ = ["ClusterInfo", "ClusterNames", "HealthIssue"]
