"""EKS control-plane data: clusters, the version calendar, node groups, add-ons, insights."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from eksmon.aws import pages
from eksmon.clusterfilter import included
from eksmon.context import CollectContext
from eksmon.parts import ClusterInfo, ClusterNames, HealthIssue
from eksmon.parts.cluster import (
    Addon,
    Addons,
    ClientStat,
    Deprecation,
    Insight,
    Insights,
    Nodegroup,
    Nodegroups,
    VersionCalendar,
)
from eksmon.registry import collector
from eksmon.tiers import TierCapacity, capacity_from_api, tier_name
from eksmon.versions import BUNDLED_CALENDAR, VersionDates, next_minor

# -- collectors ---------------------------------------------------------------------------------------
# The largest page each list allows. Every collector lists with the same parameters, so the scan's
# memo (eksmon.aws_io.ScanIO) answers a list another collector already made without a second request.
PAGE_SIZE = 100


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    if operation != "describe_cluster_versions":
        kwargs.setdefault("maxResults", PAGE_SIZE)
    yield from pages(client, operation, key, **kwargs)


def list_nodegroup_names(eks: Any, cluster: str) -> list[str]:
    """ListNodegroups of one cluster (shared by the lifecycle and quota collectors through the memo)."""
    return list(_pages(eks, "list_nodegroups", "nodegroups", clusterName=cluster))


def describe_nodegroup(eks: Any, cluster: str, name: str) -> dict[str, Any]:
    answer: dict[str, Any] = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
    return answer


def health_issues(doc: dict[str, Any]) -> tuple[HealthIssue, ...]:
    """``health.issues`` of a DescribeCluster, DescribeNodegroup or DescribeAddon answer."""
    return tuple(
        HealthIssue(i.get("code") or "Unknown", i.get("message") or "", tuple(i.get("resourceIds") or ()))
        for i in (doc.get("health") or {}).get("issues") or []
    )


@collector(provides=ClusterNames, scope="region", iam_actions=("eks:ListClusters",))
def list_clusters(ctx: CollectContext) -> ClusterNames:
    flt = ctx.settings.clusters
    listed = sorted(_pages(ctx.client("eks"), "list_clusters", "clusters"))
    names = [n for n in listed if included(flt.include, flt.exclude, n, ctx.account, ctx.region)]
    return ClusterNames(tuple(names), tuple(listed))


@collector(provides=VersionCalendar, scope="region", iam_actions=("eks:DescribeClusterVersions",))
def version_calendar(ctx: CollectContext) -> VersionCalendar:
    """Every version's support dates, all pages; the bundled table (reported) when the API fails.

    The calendar is the same in every region: it is read once per account and scan."""
    eks = ctx.client("eks")
    try:
        versions, scaling = ctx.shared(("eks-cluster-versions",), functools.partial(_cluster_versions, eks))
        versions = dict(versions)
    except Exception as exc:  # noqa: BLE001 - any failure falls back to the bundled table, reported
        ctx.report(
            "eks:DescribeClusterVersions",
            exc,
            f"{exc}; support dates come from eksmon's bundled calendar instead, which may be out of date",
        )
        return VersionCalendar(dict(BUNDLED_CALENDAR), "bundled")
    for version, dates in BUNDLED_CALENDAR.items():
        versions.setdefault(version, dates)  # long-retired versions the API no longer lists
    return VersionCalendar(versions, "eks:DescribeClusterVersions", scaling)


@collector(provides=ClusterInfo, iam_actions=("eks:DescribeCluster",), needs=(ClusterNames,))
def describe_cluster(ctx: CollectContext) -> ClusterInfo:
    c = ctx.client("eks").describe_cluster(name=ctx.cluster)["cluster"]
    logging_types: set[str] | None = None
    if "logging" in c:
        logging_types = set()
        for entry in c["logging"].get("clusterLogging", []):
            if entry.get("enabled"):
                logging_types.update(entry.get("types", []))
    issues = health_issues(c)
    return ClusterInfo(
        name=c["name"],
        arn=c.get("arn", ""),
        version=c.get("version"),
        status=c.get("status", "UNKNOWN"),
        platform_version=c.get("platformVersion"),
        support_type=(c.get("upgradePolicy") or {}).get("supportType"),
        authentication_mode=(c.get("accessConfig") or {}).get("authenticationMode"),
        logging_enabled=frozenset(logging_types) if logging_types is not None else None,
        health_issues=issues,
        endpoint=c.get("endpoint"),
        certificate_authority=(c.get("certificateAuthority") or {}).get("data"),
        created_at=c.get("createdAt"),
        tier=tier_name(c.get("controlPlaneScalingConfig")),
        subnet_ids=_subnet_ids(c.get("resourcesVpcConfig")),
        hpa_sync_period=_hpa_sync_period(c.get("kubeControllerManagerConfig")),
    )


def _hpa_sync_period(config: Any) -> str | None:
    if not isinstance(config, dict):
        return None
    hpa = config.get("horizontalPodAutoscalerControllerConfig")
    period = hpa.get("horizontalPodAutoscalerSyncPeriod") if isinstance(hpa, dict) else None
    return str(period) if period is not None else None


def _subnet_ids(vpc_config: Any) -> tuple[str, ...] | None:
    """The subnets given when the cluster was created (or last updated): EKS places its control-plane
    network interfaces there, and needs free addresses in them for every upgrade."""
    if not isinstance(vpc_config, dict) or vpc_config.get("subnetIds") is None:
        return None
    return tuple(dict.fromkeys(str(s) for s in vpc_config["subnetIds"]))


@collector(  # by cluster name: a failed DescribeCluster does not hide the node groups
    provides=Nodegroups,
    iam_actions=("eks:ListNodegroups", "eks:DescribeNodegroup"),
)
def nodegroups(ctx: CollectContext) -> Nodegroups:
    eks = ctx.client("eks")
    items = []
    assert ctx.cluster is not None
    for name in list_nodegroup_names(eks, ctx.cluster):
        ng = describe_nodegroup(eks, ctx.cluster, name)
        items.append(
            Nodegroup(
                name,
                ng.get("version"),
                ng.get("status", "UNKNOWN"),
                ng.get("releaseVersion"),
                health_issues(ng),
            )
        )
    return Nodegroups(tuple(items))


@collector(
    provides=Addons,
    iam_actions=("eks:ListAddons", "eks:DescribeAddon", "eks:DescribeAddonVersions"),
    needs=(ClusterInfo, VersionCalendar),
)
def addons(ctx: CollectContext) -> Addons:
    eks = ctx.client("eks")
    info = ctx.get(ClusterInfo)
    calendar = ctx.get(VersionCalendar)
    target = next_minor(info.version or "")
    if target is not None and calendar.get(target) is None:
        target = None  # no next version to upgrade to yet
    items = []
    for name in _pages(eks, "list_addons", "addons", clusterName=ctx.cluster):
        addon = eks.describe_addon(clusterName=ctx.cluster, addonName=name)["addon"]
        version = addon.get("addonVersion", "")
        compatible: bool | None = None
        latest: str | None = None
        if target is not None:
            try:  # add-on builds differ by region: read once per account and region
                supported = ctx.shared(
                    ("addon-versions", ctx.region, name), functools.partial(_addon_versions, eks, name)
                )
            except Exception as exc:  # noqa: BLE001 - this add-on's compatibility stays unknown, reported
                ctx.report_region(
                    "eks:DescribeAddonVersions",
                    exc,
                    f"{exc}; the compatibility of {name} with Kubernetes {target} is unknown in {ctx.region}",
                )
                supported = []
            for_next = [v for v, clusters in supported if target in clusters]
            if version in {v for v, _ in supported}:  # unknown versions stay "unknown", not "incompatible"
                compatible = version in for_next
            latest = for_next[0] if for_next else None
        items.append(
            Addon(name, version, addon.get("status"), target, compatible, latest, health_issues(addon))
        )
    return Addons(tuple(items))


def _cluster_versions(
    eks: Any,
) -> tuple[dict[str, VersionDates], dict[str, tuple[TierCapacity, ...]]]:
    """Every version's dates and its Provisioned Control Plane tiers, all pages."""
    versions: dict[str, VersionDates] = {}
    scaling: dict[str, tuple[TierCapacity, ...]] = {}
    for item in _pages(eks, "describe_cluster_versions", "clusterVersions", includeAll=True):
        dates = VersionDates(
            version=item["clusterVersion"],
            release=_date(item.get("releaseDate")),
            end_of_standard=_date(item.get("endOfStandardSupportDate")),
            end_of_extended=_date(item.get("endOfExtendedSupportDate")),
            status=item.get("versionStatus") or item.get("status"),
        )
        versions[dates.version] = dates
        tiers = (capacity_from_api(t) for t in item.get("controlPlaneScalingTiers") or [])
        scaling[dates.version] = tuple(t for t in tiers if t is not None)
    if not versions:
        raise LookupError("DescribeClusterVersions returned no versions")
    return versions, scaling


def _addon_versions(eks: Any, name: str) -> list[tuple[str, frozenset[str]]]:
    """Every version of one add-on with the cluster versions it supports (newest first, as EKS lists)."""
    out: list[tuple[str, frozenset[str]]] = []
    for addon in _pages(eks, "describe_addon_versions", "addons", addonName=name):
        for v in addon.get("addonVersions", []):
            clusters = frozenset(c.get("clusterVersion", "") for c in v.get("compatibilities", []))
            out.append((v["addonVersion"], clusters))
    return out


@collector(provides=Insights, iam_actions=("eks:ListInsights", "eks:DescribeInsight"))  # by cluster name
def insights(ctx: CollectContext) -> Insights:
    """Every insight; DescribeInsight only for those not PASSING (their details are what alerts need)."""
    eks = ctx.client("eks")
    items = []
    for summary in _pages(eks, "list_insights", "insights", clusterName=ctx.cluster):
        status = (summary.get("insightStatus") or {}).get("status", "UNKNOWN")
        detail: dict[str, Any] = summary
        if status in {"WARNING", "ERROR"}:
            detail = eks.describe_insight(clusterName=ctx.cluster, id=summary["id"]).get("insight", summary)
        items.append(_insight(detail, status))
    return Insights(tuple(items))


def _insight(d: dict[str, Any], status: str) -> Insight:
    specific = d.get("categorySpecificSummary") or {}
    deprecations = tuple(
        Deprecation(
            usage=dep.get("usage", ""),
            replaced_with=dep.get("replacedWith"),
            stop_serving_version=dep.get("stopServingVersion"),
            clients=tuple(
                ClientStat(
                    cs.get("userAgent", ""),
                    cs.get("numberOfRequestsLast30Days"),
                    str(cs["lastRequestTime"]) if cs.get("lastRequestTime") else None,
                )
                for cs in dep.get("clientStats", [])
            ),
        )
        for dep in specific.get("deprecationDetails", [])
    )
    return Insight(
        id=d.get("id", ""),
        name=d.get("name", ""),
        category=d.get("category", "UNKNOWN"),
        status=status,
        reason=(d.get("insightStatus") or {}).get("reason"),
        description=d.get("description"),
        kubernetes_version=d.get("kubernetesVersion"),
        recommendation=d.get("recommendation"),
        deprecations=deprecations,
    )


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
