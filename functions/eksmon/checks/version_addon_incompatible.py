"""version.addon_incompatible: an installed add-on version has no build for the next Kubernetes version."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.models import Problem, Severity
from eksmon.parts.cluster import Addons
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot


@check(
    id="version.addon_incompatible",
    title="Add-on version not compatible with the next Kubernetes version",
    monitor="lifecycle",
    needs=(Addons,),
    docs="https://docs.aws.amazon.com/eks/latest/userguide/updating-an-add-on.html",
    severity_rules="warning when the installed add-on version lists no compatibility with the next minor version",
    sources=("eks:ListAddons", "eks:DescribeAddon", "eks:DescribeAddonVersions"),
)
def addon_incompatible(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    for addon in snap.get(Addons).items:
        if addon.compatible_with_next is not False:
            continue
        to = f" to {addon.latest_for_next}" if addon.latest_for_next else ""
        yield Problem(
            Severity.WARNING,
            f"addon/{addon.name}",
            f"Add-on {addon.name} {addon.version} on cluster {snap.name} is not compatible with Kubernetes "
            f"{addon.next_kubernetes_version}; upgrading the control plane first would leave it unsupported.",
            f"Update {addon.name}{to} before upgrading the control plane "
            f"(`aws eks update-addon --addon-name {addon.name}`).",
            {
                "addon": addon.name,
                "addon_version": addon.version,
                "next_version": addon.next_kubernetes_version,
                "latest_compatible_version": addon.latest_for_next,
            },
            title=f"Add-on {addon.name} {addon.version} blocks the upgrade to {addon.next_kubernetes_version}",
        )
