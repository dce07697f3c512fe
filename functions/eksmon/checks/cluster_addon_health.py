"""cluster.addon_health: EKS reports an add-on unhealthy (one finding per add-on and issue code)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.checks._common import issues_by_code
from eksmon.models import Problem, Severity
from eksmon.parts.cluster import Addons
from eksmon.registry import Thresholds, check
from eksmon.snapshot import ClusterSnapshot


class AddonHealthThresholds(Thresholds):
    # add-ons without which pods get no network, no DNS or no Service routing: critical, others warning
    critical_addons: tuple[str, ...] = ("vpc-cni", "coredns", "kube-proxy")


@check(
    id="cluster.addon_health",
    title="EKS add-on health issue",
    monitor="lifecycle",
    needs=(Addons,),
    docs="https://docs.aws.amazon.com/eks/latest/APIReference/API_AddonIssue.html",
    severity_rules="critical for vpc-cni, coredns and kube-proxy (critical_addons), warning for any other "
    "add-on; one finding per add-on and health issue code",
    thresholds=AddonHealthThresholds,
    sources=("eks:ListAddons", "eks:DescribeAddon"),
)
def addon_health(snap: ClusterSnapshot, t: AddonHealthThresholds, _now: datetime) -> Iterator[Problem]:
    for addon in snap.get(Addons).items:
        if addon.status == "DELETING":
            continue
        core = addon.name in t.critical_addons
        impact = (
            " Every pod depends on it: new pods may get no address, no DNS or no Service routing."
            if core
            else ""
        )
        for group in issues_by_code(addon.health_issues):
            code = group.code
            yield Problem(
                Severity.CRITICAL if core else Severity.WARNING,
                f"addon/{addon.name}/health/{code}",
                f"EKS reports {code} on add-on {addon.name} {addon.version} of cluster {snap.name}"
                f"{group.said}{group.affected}{impact}",
                f"Fix what the issue names (ConfigurationConflict: resolve it with `--resolve-conflicts`; "
                f"missing permissions: the add-on's IAM role), then check `aws eks describe-addon "
                f"--cluster-name {snap.name} --addon-name {addon.name} --query addon.health`.",
                {
                    "addon": addon.name,
                    "addon_version": addon.version,
                    "addon_status": addon.status,
                    "code": code,
                    "message": group.message,
                    "resource_ids": group.resource_ids,
                },
                title=f"Add-on {addon.name}: {code}",
            )
