"""cluster.subnet_ip_headroom: the cluster's own subnets are too full (or gone) for EKS to upgrade,
change tier or scale out the control plane, which needs up to 5 free addresses in them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.checks._common import GONE
from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.cluster import RegionSubnets, Subnet
from eksmon.registry import Thresholds, check
from eksmon.snapshot import ClusterSnapshot


class SubnetHeadroomThresholds(Thresholds):
    # EKS "requires up to five available IP addresses from the subnets that you specified when you created
    # your cluster" for an update (EKS user guide, update-cluster)
    min_free_ips: int = Field(default=5, ge=1)
    min_zones: int = Field(default=2, ge=1)  # zones that must each hold a cluster subnet with min_free_ips


@check(
    id="cluster.subnet_ip_headroom",
    title="Cluster subnets too full for an upgrade",
    monitor="lifecycle",
    needs=(ClusterInfo, RegionSubnets),
    docs="https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html",
    severity_rules="critical when fewer than 2 zones (min_zones) have a cluster subnet with at least 5 free IPs "
    "(min_free_ips), or a cluster subnet no longer exists; warning when enough zones qualify but a cluster "
    "subnet has fewer than 5 free. Node-group subnets are not judged",
    thresholds=SubnetHeadroomThresholds,
    sources=("eks:DescribeCluster", "ec2:DescribeSubnets"),
)
def subnet_ip_headroom(
    snap: ClusterSnapshot, t: SubnetHeadroomThresholds, _now: datetime
) -> Iterator[Problem]:
    info = snap.get(ClusterInfo)
    if info.status in GONE or not info.subnet_ids:
        return
    known = snap.get(RegionSubnets).by_id
    present: list[Subnet] = [known[s] for s in info.subnet_ids if s in known]
    gone = [s for s in info.subnet_ids if s not in known]
    named = {r for issue in info.health_issues for r in issue.resource_ids}
    if gone and all(s in named for s in gone):
        # EKS already reports the missing subnet (cluster.health_issue, e.g. Ec2SubnetNotFound): one root
        # cause, one finding; fixing it means choosing the cluster's subnets again, judged on the next run
        return
    need = t.min_free_ips
    low = [s for s in present if s.free_ips < need]
    zones_ok = sorted({s.zone for s in present if s.free_ips >= need})
    short_of_zones = len(zones_ok) < t.min_zones
    if not gone and not short_of_zones and not low:
        return
    details = {
        "free_ips": {s.id: s.free_ips for s in present},
        "zones": {s.id: s.zone for s in present},
        "zones_with_5_free": zones_ok,
        "gone_subnets": gone,
        "min_free_ips": need,
        "min_zones": t.min_zones,
    }
    listing = ", ".join(f"{s.id} ({s.zone}) {s.free_ips} free" for s in present) or "none left"
    what: list[str] = []
    if gone:
        verb = "no longer exists" if len(gone) == 1 else "no longer exist"
        what.append(f"{_plural(len(gone), 'subnet')} of the cluster {verb} ({', '.join(gone)})")
    if short_of_zones:
        where = f"only {', '.join(zones_ok)}" if zones_ok else "no zone"
        what.append(
            f"{where} has a cluster subnet with {need} or more free IP addresses (EKS needs {t.min_zones} zones)"
        )
    elif low:
        what.append(
            f"{', '.join(s.id for s in low)} {'has' if len(low) == 1 else 'have'} fewer than {need} free IP "
            f"addresses, though {len(zones_ok)} zones still qualify"
        )
    critical = bool(gone) or short_of_zones
    yield Problem(
        Severity.CRITICAL if critical else Severity.WARNING,
        "subnets",
        f"Cluster {info.name}: {'; '.join(what)}. Cluster subnets: {listing}. EKS needs up to {need} free "
        "addresses in the cluster's subnets to upgrade the version, change the control-plane tier or replace "
        f"its network interfaces; {'an update would fail now' if critical else 'another subnet filling up would block updates'}.",
        "Free addresses in the cluster subnets (move node groups and pods to other subnets), or give the "
        "cluster other subnets with room: `aws eks update-cluster-config --name "
        f"{info.name} --resources-vpc-config subnetIds=...` (the same zones as the cluster's original "
        "subnets, at least two; small dedicated /28 subnets for the control plane are enough).",
        details,
        title=f"Cluster subnets {'cannot' if critical else 'can barely'} take an upgrade: "
        f"{len(zones_ok)} zone{'' if len(zones_ok) == 1 else 's'} with {need}+ free IPs"
        + (f", {len(gone)} gone" if gone else ""),
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
