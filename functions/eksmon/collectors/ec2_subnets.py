"""The subnets of one account+region, with their free addresses: one paged DescribeSubnets per region.

Every subnet of the region is listed, not only the clusters' own: one request answers for every
cluster of the region (clusters are read side by side, so their subnet ids are not all known when
the region's reads start), and a subnet a cluster names that is missing from a complete listing is
gone -- where asking for it by id would fail the whole request with ``InvalidSubnetID.NotFound``.
"""

from __future__ import annotations

from eksmon.aws import pages
from eksmon.context import CollectContext
from eksmon.parts import ClusterNames
from eksmon.parts.cluster import (
    RegionSubnets,
    Subnet,
)
from eksmon.registry import collector

PAGE_SIZE = 1000  # DescribeSubnets' largest page


@collector(
    provides=RegionSubnets, scope="region", iam_actions=("ec2:DescribeSubnets",), needs=(ClusterNames,)
)
def region_subnets(ctx: CollectContext) -> RegionSubnets:
    if not ctx.get(ClusterNames).names:
        return RegionSubnets({})  # no cluster here: nothing to look up
    found: dict[str, Subnet] = {}
    for s in pages(
        ctx.client("ec2"), "describe_subnets", "Subnets", PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        found[s["SubnetId"]] = Subnet(
            s["SubnetId"],
            s.get("AvailabilityZone", ""),
            int(s.get("AvailableIpAddressCount", 0)),
            s.get("VpcId", ""),
        )
    return RegionSubnets(found)
