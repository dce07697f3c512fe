"""Kubernetes API access for the monitors that read it: EKS access entries and, optionally, a VPC.

* **Access entries** -- for each monitor whose checks read the Kubernetes API (derived from the
  registry: a collector declaring ``kube=`` permissions), an ``AWS::EKS::AccessEntry`` per cluster
  that maps its role to the Kubernetes group ``eksmon-readers``; ``eksmon rbac | kubectl apply -f -``
  binds that group to the read-only ClusterRole. The clusters are the literal names (no ``*?[``)
  of ``clusters.include`` not matched by ``clusters.exclude``, in this stack's account and region.
  With member accounts or organization mode the monitors reach clusters through each member's
  role, so that role gets the access entry in its own account, and nothing is created here.
* **VPC** -- clusters whose endpoint is private only are reachable from inside their VPC. The
  setting ``kubernetes.vpc`` (``{"subnet_ids": [...], "security_group_ids": [...]}``, or ``"vpc_id"``
  instead of security groups to get one that allows only outbound HTTPS) puts those
  monitors' functions in these subnets: the stack builds the network (constructs/network.py) and
  each monitor's ScheduledCheck places its own function. The subnets need a route to the AWS APIs
  the monitors call (NAT or VPC endpoints), and each cluster's security group must admit HTTPS from
  the functions'.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase

from aws_cdk import aws_eks as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from eksmon.errors import ConfigError
from eksmon.rbac import GROUP
from eksmon.registry import Monitor, Registry
from eksmon.settings import Settings

_GLOB = re.compile(r"[*?\[]")
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")


def access_entry_clusters(settings: Settings) -> list[str]:
    """The clusters named literally in ``clusters.include`` (and not excluded), for this account only."""
    if settings.accounts.ids or settings.accounts.organization:
        return []
    names = []
    for name in settings.clusters.include:
        if _GLOB.search(name):
            continue
        if not _CLUSTER_NAME.match(name):
            raise ConfigError(f"clusters.include: {name!r} is neither a glob nor an EKS cluster name")
        if not any(fnmatchcase(name, p) for p in settings.clusters.exclude):
            names.append(name)
    return sorted(set(names))


def kubernetes_monitors(registry: Registry, monitors: Sequence[Monitor]) -> list[Monitor]:
    """The monitors among ``monitors`` whose checks read the Kubernetes API."""
    return [m for m in monitors if any(c.kube for c in registry.collectors_for(registry.select(monitor=m)))]


def build_kubernetes_access(
    scope: Construct, settings: Settings, functions: Mapping[Monitor, lambda_.Function], registry: Registry
) -> KubernetesAccess:
    """The stack's one call: access entries for the monitors that read Kubernetes."""
    readers = kubernetes_monitors(registry, list(functions))
    return KubernetesAccess(
        scope,
        "KubernetesAccess",
        functions={m: functions[m] for m in readers},
        clusters=access_entry_clusters(settings),
    )


class KubernetesAccess(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.Function],
        clusters: Sequence[str],
        group: str = GROUP,
    ) -> None:
        """``functions``: monitor -> function, for the monitors that read the Kubernetes API."""
        super().__init__(scope, construct_id)
        self.group = group
        self.access_entries = {
            (monitor, cluster): self._build_access_entry(monitor, fn.role, cluster)
            for monitor, fn in sorted(functions.items())
            if fn.role is not None
            for cluster in clusters
        }

    # -- access entries --------------------------------------------------------------------------------
    def _build_access_entry(self, monitor: str, role: iam.IRole, cluster: str) -> eks.CfnAccessEntry:
        return eks.CfnAccessEntry(
            self,
            f"{monitor.capitalize()}{_pascal(cluster)}",
            cluster_name=cluster,
            principal_arn=role.role_arn,
            kubernetes_groups=[self.group],
            type="STANDARD",
        )


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", name) if part)
