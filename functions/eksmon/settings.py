"""One configuration schema for the CLI's ``--config`` YAML, the CDK context in cdk.json and the Lambdas.

Every error names the key that is wrong (``checks.thresholds.etcd.db_size.warning_percent``),
unknown keys are errors, and an empty document is a working configuration of the current region.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from eksmon.clusterfilter import parse as parse_pattern
from eksmon.environment import ENV_CONFIG
from eksmon.errors import ConfigError
from eksmon.registry import MONITORS, CheckSpec, Thresholds, load

AccountId = Annotated[str, Field(pattern=r"^\d{12}$")]
_SCHEDULE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_RATE_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
# The CloudWatch checks' window: the time since the previous run (eksmon scan --window, the metrics schedule)
DEFAULT_WINDOW_MINUTES = 60
MAX_WINDOW_MINUTES = 1440


def rate_minutes(expression: str) -> int | None:
    """The period of a ``rate(...)`` schedule in minutes; None for ``cron(...)`` (no fixed period)."""
    found = _RATE.match(expression)
    return int(found.group(1)) * _RATE_MINUTES[found.group(2).rstrip("s")] if found else None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountsSettings(_Model):
    ids: list[AccountId] = Field(default_factory=list, description="member accounts to scan; empty: this one")
    role_name: str = Field("eksmon-reader", description="role the monitor assumes in each member account")
    trusted_principal_arns: list[
        Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$")]
    ] = Field(
        default_factory=list,
        description="IAM roles or users (an SSO role, a CI role) the member role also trusts, so that "
        "`eksmon scan` run by them reaches the member accounts",
    )
    organization: bool = Field(False, description="discover every ACTIVE account of the AWS Organization")
    exclude: list[AccountId] = Field(default_factory=list)
    organizational_units: list[
        Annotated[str, Field(pattern=r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[0-9a-z]{8,32})$")]
    ] = Field(
        default_factory=list,
        description="organization mode: the root (r-...) or OUs the CDK app deploys the member role to "
        "as a service-managed StackSet; empty: no StackSet (deploy the EksMonitorReader template yourself)",
    )

    @model_validator(mode="after")
    def _units_need_organization(self) -> AccountsSettings:
        if self.organizational_units and not self.organization:
            raise ValueError("organizational_units: only with organization: true")
        return self


class FanoutSettings(_Model):
    """Scanning a fleet larger than one invocation can cover: a Step Functions Map over partitions."""

    # 50 pairs, measured (bench/bench_fleet_scale.py, README "Fleet scale"): a scan costs 13-21 ms of CPU
    # per cluster on one core (10.5 AWS calls of 1.3-2.1 ms, depending on the machine's speed), and its AWS
    # I/O overlaps across pairs, so a monitor Lambda (512 MB: about 0.3 vCPU, 5 min) is CPU-bound at 45-70
    # ms per cluster: 3,400-5,300 clusters in the 240 s before its publishing margin. 50 pairs of a typical
    # 10-20 clusters (500-1,000) take well under a third of that; busier pairs are bounded by
    # max_clusters_per_invocation below. The deadline keeps even an oversized partition's findings
    # (unfinished sources reported).
    max_targets_per_invocation: int = Field(
        50, ge=1, le=10_000, description="account+region pairs one Lambda invocation scans (eksmon.partition)"
    )
    # None: eksmon.partition.clusters_per_invocation of the function's memory and timeout (1,593 clusters
    # for a 512 MB, 5-minute function; 3,617 for 1,024 MB), so that a partition stays within both.
    max_clusters_per_invocation: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="clusters one Lambda invocation scans; the plan counts them (eksmon.cluster_count). "
        "Default: derived from the function's memory and timeout (eksmon.partition)",
    )
    max_concurrency: int = Field(10, ge=1, le=100, description="partitions scanned at once")


class ClusterFilter(_Model):
    include: list[str] = Field(
        default_factory=lambda: ["*"], description="cluster names, globs of names, or cluster ARNs"
    )
    exclude: list[str] = Field(default_factory=list)

    @field_validator("include", "exclude")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for text in value:
            parse_pattern(text)  # an ARN that is not an EKS cluster's is an error, not a pattern
        return value


class KubernetesVpc(_Model):
    """Where the monitors that read the Kubernetes API run, for clusters whose endpoint is private only."""

    subnet_ids: list[str] = Field(min_length=1, description="private subnets with a route to the AWS APIs")
    security_group_ids: list[str] = Field(default_factory=list)
    vpc_id: str | None = Field(
        None, pattern=r"^vpc-[0-9a-f]{8,17}$", description="to create a security group"
    )

    @model_validator(mode="after")
    def _ids(self) -> KubernetesVpc:
        for subnet in self.subnet_ids:
            if not re.fullmatch(r"subnet-[0-9a-f]{8,17}", subnet):
                raise ValueError(f"subnet_ids: {subnet!r} is not a subnet id")
        for group in self.security_group_ids:
            if not re.fullmatch(r"sg-[0-9a-f]{8,17}", group):
                raise ValueError(f"security_group_ids: {group!r} is not a security group id")
        if not self.security_group_ids and self.vpc_id is None:
            raise ValueError("give security_group_ids, or vpc_id to let the stack create a security group")
        return self


class KubernetesSettings(_Model):
    enabled: bool = Field(True, description="read the Kubernetes API of each cluster")
    vpc: KubernetesVpc | None = Field(None, description="deployed only: run the Kubernetes readers in a VPC")
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    exec_timeout_seconds: float | None = Field(
        None,
        gt=0,
        le=300,
        description="how long a kubeconfig user's exec credential plugin may run (default: "
        "timeout_seconds + 5: a plugin that refreshes its credentials makes a request of its own, "
        "plus its interpreter's start); never past the scan's deadline",
    )
    page_size: int = Field(500, ge=10, le=5000)
    max_list_pages: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="pages one Kubernetes list may take before it is abandoned as endless "
        "(a repeated continue token ends it at once)",
    )

    @property
    def plugin_timeout(self) -> float:
        """``exec_timeout_seconds``, or a few seconds above the request timeout when it is not set."""
        return self.exec_timeout_seconds or self.timeout_seconds + 5


class SlackSettings(_Model):
    workspace_id: str | None = Field(None, description="AWS Chatbot Slack workspace (team) id")
    channel_id: str | None = None
    webhook_secret_arn: str | None = Field(
        None, description="Secrets Manager secret holding an incoming webhook URL"
    )

    @model_validator(mode="after")
    def _one_way(self) -> SlackSettings:
        chatbot = self.workspace_id is not None or self.channel_id is not None
        if chatbot and (self.workspace_id is None or self.channel_id is None):
            raise ValueError("workspace_id and channel_id go together")
        if chatbot and self.webhook_secret_arn:
            raise ValueError("choose AWS Chatbot (workspace_id, channel_id) or a webhook, not both")
        return self


class NotificationSettings(_Model):
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(default_factory=list)
    slack: SlackSettings | None = None
    renotify_days: float = Field(7.0, gt=0, description="re-send a still-open finding after this many days")
    min_severity: Literal["critical", "warning", "info"] = Field(
        "warning",
        description="the lowest severity sent; info findings show in reports and `eksmon scan`, not in inboxes",
    )


class Schedules(_Model):
    lifecycle: str = "rate(1 day)"
    quotas: str = "rate(6 hours)"
    metrics: str = "rate(1 hour)"
    kubernetes: str = "rate(1 hour)"
    window_minutes: int | None = Field(
        None,
        ge=1,
        le=MAX_WINDOW_MINUTES,
        description="minutes of CloudWatch data the metrics monitor's checks read each run (all the time "
        "since the previous run); default: the period of `metrics`; required when `metrics` is a cron(...)",
    )

    @field_validator("lifecycle", "quotas", "metrics", "kubernetes")
    @classmethod
    def _expression(cls, value: str) -> str:
        if not _SCHEDULE.match(value):
            raise ValueError(f"{value!r} is not an EventBridge Scheduler rate(...) or cron(...) expression")
        return value

    @model_validator(mode="after")
    def _window(self) -> Schedules:
        # A cron's runs need not be evenly spaced (weekdays only, business hours): eksmon does not guess
        # the longest gap between two of them, the user says it.
        period = rate_minutes(self.metrics)
        if self.window_minutes is None and period is None:
            raise ValueError(
                f"metrics: {self.metrics} has no fixed period, and the metrics monitor reads all the time "
                "since its previous run: set schedules.window_minutes to the longest time between two of "
                "its runs, in minutes, or schedule it with rate(...)"
            )
        if self.window_minutes is None and period is not None and period > MAX_WINDOW_MINUTES:
            raise ValueError(
                f"metrics: {self.metrics} runs less often than daily, and the metrics monitor reads at most "
                f"{MAX_WINDOW_MINUTES} minutes (a day) of CloudWatch data a run: schedule it at least daily"
            )
        if self.window_minutes is not None and period is not None and self.window_minutes < period:
            raise ValueError(
                f"window_minutes: {self.window_minutes} is shorter than the period of metrics "
                f"({self.metrics}, {period} minutes): {period - self.window_minutes} minutes of each period "
                "would never be evaluated; leave it unset to read the whole period"
            )
        return self

    def metrics_window(self) -> int:
        """Minutes the metrics monitor's CloudWatch checks read each run: the time since its previous run."""
        if self.window_minutes is not None:
            return self.window_minutes
        period = rate_minutes(self.metrics)
        return period if period is not None else DEFAULT_WINDOW_MINUTES  # cron: refused by _window


class AwsSettings(_Model):
    """How eksmon talks to AWS (eksmon.aws): limits per account and region, time budgets, bounds."""

    retry_mode: Literal["adaptive", "standard"] = Field(
        "adaptive", description="botocore's retry mode; adaptive paces each account+region's client"
    )
    max_attempts: int = Field(
        3,
        ge=1,
        le=20,
        description="botocore's attempts per call for a transient error (5xx, dropped connection, read "
        "timeout): 3, as the SDKs' standard retry mode makes; throttling goes on under the throttle budgets",
    )
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(20.0, gt=0)
    # AWS validates every request and answers a bad one with a ValidationException, which a collector
    # reports like any failed read; botocore's client-side check walks every parameter against the model
    # again, 2-4 % of a scan's CPU (bench/README.md, "Fleet scale"). eksmon's requests are fixed by its
    # code, and tests/integration/test_request_validation.py validates every one the demo scan makes.
    validate_parameters: bool = Field(
        False,
        description="botocore's client-side parameter validation (AWS validates every request itself)",
    )
    max_in_flight_per_region: int = Field(
        10, ge=1, le=100, description="AWS requests in flight at once per account and region"
    )
    # 100: ten regions at their full 10 each. At 64 the fleet bench (500 clusters, 10 regions, 50 ms) had
    # 64 requests in flight most of the scan while the scanner's CPU idled a third of the time; 100
    # threads took it from 7.5-7.7 s to 6.7-6.8 s (alternating runs), 128 no further. Workers start only
    # when a task is ready, so a smaller fleet starts fewer.
    max_threads: int = Field(
        100, ge=1, le=512, description="threads of one scan across every account and region"
    )
    single_cpu: bool = Field(
        True,
        description="run a scan's threads on one CPU (Linux): they take turns holding one interpreter lock, "
        "and handing it between CPUs cost the fleet bench a third more CPU",
    )
    max_pages: int = Field(
        200,
        ge=1,
        le=100_000,
        description="pages of one list before it counts as endless (a collection error for that source)",
    )
    # a call's budget includes its waits in the adaptive rate limiter's queue, which a minute-long storm
    # shared by a region's threads makes long (the bench's storm lost a ListInsights at 30 s)
    throttle_budget_seconds: float = Field(
        90.0, ge=0, le=900, description="how long one call may go on being throttled before it fails"
    )
    critical_throttle_budget_seconds: float = Field(
        120.0,
        ge=0,
        le=900,
        description="the same for the calls everything else waits on (ListClusters, DescribeCluster)",
    )
    scan_timeout_seconds: float = Field(
        600.0, gt=0, le=86_400, description="a scan's deadline (the CLI's --timeout overrides it)"
    )
    publish_margin_seconds: float = Field(
        60.0,
        ge=0,
        le=600,
        description="Lambda: the scan ends this long before the invocation's timeout, to publish",
    )
    run_time_warning_percent: float = Field(
        80.0,
        description="a scan whose collection takes more than this share of its time budget (the Lambda's "
        "time left minus publish_margin_seconds, at most scan_timeout_seconds; the CLI's --timeout) raises "
        "monitor.run_time; 100: only a scan the deadline cut",
    )

    @field_validator("run_time_warning_percent")
    @classmethod
    def _percent(cls, value: float) -> float:
        if not 1 <= value <= 100:
            raise ValueError(
                f"{value:g} is not a percent in 1..100 (the share of a scan's time budget above which the "
                "run warns with monitor.run_time; default 80)"
            )
        return value


class ChecksSettings(_Model):
    disabled: list[str] = Field(default_factory=list)
    thresholds: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Settings(_Model):
    regions: list[str] = Field(default_factory=list, description="empty: the current region")
    accounts: AccountsSettings = AccountsSettings()
    clusters: ClusterFilter = ClusterFilter()
    checks: ChecksSettings = ChecksSettings()
    kubernetes: KubernetesSettings = KubernetesSettings()
    notifications: NotificationSettings = NotificationSettings()
    schedules: Schedules = Schedules()
    aws: AwsSettings = AwsSettings()
    fanout: FanoutSettings = FanoutSettings()
    tracing: bool = Field(
        False,
        description="AWS X-Ray active tracing of the deployed functions and the fan-out state machine "
        "(loads the X-Ray SDK in each cold start)",
    )

    @model_validator(mode="before")
    @classmethod
    def _replaced_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "max_workers" in data:
            raise ValueError(
                "max_workers: replaced by aws.max_in_flight_per_region (requests at once per account and "
                "region, default 10) and aws.max_threads (the whole scan, default 100)"
            )
        return data

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for region in value:
            if not _REGION.match(region):
                raise ValueError(f"{region!r} is not an AWS region name")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _checks_exist(self) -> Settings:
        registry = load()
        for check_id in self.checks.disabled:
            if check_id not in registry.checks:
                raise ValueError(f"checks.disabled: unknown check id {check_id!r}")
        for check_id, values in self.checks.thresholds.items():
            spec = registry.checks.get(check_id)
            if spec is None:
                raise ValueError(f"checks.thresholds: unknown check id {check_id!r}")
            try:
                spec.thresholds.model_validate(values)
            except ValidationError as exc:
                raise ValueError(_describe(exc, prefix=f"checks.thresholds.{check_id}")) from None
        return self

    def thresholds_for(self, spec: CheckSpec) -> Thresholds:
        return spec.thresholds.model_validate(self.checks.thresholds.get(spec.id, {}))

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)


def _describe(exc: ValidationError, prefix: str = "") -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after"))
        key = ".".join(p for p in (prefix, loc) if p)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{key}: {message}" if key else message)
    return "; ".join(lines)


def parse_settings(data: Any, source: str = "configuration") -> Settings:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of keys, not {type(data).__name__}")
    try:
        return Settings.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None


def load_settings(path: str | Path | None) -> Settings:
    """Settings from a YAML file (``--config``); no file means the defaults."""
    if path is None:
        return parse_settings({})
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the configuration file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "save the configuration as UTF-8 YAML"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from None
    return parse_settings(data, source=str(file))


def settings_from_json(text: str, source: str = ENV_CONFIG) -> Settings:
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON: {exc}") from None
    return parse_settings(data, source=source)


__all__ = [
    "DEFAULT_WINDOW_MINUTES",
    "MAX_WINDOW_MINUTES",
    "MONITORS",
    "ConfigError",
    "Settings",
    "load_settings",
    "parse_settings",
    "rate_minutes",
    "settings_from_json",
]
