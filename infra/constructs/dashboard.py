"""One CloudWatch dashboard for the deployment: the fleet at a glance, then a row per configured cluster.

Fleet: open findings by severity, the top counted quotas by utilisation and the EC2 vCPU quotas (AWS/Usage
divided by ``SERVICE_QUOTA()``, free), whether each scheduled run is healthy (its heartbeat and critical
alarms), run duration and failures (AWS/Lambda, free), and every cluster's etcd size, days to the end of
standard support and apiserver 5xx (SEARCH: clusters appear by themselves).
Per cluster named in ``clusters.include`` (names without wildcards): etcd size against the standard and
Provisioned Control Plane limits, seats in use against the tiers' capacities, days to the end of standard
support, apiserver 5xx/429, p99 latency and webhook rejections, from the free AWS/EKS vended metrics
beside eksmon's own.

Cost: the dashboard is $3 a month at list price (3 of them with at most 50 metrics each are free). The
fleet part stays under 50 metrics (``dashboard_metric_count``, which ``make cost`` prints); each named
cluster adds a row of about a dozen per region, which is what takes a bigger fleet past the free allowance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from eksmon.clusterfilter import parse
from eksmon.publish.metrics import PUBLISHED_SEVERITIES
from eksmon.settings import Settings
from infra.constants import (
    DASHBOARD_CLUSTERS_MAX,
    DURATION_ALARM_SHARE,
    ETCD_QUOTA_BYTES,
    ETCD_TIER_BYTES,
    LAMBDA_SIZES,
    METRICS_NAMESPACE,
    TIER_SEATS,
    VCPU_USAGE_CLASSES,
)
from infra.constructs.alarms import monitor_metric

EKS = "AWS/EKS"
USAGE = "AWS/Usage"
# Dimension schemas of eksmon's own series, exactly as the EMF records carry them (SEARCH needs them all).
PER_CLUSTER = f"{METRICS_NAMESPACE},Account,ClusterName,Region,service"
PER_CLUSTER_TIER = f"{METRICS_NAMESPACE},Account,ClusterName,Region,Tier,service"  # the support countdown
PER_QUOTA = f"{METRICS_NAMESPACE},Account,QuotaCode,Region,Service,service"
VERBS = ("GET", "LIST", "PUT", "PATCH", "POST", "DELETE")
HOUR = Duration.hours(1)
FIVE_MINUTES = Duration.minutes(5)
MINUTE = Duration.minutes(1)
_COLOUR = {"critical": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}


def dashboard_clusters(settings: Settings) -> list[str]:
    """Cluster names the configuration spells out (include patterns without wildcards), capped."""
    names = [parse(n).name for n in settings.clusters.include]  # a cluster ARN: its name
    names = [n for n in names if not any(c in n for c in "*?[")]
    names = [n for n in names if n not in set(settings.clusters.exclude)]
    return sorted(dict.fromkeys(names))[:DASHBOARD_CLUSTERS_MAX]


def _search(
    schema: str, metric: str, statistic: str, period: Duration, label: str
) -> cloudwatch.MathExpression:
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{{{schema}}} MetricName=\"{metric}\"', '{statistic}', {int(period.to_seconds())})",
        using_metrics={},
        label=label,
        period=period,
    )


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        monitors: Sequence[str],
        health_alarms: Sequence[cloudwatch.IAlarm],
        functions: Mapping[str, lambda_.IFunction] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.clusters = dashboard_clusters(settings)
        self.regions: list[str | None] = list(settings.regions) or [None]  # None: the dashboard's region
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{Stack.of(self).stack_name}-fleet",
            default_interval=Duration.days(7),
        )
        self.dashboard.add_widgets(self._title(monitors))
        self.dashboard.add_widgets(
            self._open_findings(monitors), self._top_quotas(), self._runs(health_alarms)
        )
        self.dashboard.add_widgets(*self._run_details(functions or {}), self._vcpu_quotas())
        self.dashboard.add_widgets(*self._fleet_clusters())
        for cluster in self.clusters:
            self.dashboard.add_widgets(*self._cluster_row(cluster))

    # -- fleet -----------------------------------------------------------------------------------------
    def _title(self, monitors: Sequence[str]) -> cloudwatch.TextWidget:
        shown = ", ".join(self.clusters) if self.clusters else "none named in clusters.include"
        return cloudwatch.TextWidget(
            markdown=(
                "# eksmon: EKS control planes\n"
                f"Monitors: {', '.join(monitors) or 'none yet'}. Clusters with their own row: {shown}. "
                "Findings reach the alert topic once per change; `eksmon scan --format html` draws the same "
                "fleet as a report."
            ),
            width=24,
            height=2,
        )

    def _open_findings(self, monitors: Sequence[str]) -> cloudwatch.GraphWidget:
        """Open findings by severity over every monitor; each monitor's last count carries over between runs."""
        lines = []
        for severity in PUBLISHED_SEVERITIES:
            metrics = {
                f"{severity.value[0]}{i}": monitor_metric(
                    "OpenFindings", m, "Maximum", HOUR, Severity=severity.value
                )
                for i, m in enumerate(monitors)
            }
            filled = ", ".join(f"FILL({k}, REPEAT)" for k in metrics)
            lines.append(
                cloudwatch.MathExpression(
                    expression=f"SUM([{filled}])" if metrics else "0",
                    using_metrics=metrics,
                    label=severity.value,
                    period=HOUR,
                    color=_COLOUR[severity.value],
                )
            )
        return cloudwatch.GraphWidget(
            title="Open findings by severity (critical, warning)",
            left=lines,
            stacked=True,
            width=8,
            height=6,
            left_y_axis=cloudwatch.YAxisProps(min=0, label="findings", show_units=False),
        )

    def _top_quotas(self) -> cloudwatch.GraphWidget:
        search = (
            f"SORT(SEARCH('{{{PER_QUOTA}}} MetricName=\"QuotaUtilization\"', "
            "'Maximum', 21600), MAX, DESC, 10)"
        )
        return cloudwatch.GraphWidget(
            title="Top 10 counted quotas by utilisation (%)",
            left=[
                cloudwatch.MathExpression(
                    expression=search, using_metrics={}, label="", period=Duration.hours(6)
                )
            ],
            left_y_axis=cloudwatch.YAxisProps(min=0, max=100, label="%", show_units=False),
            left_annotations=[
                cloudwatch.HorizontalAnnotation(value=80, label="warning 80 %", color=_COLOUR["warning"]),
                cloudwatch.HorizontalAnnotation(value=95, label="critical 95 %", color=_COLOUR["critical"]),
            ],
            width=8,
            height=6,
        )

    @staticmethod
    def _runs(alarms: Sequence[cloudwatch.IAlarm]) -> cloudwatch.AlarmStatusWidget:
        return cloudwatch.AlarmStatusWidget(
            title="Scheduled runs healthy? (heartbeat and critical findings, per monitor)",
            alarms=list(alarms),
            width=8,
            height=6,
        )

    @staticmethod
    def _run_details(functions: Mapping[str, lambda_.IFunction]) -> list[cloudwatch.IWidget]:
        """Duration and failures of each monitor's function: AWS/Lambda has them for free."""
        return [
            cloudwatch.GraphWidget(
                title="Run duration (ms), per monitor (AWS/Lambda)",
                left=[
                    f.metric_duration(statistic="Maximum", period=HOUR, label=m) for m, f in functions.items()
                ],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=min(s.timeout.to_milliseconds() for s in LAMBDA_SIZES.values())
                        * DURATION_ALARM_SHARE,
                        label=f"{DURATION_ALARM_SHARE:.0%} of the shortest timeout",
                        color=_COLOUR["warning"],
                    )
                ],
                width=8,
                height=5,
            ),
            cloudwatch.GraphWidget(
                title="Failed runs, per monitor (AWS/Lambda)",
                left=[f.metric_errors(statistic="Sum", period=HOUR, label=m) for m, f in functions.items()],
                width=8,
                height=5,
            ),
        ]

    def _vcpu_quotas(self) -> cloudwatch.GraphWidget:
        """The quotas with an AWS/Usage metric, as a percentage of SERVICE_QUOTA(): no custom metric."""
        lines: list[cloudwatch.IMetric] = []
        for r, region in enumerate(self.regions):
            for c, family in enumerate(VCPU_USAGE_CLASSES):
                usage = cloudwatch.Metric(
                    namespace=USAGE,
                    metric_name="ResourceCount",
                    dimensions_map={
                        "Service": "EC2",
                        "Type": "Resource",
                        "Resource": "vCPU",
                        "Class": f"{family}/OnDemand",
                    },
                    statistic="Maximum",
                    period=HOUR,
                    region=region,
                )
                lines.append(
                    cloudwatch.MathExpression(
                        expression=f"100 * u{r}x{c} / SERVICE_QUOTA(u{r}x{c})",
                        using_metrics={f"u{r}x{c}": usage},
                        label=" ".join(p for p in (family, region) if p),
                        period=HOUR,
                        search_region=region,
                    )
                )
        return cloudwatch.GraphWidget(
            title="EC2 On-Demand vCPU quotas used (%), AWS/Usage",
            left=lines,
            left_y_axis=cloudwatch.YAxisProps(min=0, max=100, label="%", show_units=False),
            left_annotations=[
                cloudwatch.HorizontalAnnotation(value=80, label="warning 80 %", color=_COLOUR["warning"]),
                cloudwatch.HorizontalAnnotation(value=95, label="critical 95 %", color=_COLOUR["critical"]),
            ],
            width=8,
            height=5,
        )

    def _fleet_clusters(self) -> list[cloudwatch.IWidget]:
        return [
            cloudwatch.GraphWidget(
                title="etcd size, every cluster (AWS/EKS; eksmon's where AWS/EKS has none)",
                left=[
                    _search(f"{EKS},ClusterName", "apiserver_storage_size_bytes", "Maximum", HOUR, ""),
                    _search(PER_CLUSTER, "EtcdDatabaseSizeBytes", "Maximum", HOUR, ""),
                ],
                left_annotations=_etcd_lines(),
                left_y_axis=cloudwatch.YAxisProps(min=0, label="bytes", show_units=False),
                width=8,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title="Days to end of standard support, every cluster",
                left=[
                    _search(PER_CLUSTER_TIER, "DaysToEndOfStandardSupport", "Minimum", Duration.days(1), "")
                ],
                left_annotations=_support_lines(),
                width=8,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title="apiserver 5xx, every cluster (AWS/EKS)",
                left=[_search(f"{EKS},ClusterName", "apiserver_request_total_5XX", "Sum", FIVE_MINUTES, "")],
                width=8,
                height=6,
            ),
            # scheduler.backlog's signal: a line that stays above 0 is a queue that does not drain
            cloudwatch.GraphWidget(
                title="Pods waiting in the scheduler's active queue, every cluster (AWS/EKS)",
                left=[_search(f"{EKS},ClusterName", "scheduler_pending_pods_ACTIVEQ", "Minimum", MINUTE, "")],
                left_y_axis=cloudwatch.YAxisProps(min=0, label="pods", show_units=False),
                width=8,
                height=6,
            ),
        ]

    # -- one cluster -----------------------------------------------------------------------------------
    def _eks(
        self, name: str, cluster: str, statistic: str, label: str | None = None
    ) -> list[cloudwatch.Metric]:
        return [
            cloudwatch.Metric(
                namespace=EKS,
                metric_name=name,
                dimensions_map={"ClusterName": cluster},
                statistic=statistic,
                period=FIVE_MINUTES,
                region=region,
                label=" ".join(p for p in (label or name, region) if p),
            )
            for region in self.regions
        ]

    def _cluster_row(self, cluster: str) -> list[cloudwatch.IWidget]:
        days = cloudwatch.MathExpression(
            expression=(
                f'SEARCH(\'{{{PER_CLUSTER_TIER}}} MetricName="DaysToEndOfStandardSupport" '
                f"ClusterName=\"{cluster}\"', 'Minimum', 86400)"
            ),
            using_metrics={},
            label="${PROP('Dim.Tier')} ${PROP('Dim.Region')}: days left",  # the tier, named by its dimension
            period=Duration.days(1),
        )
        return [
            cloudwatch.GraphWidget(
                title=f"{cluster}: etcd size vs its limit",
                left=self._eks("apiserver_storage_size_bytes", cluster, "Maximum", "etcd bytes"),
                left_annotations=_etcd_lines(),
                left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                width=4,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title=f"{cluster}: seats in use vs tier capacity",
                left=self._eks(
                    "apiserver_flowcontrol_current_executing_seats", cluster, "Maximum", "seats in use"
                ),
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=seats, label=f"{tier} capacity", color=_COLOUR["info"]
                    )
                    for tier, seats in TIER_SEATS.items()
                ],
                left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                width=4,
                height=6,
            ),
            cloudwatch.SingleValueWidget(
                title=f"{cluster}: control-plane tier, days to end of standard support",
                metrics=[days],
                width=4,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title=f"{cluster}: apiserver 5xx and 429",
                left=self._eks("apiserver_request_total_5XX", cluster, "Sum", "5xx")
                + self._eks("apiserver_request_total_429", cluster, "Sum", "429"),
                width=4,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title=f"{cluster}: apiserver p99 latency (s)",
                left=[
                    m
                    for verb in VERBS
                    for m in self._eks(
                        f"apiserver_request_duration_seconds_{verb}_P99", cluster, "Maximum", verb
                    )
                ],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=1, label="warning 1 s", color=_COLOUR["warning"]),
                    cloudwatch.HorizontalAnnotation(value=4, label="critical 4 s", color=_COLOUR["critical"]),
                ],
                width=4,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title=f"{cluster}: admission webhook rejections",
                left=self._eks("apiserver_admission_webhook_rejection_count", cluster, "Sum", "rejections"),
                width=4,
                height=6,
            ),
        ]


def _etcd_lines() -> list[cloudwatch.HorizontalAnnotation]:
    return [
        cloudwatch.HorizontalAnnotation(
            value=ETCD_QUOTA_BYTES, label="8 GiB quota (standard)", color=_COLOUR["critical"]
        ),
        cloudwatch.HorizontalAnnotation(value=ETCD_QUOTA_BYTES * 0.8, label="80 %", color=_COLOUR["warning"]),
        cloudwatch.HorizontalAnnotation(
            value=ETCD_TIER_BYTES, label="16 GiB (Provisioned Control Plane tier)", color=_COLOUR["info"]
        ),
    ]


def _support_lines() -> list[cloudwatch.HorizontalAnnotation]:
    return [
        cloudwatch.HorizontalAnnotation(value=90, label="warning 90 days", color=_COLOUR["warning"]),
        cloudwatch.HorizontalAnnotation(value=30, label="critical 30 days", color=_COLOUR["critical"]),
    ]
