"""Names, sizes and paths of the deployment, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from eksmon.environment import ENV_CONFIG as RUNTIME_ENV_CONFIG
from eksmon.environment import ENV_FINDINGS_TABLE as RUNTIME_ENV_FINDINGS_TABLE
from eksmon.environment import ENV_SLACK_WEBHOOK_SECRET_ARN as RUNTIME_ENV_SLACK_WEBHOOK_SECRET_ARN
from eksmon.environment import ENV_TOPIC_ARN as RUNTIME_ENV_TOPIC_ARN
from eksmon.iam_policy import RESOURCE_SCOPED_ACTIONS as _RESOURCE_SCOPED_ACTIONS
from eksmon.observability import ENV_TRACING as RUNTIME_ENV_TRACING
from eksmon.observability import NAMESPACE, SERVICE
from eksmon.tiers import PROVISIONED_DB_BYTES, PUBLISHED_TIERS, STANDARD_DB_BYTES

ROOT: Final = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR: Final = ROOT / "functions"
LAYER_BUILD_SCRIPT: Final = ROOT / "layers" / "build.py"
LAYER_DIR: Final = ROOT / "layers" / "build"

# -- the CDK app ---------------------------------------------------------------------------------------
STACK_NAME: Final = "EksMonitor"
STACK_DESCRIPTION: Final = "eksmon: scheduled monitors of Amazon EKS control planes"
# The member-account role (infra/reader_stack.py): a stack of its own, deployed into each member account
# (`cdk deploy EksMonitorReader`) or, in organization mode, as a service-managed StackSet.
READER_STACK_NAME: Final = "EksMonitorReader"
READER_STACK_DESCRIPTION: Final = "eksmon: read-only role the eksmon monitors assume in this member account"
# The monitors' roles live on this IAM path, so a member role can trust exactly them (aws:PrincipalArn).
MONITOR_ROLE_PATH: Final = "/eksmon-monitor/"
STACKSET_NAME: Final = "eksmon-reader"
CONTEXT_KEY: Final = "eksmon"  # cdk.json context holding the settings (same schema as the CLI's --config)
CONTEXT_SOURCE: Final = "cdk.json context eksmon"  # how a ConfigError names where the bad key is
ACCOUNT_CONTEXT_KEY: Final = "eksmon:account"  # optional: pin the stack to an account ...
REGION_CONTEXT_KEY: Final = "eksmon:region"  # ... and a region; environment-agnostic without them

# -- functions -----------------------------------------------------------------------------------------
# AwsSolutions-L1 (cdk-nag 3.0.2) accepts only the newest Python that aws-cdk-lib knows: 3.14 in 2.275.0.
# layers/build.py PYTHON_VERSION must be the same version (tests/infra/test_layer.py checks).
LAMBDA_RUNTIME: Final = lambda_.Runtime.PYTHON_3_14
LAMBDA_ARCHITECTURE: Final = lambda_.Architecture.ARM_64


@dataclass(frozen=True)
class LambdaSize:
    memory_mb: int
    timeout: Duration


# Sized from bench/bench_handlers.py (each handler in a fresh process against the simulator's demo
# fleet: 1 account, 2 regions, 7 clusters; peak RSS = VmHWM, x86_64 CPython 3.11, 2026-11-26):
#   lifecycle 93 MiB, 1.9 s, 58 API calls | quotas 106 MiB, 2.5 s, 56 calls
#   metrics    99 MiB, 2.2 s, 15 calls    | kubernetes 96 MiB, 2.6 s, 10 calls + Kubernetes API
# and the scale benches: bench_kubernetes_scan (a 20,000-pod cluster: 96 MiB peak RSS, flat because pods
# are read a page at a time; 5.0 s per cluster) and bench_metrics_scan (a 40 MB /metrics body: 21 MB
# tracemalloc peak, streamed; 0.67 s per sample, 3 samples per cluster, on a full x86_64 core).
# Memory: every handler stays near 100 MiB, mostly the interpreter + boto3 + pydantic; 512 MB keeps
# a 4x margin for bigger fleets and buys CPU (Lambda allots CPU with memory: 512 MB ~ 1/3 vCPU), which
# is what cold start (~0.7 s of imports on a full core) and the /metrics parser spend. The metrics and
# kubernetes monitors scrape or page through each cluster's API, aws.max_in_flight_per_region at once per region: 1024 MB.
# Fan-out partitions are sized from these: at most fanout.max_targets_per_invocation account+region pairs
# and fanout.max_clusters_per_invocation clusters, by default eksmon.partition.clusters_per_invocation of
# the function's memory and timeout (60 % of the memory at 100 MiB + 0.13 MiB per cluster, half of the
# timeout in CPU at 15 AWS calls x 1.6 ms per cluster): 1,593 clusters at 512 MB and 5 minutes, 3,617 at
# 1,024 MB and 5 minutes, 3,956 at 1,024 MB and 10 minutes.
LAMBDA_SIZES: Final[dict[str, LambdaSize]] = {
    "lifecycle": LambdaSize(512, Duration.minutes(5)),
    "quotas": LambdaSize(512, Duration.minutes(5)),
    "metrics": LambdaSize(1024, Duration.minutes(5)),
    "kubernetes": LambdaSize(1024, Duration.minutes(10)),
}
# A fan-out execution (infra/constructs/fanout.py) ends after this at the latest: the schedule's oldest
# useful run (SCHEDULE_MAX_EVENT_AGE) is superseded by the next one anyway.
FANOUT_TIMEOUT: Final = Duration.hours(1)
LAMBDA_ENV_LIMIT_BYTES: Final = 4096  # all environment variables of a function together
LOG_RETENTION: Final = logs.RetentionDays.ONE_MONTH
HANDLER_MODULE: Final = "eksmon.handlers.{monitor}"
HANDLER: Final = HANDLER_MODULE + ".handler"
# The functions' code asset is the import closure of the handlers (infra/asset.py), staged in this
# directory of the cloud assembly (cdk.out) before CDK copies it to its asset.<hash> directory.
FUNCTION_STAGING_DIR: Final = "eksmon-function-source"
LAYER_ASSET_EXCLUDES: Final = (".stamp", ".lock", ".tmp-*")

# Environment the handlers read (through the settings model).
ENV_CONFIG: Final = RUNTIME_ENV_CONFIG
ENV_TOPIC_ARN: Final = RUNTIME_ENV_TOPIC_ARN
POWERTOOLS_SERVICE_NAME: Final = SERVICE  # defined by the runtime: what the alarms watch is what it emits
METRICS_NAMESPACE: Final = NAMESPACE
ENV_TRACING: Final = RUNTIME_ENV_TRACING
LOG_LEVEL: Final = "INFO"

# -- schedules -----------------------------------------------------------------------------------------
SCHEDULE_RETRY_ATTEMPTS: Final = 3
# Lambda's own retries of a scheduled run that failed (the schedule invokes asynchronously; Lambda's
# default is 2): one retry for a passing fault, then the run goes to the monitor's encrypted failure
# queue, which alarms. Read failures never fail a run (they are findings), so a failure here is a bug or
# an outage, and retrying it more only repeats every API call of the scan.
MONITOR_RETRY_ATTEMPTS: Final = 1
# A run past this share of its timeout is about to be cut: the dashboard draws the line (no alarm, see alarms.py).
DURATION_ALARM_SHARE: Final = 0.8
SCHEDULE_MAX_EVENT_AGE: Final = Duration.hours(1)  # an older run is superseded by the next one anyway
SCHEDULE_EVENT_SOURCE: Final = "eksmon.schedule"
DLQ_RETENTION: Final = Duration.days(14)

# -- alerts --------------------------------------------------------------------------------------------
TOPIC_DISPLAY_NAME: Final = "eksmon"
KEY_DESCRIPTION: Final = (
    "eksmon: encrypts the findings topic, the findings state table and the dead-letter queues"
)

# Said by `cdk synth` (a warning) and in the stack outputs when neither e-mail nor Slack is configured.
NO_SUBSCRIBER_WARNING_ID: Final = "eksmon:no-subscriber"
NO_SUBSCRIBER: Final = (
    "Nobody is subscribed: findings and alarms go to the SNS topic only. Set notifications.emails or "
    "notifications.slack (workspace_id and channel_id, or webhook_secret_arn) in the eksmon context of "
    "cdk.json (or subscribe to the AlertTopicArn output yourself), deploy, then check the path with "
    "`eksmon notify-test --topic-arn <AlertTopicArn>`."
)

# -- IAM -----------------------------------------------------------------------------------------------
# Read actions that support resource-level permissions, with the ARN pattern to grant them on: one table
# for the monitors, the member role and `eksmon iam-policy` (eksmon/iam_policy.py).
RESOURCE_SCOPED_ACTIONS: Final[dict[str, str]] = _RESOURCE_SCOPED_ACTIONS

# -- alerting: findings state, Slack, dashboard, alarms -------------------------------------------------
ENV_FINDINGS_TABLE: Final = RUNTIME_ENV_FINDINGS_TABLE
ENV_SLACK_WEBHOOK_SECRET_ARN: Final = RUNTIME_ENV_SLACK_WEBHOOK_SECRET_ARN
SLACK_FORWARDER_HANDLER: Final = "eksmon.handlers.slack_forwarder.handler"
SLACK_FORWARDER_TIMEOUT: Final = Duration.seconds(30)
SLACK_FORWARDER_MEMORY_MB: Final = 256
CHATBOT_CONFIGURATION_NAME: Final = "eksmon-alerts"
DASHBOARD_CLUSTERS_MAX: Final = 20  # per-cluster rows; the fleet widgets (SEARCH) show every cluster anyway
ETCD_QUOTA_BYTES: Final = STANDARD_DB_BYTES  # standard mode's etcd limit; eksmon.tiers has every tier's
ETCD_TIER_BYTES: Final = PROVISIONED_DB_BYTES  # a Provisioned Control Plane tier's database
# Seats (API request concurrency) each Provisioned Control Plane tier guarantees; standard: dynamic.
TIER_SEATS: Final[dict[str, int]] = {t.name: t.seats for t in PUBLISHED_TIERS if t.seats is not None}
# EC2 On-Demand vCPU quota classes: AWS/Usage ResourceCount Class=<class>/OnDemand (eksmon/quotas_catalogue.py).
VCPU_USAGE_CLASSES: Final = ("Standard", "G", "P", "Inf", "Trn", "X", "F")
HEARTBEAT_MISSED_RUNS: Final = 2  # no run metric for this many schedule periods: the heartbeat alarm fires
# A monitor whose heartbeat takes longer than this to miss a lost run also alarms on its dead-letter queue
# (within five minutes); a faster one does not pay $0.10 a month for an alarm that only arrives sooner.
HEARTBEAT_FAST_ENOUGH: Final = Duration.hours(2)
ALARM_PERIOD_MAX_SECONDS: Final = 86_400  # CloudWatch alarms: period at most one day
