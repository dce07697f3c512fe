"""Service quota usage: what is in use of each quota ``eksmon.collectors.quota_limits`` found a limit for.

Per account and region (API calls grow with regions and clusters, never with quotas x clusters):

* usage from metrics -- one ``GetMetricData`` call for up to 500 quotas with a ``UsageMetric``:
  hourly values over the last 7 days, the newest being the usage and the rest the history for days
  to exhaustion.
* usage from counts -- one paginated List/Describe per counted quota and region (one
  DescribeLoadBalancers serves ALBs and NLBs), and per cluster ListNodegroups, ListFargateProfiles
  and DescribeNodegroup per node group (for the node count).

A source that fails (AccessDenied, throttled past the retries) becomes a ``monitor.collection_error``
for that quota or region; everything else is still read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from eksmon.aws import is_access_denied, pages
from eksmon.collectors.eks import describe_nodegroup, list_nodegroup_names
from eksmon.collectors.quota_limits import Key, QuotaLimit, QuotaLimits
from eksmon.context import CollectContext
from eksmon.parts import ClusterNames
from eksmon.parts.quotas import (
    ClusterQuotaUsage,
    CountedUsage,
    MetricUsage,
    UsageReading,
)
from eksmon.registry import collector

METRIC_PERIOD_SECONDS = 3600
METRIC_LOOKBACK = timedelta(days=7)
MAX_QUERIES_PER_CALL = 500
# the largest page each API allows: fewer calls (tests lower them to exercise pagination)
PAGE_SIZES = {"eks": 100, "ec2": 1000, "elbv2": 400}


# -- usage from AWS/Usage metrics ---------------------------------------------------------------------
@collector(
    provides=MetricUsage,
    scope="region",
    name="quotas.metric_usage",  # its name from quotas.py: findings show it
    iam_actions=("cloudwatch:GetMetricData",),
    needs=(QuotaLimits,),
)
def metric_usage(ctx: CollectContext) -> MetricUsage:
    limits = [
        lim
        for lim in ctx.get(QuotaLimits).limits
        if lim.usage_metric is not None and lim.quota.scope == "region"
    ]
    if not limits:
        return MetricUsage({})
    end = ctx.now.astimezone(UTC)
    start = end - METRIC_LOOKBACK
    cloudwatch = ctx.client("cloudwatch")
    readings: dict[Key, UsageReading] = {}
    no_data: set[Key] = set()
    failed: set[Key] = set()
    for first in range(0, len(limits), MAX_QUERIES_PER_CALL):
        batch = {f"q{first + i}": lim for i, lim in enumerate(limits[first : first + MAX_QUERIES_PER_CALL])}
        try:
            series, statuses = _get_metric_data(cloudwatch, batch, start, end)
        except ClientError as exc:
            what = "for any quota" if is_access_denied(exc) else "for these quotas"
            ctx.report(
                "cloudwatch:GetMetricData", exc, f"{exc}; no usage metric was read {what} in {ctx.region}"
            )
            failed.update(lim.quota.key for lim in batch.values())
            continue
        for qid, lim in batch.items():
            key = lim.quota.key
            status, message = statuses.get(qid, ("Complete", ""))
            if status not in {"Complete", "PartialData"}:
                failed.add(key)
                ctx.report(
                    f"cloudwatch:GetMetricData/{key[0]}/{key[1]}",
                    ClientError({"Error": {"Code": status, "Message": message}}, "GetMetricData"),
                    f"the usage metric of {lim.name} ({key[1]}) came back {status}: {message or 'no detail'}",
                )
                continue
            points = sorted(series.get(qid, []))
            metric = lim.usage_metric
            assert metric is not None
            if not points:
                no_data.add(key)
                if lim.quota.counter is None:  # AWS publishes no datapoint while nothing is in use
                    readings[key] = UsageReading(
                        key, 0.0, f"{metric.describe()}: no datapoint in the last {METRIC_LOOKBACK.days} days"
                    )
                continue
            readings[key] = UsageReading(
                key,
                points[-1][1],
                metric.describe(),
                tuple(points),
                details={"usage_at": _iso(points[-1][0])},
            )
    return MetricUsage(readings, frozenset(no_data), frozenset(failed))


def _get_metric_data(
    cloudwatch: Any, batch: Mapping[str, QuotaLimit], start: datetime, end: datetime
) -> tuple[dict[str, list[tuple[datetime, float]]], dict[str, tuple[str, str]]]:
    queries = []
    for qid, lim in batch.items():
        m = lim.usage_metric
        assert m is not None
        queries.append(
            {
                "Id": qid,
                "MetricStat": {
                    "Metric": {
                        "Namespace": m.namespace,
                        "MetricName": m.name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in m.dimensions],
                    },
                    "Period": METRIC_PERIOD_SECONDS,
                    "Stat": m.statistic,
                },
                "ReturnData": True,
            }
        )
    series: dict[str, list[tuple[datetime, float]]] = {}
    statuses: dict[str, tuple[str, str]] = {}
    # through aws.pages, like every other list: a NextToken that never ends is bounded by aws.max_pages
    for result in pages(
        cloudwatch,
        "get_metric_data",
        "MetricDataResults",
        MetricDataQueries=queries,
        StartTime=start,
        EndTime=end,
    ):
        qid = result["Id"]
        series.setdefault(qid, []).extend(
            zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
        )
        status = result.get("StatusCode", "Complete")
        if status != "PartialData" or qid not in statuses:
            messages = "; ".join(m.get("Value", "") for m in result.get("Messages", []))
            statuses[qid] = (status, messages)
    return series, statuses


# -- usage from counts --------------------------------------------------------------------------------
Counter = Callable[[CollectContext, dict[str, Any]], float]
_COUNTERS: dict[str, tuple[str, Counter]] = {}  # counter name -> (IAM action it reports as, count)


def _counter(name: str, action: str) -> Callable[[Counter], Counter]:
    def register(fn: Counter) -> Counter:
        _COUNTERS[name] = (action, fn)
        return fn

    return register


@collector(
    provides=CountedUsage,
    scope="region",
    name="quotas.counted_usage",  # its name from quotas.py: findings show it
    iam_actions=(
        "eks:ListClusters",
        "ec2:DescribeAddresses",
        "ec2:DescribeVpcs",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTargetGroups",
        "iam:GetAccountSummary",
        "iam:ListOpenIDConnectProviders",
    ),
    needs=(QuotaLimits,),
    uses=(MetricUsage, ClusterNames),  # counts only what metrics did not give; reuses the cluster list
)
def counted_usage(ctx: CollectContext) -> CountedUsage:
    """Counts for region and account quotas that have a limit but no usage metric datapoints (or whose
    usage metrics could not be read: the count still tells the usage)."""
    metrics = ctx.get(MetricUsage) if ctx.region_snapshot.has(MetricUsage) else MetricUsage({})
    readings: dict[Key, UsageReading] = {}
    shared: dict[str, Any] = {}  # answers two counters share (DescribeLoadBalancers)
    failed: set[str] = set()
    for lim in ctx.get(QuotaLimits).limits:
        q = lim.quota
        if q.scope not in {"region", "account"} or q.counter is None or q.key in metrics.readings:
            continue
        action, count = _COUNTERS[q.counter]
        if action in failed:
            continue
        try:
            value = count(ctx, shared)
        except Exception as exc:  # noqa: BLE001 - one failing count hides only its quota
            failed.add(action)
            ctx.report(
                _quota_source(action),
                exc,
                f"{exc}; usage of {lim.name} ({q.quota_code}) could not be counted",
            )
            continue
        readings[q.key] = UsageReading(q.key, value, action)
    return CountedUsage(readings)


def _count(client: Any, operation: str, key: str, **kwargs: Any) -> float:
    return float(sum(1 for _ in pages(client, operation, key, **kwargs)))


@_counter("eks.clusters", "eks:ListClusters")
def _clusters(ctx: CollectContext, _: dict[str, Any]) -> float:
    # Every cluster counts against the quota, whatever the configured cluster filter shows: the list
    # the cluster checks made is reused only when the filter lets every cluster through.
    flt = ctx.settings.clusters
    if ctx.region_snapshot.has(ClusterNames) and "*" in flt.include and not flt.exclude:
        return float(len(ctx.region_snapshot.get(ClusterNames).names))
    return _count(
        ctx.client("eks"), "list_clusters", "clusters", PaginationConfig={"PageSize": PAGE_SIZES["eks"]}
    )


@_counter("ec2.elastic_ips", "ec2:DescribeAddresses")
def _elastic_ips(ctx: CollectContext, _: dict[str, Any]) -> float:
    found = ctx.client("ec2").describe_addresses(Filters=[{"Name": "domain", "Values": ["vpc"]}])
    return float(len(found.get("Addresses", [])))


@_counter("vpc.vpcs", "ec2:DescribeVpcs")
def _vpcs(ctx: CollectContext, _: dict[str, Any]) -> float:
    return _count(
        ctx.client("ec2"), "describe_vpcs", "Vpcs", PaginationConfig={"PageSize": PAGE_SIZES["ec2"]}
    )


@_counter("vpc.network_interfaces", "ec2:DescribeNetworkInterfaces")
def _network_interfaces(ctx: CollectContext, _: dict[str, Any]) -> float:
    return _count(
        ctx.client("ec2"),
        "describe_network_interfaces",
        "NetworkInterfaces",
        PaginationConfig={"PageSize": PAGE_SIZES["ec2"]},
    )


@_counter("vpc.security_groups", "ec2:DescribeSecurityGroups")
def _security_groups(ctx: CollectContext, _: dict[str, Any]) -> float:
    return _count(
        ctx.client("ec2"),
        "describe_security_groups",
        "SecurityGroups",
        PaginationConfig={"PageSize": PAGE_SIZES["ec2"]},
    )


def _load_balancer_types(ctx: CollectContext, shared: dict[str, Any]) -> dict[str, int]:
    if "load_balancers" not in shared:
        types: dict[str, int] = {}
        for lb in pages(
            ctx.client("elbv2"),
            "describe_load_balancers",
            "LoadBalancers",
            PaginationConfig={"PageSize": PAGE_SIZES["elbv2"]},
        ):
            types[lb.get("Type", "application")] = types.get(lb.get("Type", "application"), 0) + 1
        shared["load_balancers"] = types
    found: dict[str, int] = shared["load_balancers"]
    return found


@_counter("elb.application", "elasticloadbalancing:DescribeLoadBalancers")
def _albs(ctx: CollectContext, shared: dict[str, Any]) -> float:
    return float(_load_balancer_types(ctx, shared).get("application", 0))


@_counter("elb.network", "elasticloadbalancing:DescribeLoadBalancers")
def _nlbs(ctx: CollectContext, shared: dict[str, Any]) -> float:
    return float(_load_balancer_types(ctx, shared).get("network", 0))


@_counter("elb.target_groups", "elasticloadbalancing:DescribeTargetGroups")
def _target_groups(ctx: CollectContext, _: dict[str, Any]) -> float:
    return _count(
        ctx.client("elbv2"),
        "describe_target_groups",
        "TargetGroups",
        PaginationConfig={"PageSize": PAGE_SIZES["elbv2"]},
    )


@_counter("iam.roles", "iam:GetAccountSummary")
def _roles(ctx: CollectContext, _: dict[str, Any]) -> float:
    summary = ctx.client("iam").get_account_summary().get("SummaryMap", {})
    return float(summary["Roles"])


@_counter("iam.oidc_providers", "iam:ListOpenIDConnectProviders")
def _oidc_providers(ctx: CollectContext, _: dict[str, Any]) -> float:
    return float(len(ctx.client("iam").list_open_id_connect_providers().get("OpenIDConnectProviderList", [])))


# -- per-cluster usage --------------------------------------------------------------------------------
NODEGROUPS = ("eks", "L-6D54EA21")
NODES_PER_NODEGROUP = ("eks", "L-BD136A63")
FARGATE_PROFILES = ("eks", "L-33415657")
# the catalogue's per-cluster counters and the quota each one counts (read by cluster_quota_usage)
CLUSTER_COUNTERS: dict[str, Key] = {
    "eks.nodegroups": NODEGROUPS,
    "eks.nodegroup_nodes": NODES_PER_NODEGROUP,
    "eks.fargate_profiles": FARGATE_PROFILES,
}


@collector(
    provides=ClusterQuotaUsage,
    scope="cluster",
    name="quotas.cluster_quota_usage",  # its name from quotas.py: findings show it
    iam_actions=("eks:ListNodegroups", "eks:DescribeNodegroup", "eks:ListFargateProfiles"),
    needs=(ClusterNames, QuotaLimits),
)
def cluster_quota_usage(ctx: CollectContext) -> ClusterQuotaUsage:
    limits = ctx.get(QuotaLimits)
    eks = ctx.client("eks")
    readings: list[UsageReading] = []
    if limits.get(NODEGROUPS) or limits.get(NODES_PER_NODEGROUP):
        try:
            assert ctx.cluster is not None
            names = list_nodegroup_names(eks, ctx.cluster)  # the lifecycle collector's answer, when it ran
        except Exception as exc:  # noqa: BLE001 - the Fargate count below is still read
            ctx.report(_quota_source("eks:ListNodegroups"), exc)
        else:
            if limits.get(NODEGROUPS):
                readings.append(UsageReading(NODEGROUPS, float(len(names)), "eks:ListNodegroups"))
            if limits.get(NODES_PER_NODEGROUP):
                readings.extend(_nodegroup_sizes(ctx, eks, names))
    if limits.get(FARGATE_PROFILES):
        try:
            profiles = _count(
                eks,
                "list_fargate_profiles",
                "fargateProfileNames",
                clusterName=ctx.cluster,
                maxResults=PAGE_SIZES["eks"],
            )
        except Exception as exc:  # noqa: BLE001
            ctx.report(_quota_source("eks:ListFargateProfiles"), exc)
        else:
            readings.append(UsageReading(FARGATE_PROFILES, profiles, "eks:ListFargateProfiles"))
    return ClusterQuotaUsage(tuple(readings))


def _nodegroup_sizes(ctx: CollectContext, eks: Any, names: list[str]) -> Iterator[UsageReading]:
    for name in names:
        try:
            assert ctx.cluster is not None
            ng = describe_nodegroup(eks, ctx.cluster, name)
        except Exception as exc:  # noqa: BLE001 - one node group's error hides no other
            ctx.report(_quota_source(f"eks:DescribeNodegroup/{name}"), exc)
            continue
        scaling = ng.get("scalingConfig") or {}
        if "desiredSize" not in scaling:
            continue
        yield UsageReading(
            NODES_PER_NODEGROUP,
            float(scaling["desiredSize"]),
            "eks:DescribeNodegroup scalingConfig.desiredSize",
            resource=name,
            details={
                "nodegroup": name,
                "min_size": scaling.get("minSize"),
                "max_size": scaling.get("maxSize"),
            },
        )


def _quota_source(action: str) -> str:
    """The source a failed count is reported under: the call itself. The lifecycle collectors make some of
    the same calls (ListClusters, ListNodegroups, DescribeNodegroup) through the scan's memo, so one failed
    call is one root cause, and the engine keeps one finding for it however many collectors read it."""
    return action.split("/", 1)[0]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = [
    "ClusterQuotaUsage",
    "CountedUsage",
    "MetricUsage",
    "UsageReading",
]
