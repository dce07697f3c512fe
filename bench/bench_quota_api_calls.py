"""AWS API calls of one quota scan (`eksmon scan --check 'quota.*'`) for 1, 10 and 100 clusters in 1 and 5 regions.

The calls are the product's cost (and its exposure to throttling): they must grow with regions and
clusters, never with quotas x clusters. Each cluster has one managed node group; the clusters are
spread evenly over the regions. Runs against the simulator (no AWS account): `python bench/bench_quota_api_calls.py`.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

from eksmon.engine import scan
from eksmon.quotas_catalogue import CATALOGUE
from eksmon.settings import Settings
from eksmon.sim.server import Simulator

ACCOUNT = "123456789012"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "eu-central-1", "ap-southeast-1")
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
PER_CLUSTER = {"eks.ListNodegroups", "eks.ListFargateProfiles"}
PER_NODEGROUP = {"eks.DescribeNodegroup"}


def fleet(regions: tuple[str, ...], clusters: int) -> None:
    from moto.eks.models import eks_backends

    for i in range(clusters):
        region = regions[i % len(regions)]
        backend = eks_backends[ACCOUNT][region]
        name = f"bench-{i:03d}"
        backend.create_cluster(
            name=name,
            version="1.33",
            role_arn=f"arn:aws:iam::{ACCOUNT}:role/eks",
            resources_vpc_config={"subnetIds": ["subnet-0a1b2c3d"]},
        )
        backend.create_nodegroup(
            cluster_name=name,
            nodegroup_name="workers",
            node_role=f"arn:aws:iam::{ACCOUNT}:role/node",
            subnets=["subnet-0a1b2c3d"],
            scaling_config={"minSize": 1, "maxSize": 10, "desiredSize": 3},
        )


def measure(sim: Simulator, regions: tuple[str, ...], clusters: int) -> tuple[Counter[str], float, int]:
    sim.reset()
    fleet(regions, clusters)
    started = time.monotonic()
    result = scan(
        Settings(regions=list(regions)),
        NOW,
        patterns=["quota.*"],
        session_factory=sim.session_factory(regions[0]),
    )
    assert len(result.clusters) == clusters, (len(result.clusters), clusters)
    return result.api_calls.calls, time.monotonic() - started, len(result.findings)


def main() -> None:
    print(f"quota scan: {len(CATALOGUE)} catalogue quotas; calls per scan by regions and clusters")
    print(
        f"{'regions':>7} {'clusters':>8} {'calls':>6} {'per region':>10} {'per cluster':>11} {'seconds':>8}"
    )
    with Simulator() as sim:
        for n_regions in (1, 5):
            regions = REGIONS[:n_regions]
            for clusters in (1, 10, 100):
                calls, seconds, _ = measure(sim, regions, clusters)
                cluster_calls = sum(v for k, v in calls.items() if k in PER_CLUSTER | PER_NODEGROUP)
                region_calls = sum(calls.values()) - cluster_calls
                print(
                    f"{n_regions:>7} {clusters:>8} {sum(calls.values()):>6} {region_calls / n_regions:>10.1f} "
                    f"{cluster_calls / clusters:>11.1f} {seconds:>8.1f}"
                )
        print()
        print("operations of the 100-cluster, 5-region scan:")
        for op, n in sorted(calls.items()):
            print(f"  {op:<45} {n:>4}")


if __name__ == "__main__":
    main()
