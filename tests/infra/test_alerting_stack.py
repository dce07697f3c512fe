"""The alerting half of the stack: findings table, topic policy, subscriptions, Slack, dashboard, alarms.

Given the stack synthesised once per session from TEST_SETTINGS (conftest.py; no Slack, no named
clusters) and, once for this module, two more stacks in one app (AWS Chatbot with named clusters, and
the webhook forwarder), when each template is read, then each test checks one property a user relies on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from eksmon.state import OPEN_INDEX, OPEN_KEY, PARTITION_KEY, TTL_ATTRIBUTE
from infra.constants import HANDLER, SLACK_FORWARDER_HANDLER
from tests.infra.support import TEST_SETTINGS, Synthesized, cdk_json_context

pytestmark = pytest.mark.infra

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:eksmon/slack-AbCdEf"
PERIODS = {"lifecycle": 86_400, "quotas": 7_200, "metrics": 300, "kubernetes": 10_800}  # TEST_SETTINGS
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _only(synthesized: Synthesized, kind: str) -> str:
    (found,) = synthesized.resources(kind)
    return found


def _function_id(template: dict[str, Any], handler: str) -> str:
    (found,) = [
        k
        for k, v in template["Resources"].items()
        if v["Type"] == "AWS::Lambda::Function" and v["Properties"]["Handler"] == handler
    ]
    return found


# -- variants: Chatbot and the webhook forwarder ---------------------------------------------------------
@pytest.fixture(scope="module")
def variants(
    tmp_path_factory: pytest.TempPathFactory, plans: list[Any], stub_layer: Path
) -> Iterator[dict[str, Any]]:
    from aws_cdk import App, Validations
    from cdk_nag import AwsSolutionsChecks

    from eksmon.settings import parse_settings
    from infra.stack import EksmonStack

    outdir = tmp_path_factory.mktemp("alerting") / "cdk.out"
    chatbot = json.loads(json.dumps(TEST_SETTINGS))
    chatbot["notifications"]["slack"] = {"workspace_id": "T0123456789", "channel_id": "C0123456789"}
    chatbot["clusters"] = {
        "include": ["payments-prod", "checkout-prod", "dev-*"],
        "exclude": ["checkout-prod"],
    }
    chatbot["regions"] = ["us-east-1", "eu-west-1"]
    webhook = json.loads(json.dumps(TEST_SETTINGS))
    webhook["notifications"]["slack"] = {"webhook_secret_arn": SECRET_ARN}
    webhook["tracing"] = True  # the opt-in: X-Ray on every function, and cdk-nag still clean
    chatbot_only = json.loads(json.dumps(chatbot))
    chatbot_only["notifications"]["emails"] = []
    app = App(outdir=str(outdir), context=cdk_json_context())
    configurations = {"Chatbot": chatbot, "Webhook": webhook, "Quiet": {}, "ChatbotOnly": chatbot_only}
    stacks = {
        name: EksmonStack(app, name, settings=parse_settings(cfg), monitors=plans, layer_dir=stub_layer)
        for name, cfg in configurations.items()
    }
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    yield {
        name: json.loads((outdir / f"{name}.template.json").read_text(encoding="utf-8"))
        for name in configurations
    } | {
        "report": json.loads((outdir / "validation-report.json").read_text(encoding="utf-8")),
        "stacks": stacks,
    }


# -- findings table --------------------------------------------------------------------------------------
def test_the_findings_table_is_encrypted_recoverable_and_expires_resolved_findings(
    template: Any, synthesized: Synthesized
) -> None:
    key = _only(synthesized, "AWS::KMS::Key")
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {
                "SSEEnabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": {"Fn::GetAtt": [key, "Arn"]},
            },
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": OPEN_INDEX,
                    "KeySchema": [
                        {"AttributeName": OPEN_KEY, "KeyType": "HASH"},
                        {"AttributeName": PARTITION_KEY, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        },
    )


def test_every_monitor_reads_and_writes_the_table_and_knows_its_name(
    template: Any, synthesized: Synthesized, plans: list[Any]
) -> None:
    table = _only(synthesized, "AWS::DynamoDB::Table")
    for plan in plans:
        function = synthesized.template["Resources"][
            _function_id(synthesized.template, HANDLER.format(monitor=plan.monitor))
        ]
        assert function["Properties"]["Environment"]["Variables"]["FINDINGS_TABLE"] == {"Ref": table}
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = [
            s
            for p in synthesized.resources("AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        (state,) = [s for s in statements if s.get("Sid") == "FindingsState"]
        assert sorted(state["Action"]) == ["dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:UpdateItem"]
        assert state["Resource"][0] == {"Fn::GetAtt": [table, "Arn"]}
        assert OPEN_INDEX in json.dumps(state["Resource"][1])  # that one index, no wildcard


# -- topic -----------------------------------------------------------------------------------------------
def test_cloudwatch_alarms_of_this_account_may_publish_to_the_encrypted_topic(template: Any) -> None:
    conditions = {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": Match.any_value()},
    }
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "CloudWatchAlarmsPublish",
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": "sns:Publish",
                                "Condition": conditions,
                            }
                        )
                    ]
                )
            }
        },
    )
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "CloudWatchAlarmsEncrypt",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                                "Condition": conditions,
                            }
                        )
                    ]
                )
            }
        },
    )


def test_without_slack_the_topic_has_only_the_email_subscriptions(template: Any) -> None:
    template.resource_count_is("AWS::SNS::Subscription", len(TEST_SETTINGS["notifications"]["emails"]))
    template.resource_count_is("AWS::Chatbot::SlackChannelConfiguration", 0)


# -- Slack -----------------------------------------------------------------------------------------------
def test_chatbot_posts_the_topic_to_the_configured_channel_and_can_do_nothing_else(
    variants: dict[str, Any],
) -> None:
    t = Template.from_json(variants["Chatbot"])
    t.has_resource_properties(
        "AWS::Chatbot::SlackChannelConfiguration",
        {
            "SlackWorkspaceId": "T0123456789",
            "SlackChannelId": "C0123456789",
            "SnsTopicArns": [{"Ref": Match.any_value()}],
            "GuardrailPolicies": [{"Ref": Match.any_value()}],
        },
    )
    t.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {"PolicyDocument": {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}},
    )
    assert not [
        v
        for v in variants["Chatbot"]["Resources"].values()
        if v["Type"] == "AWS::Lambda::Function" and v["Properties"]["Handler"] == SLACK_FORWARDER_HANDLER
    ]


def test_the_webhook_forwarder_subscribes_and_reads_only_its_secret(variants: dict[str, Any]) -> None:
    template = variants["Webhook"]
    t = Template.from_json(template)
    forwarder = _function_id(template, SLACK_FORWARDER_HANDLER)
    t.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "lambda", "Endpoint": {"Fn::GetAtt": [forwarder, "Arn"]}}
    )
    props = template["Resources"][forwarder]["Properties"]
    assert props["Environment"]["Variables"]["SLACK_WEBHOOK_SECRET_ARN"] == SECRET_ARN
    assert "hooks.slack.com" not in json.dumps(template)  # the URL is in the secret, never in the stack
    assert "DeadLetterConfig" in props
    t.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": "ReadWebhookSecret",
                            "Effect": "Allow",
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": SECRET_ARN,
                        }
                    ]
                )
            }
        },
    )
    t.resource_count_is("AWS::Chatbot::SlackChannelConfiguration", 0)
    alarmed = json.dumps([v for v in template["Resources"].values() if v["Type"] == "AWS::CloudWatch::Alarm"])
    assert forwarder in alarmed  # its errors are alarmed like the monitors'


def test_both_variants_pass_cdk_nag(variants: dict[str, Any]) -> None:
    (report,) = [r for r in variants["report"]["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert report["violations"] == [], [v["ruleName"] for v in report["violations"]]


# -- who is notified ---------------------------------------------------------------------------------------
def test_nobody_subscribed_is_a_synth_warning_and_a_stack_output_naming_the_settings(
    variants: dict[str, Any],
) -> None:
    """Given no e-mail and no Slack (the shipped cdk.json), when the stack is synthesized, then `cdk synth`
    warns and the deploy's outputs say so, naming the settings to set and `eksmon notify-test`."""
    from aws_cdk.assertions import Annotations

    said = Match.string_like_regexp(
        r"Nobody is subscribed.*notifications\.emails.*notifications\.slack.*cdk\.json.*eksmon notify-test"
    )
    Annotations.from_stack(variants["stacks"]["Quiet"]).has_warning("*", said)
    Template.from_json(variants["Quiet"]).has_output("Notifications", {"Value": said})


@pytest.mark.parametrize(
    ("name", "says"),
    [("Chatbot", "2 e-mail address"), ("Webhook", "incoming webhook"), ("ChatbotOnly", "Chatbot")],
)
def test_with_a_subscriber_there_is_no_warning_and_the_output_names_who(
    variants: dict[str, Any], name: str, says: str
) -> None:
    from aws_cdk.assertions import Annotations

    Annotations.from_stack(variants["stacks"][name]).has_no_warning("*", Match.any_value())
    output = Template.from_json(variants[name]).find_outputs("Notifications")["Notifications"]["Value"]
    assert says in output and "eksmon notify-test" in output and "Nobody" not in output


def test_without_a_subscription_there_is_no_delivery_queue_to_pay_for(variants: dict[str, Any]) -> None:
    for name in ("Quiet", "ChatbotOnly"):  # Chatbot subscribes itself: no AWS::SNS::Subscription
        t = Template.from_json(variants[name])
        t.resource_count_is("AWS::SNS::Subscription", 0)
        t.resource_properties_count_is("AWS::SQS::Queue", {"SqsManagedSseEnabled": True}, 0)


# -- nothing lost in delivery ------------------------------------------------------------------------------
def _delivery_queue(template: dict[str, Any]) -> str:
    (queue,) = {
        json.dumps(v["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for v in template["Resources"].values()
        if v["Type"] == "AWS::SNS::Subscription"
    }
    logical: str = json.loads(queue)["Fn::GetAtt"][0]
    return logical


@pytest.mark.parametrize("variant", ["session", "Webhook", "Chatbot"])
def test_every_subscription_redrives_to_an_encrypted_tls_only_queue_that_alarms(
    variant: str, variants: dict[str, Any], synthesized: Synthesized
) -> None:
    """Each subscription the stack makes (e-mails; the Slack forwarder) has a redrive policy to one
    encrypted, TLS-only queue that only this topic's SNS deliveries may write to, and a message there
    raises an alarm (ApproximateNumberOfMessagesVisible > 0) to the topic, like every other alarm."""
    template = synthesized.template if variant == "session" else variants[variant]
    resources = template["Resources"]
    subscriptions = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::SNS::Subscription"]
    assert subscriptions and all("RedrivePolicy" in s for s in subscriptions)
    queue = _delivery_queue(template)
    assert resources[queue]["Properties"]["SqsManagedSseEnabled"] is True
    (topic,) = [k for k, v in resources.items() if v["Type"] == "AWS::SNS::Topic"]
    (policy,) = [
        v["Properties"]["PolicyDocument"]["Statement"]
        for v in resources.values()
        if v["Type"] == "AWS::SQS::QueuePolicy" and v["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    assert {
        "Action": "sqs:SendMessage",
        "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": topic}}},
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Resource": {"Fn::GetAtt": [queue, "Arn"]},
    } in policy
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy
    )
    (alarm,) = [
        v["Properties"]
        for v in resources.values()
        if v["Type"] == "AWS::CloudWatch::Alarm"
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
        in v["Properties"]["Dimensions"]
    ]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1
    assert alarm["AlarmActions"] == [{"Ref": topic}]
    assert "could not be delivered" in alarm["AlarmDescription"]


def test_the_chatbot_channels_log_group_keeps_its_logs_a_month_like_the_others(
    variants: dict[str, Any],
) -> None:
    Template.from_json(variants["Chatbot"]).has_resource_properties(
        "Custom::LogRetention",
        {"LogGroupName": "/aws/chatbot/eksmon-alerts", "LogGroupRegion": "us-east-1", "RetentionInDays": 30},
    )
    retention = {
        v["Properties"]["RetentionInDays"]
        for v in variants["Chatbot"]["Resources"].values()
        if v["Type"] == "AWS::Logs::LogGroup"
    }
    assert retention == {30}


# -- alarms ----------------------------------------------------------------------------------------------
def _alarms(synthesized: Synthesized) -> list[dict[str, Any]]:
    return [v["Properties"] for v in synthesized.resources("AWS::CloudWatch::Alarm").values()]


def _monitor_of(alarm: dict[str, Any]) -> str | None:
    return next((d["Value"] for d in alarm.get("Dimensions", []) if d["Name"] == "Monitor"), None)


def test_a_heartbeat_per_monitor_breaches_after_two_silent_periods(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    beats = {_monitor_of(a): a for a in _alarms(synthesized) if a.get("Statistic") == "SampleCount"}
    assert set(beats) == {p.monitor for p in plans}
    for monitor, alarm in beats.items():
        assert alarm["Namespace"] == "EKSMonitor" and alarm["MetricName"] == "OpenFindings"
        assert alarm["Period"] == PERIODS[monitor]  # the schedule's period (cron counts as a day)
        assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 2
        assert alarm["TreatMissingData"] == "breaching"
        assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["Threshold"] == 1
        assert {"Name": "service", "Value": "eksmon"} in alarm["Dimensions"]  # as the EMF records carry it


def test_each_monitor_alarms_on_an_open_critical_finding_straight_to_the_topic(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    topic = _only(synthesized, "AWS::SNS::Topic")
    assert synthesized.resources("AWS::CloudWatch::CompositeAlarm") == {}  # $0.50 a month for nothing new
    critical = {
        _monitor_of(a): a for a in _alarms(synthesized) if a.get("Statistic") == "Maximum" and _monitor_of(a)
    }
    assert set(critical) == {p.monitor for p in plans}
    for alarm in critical.values():
        assert {"Name": "Severity", "Value": "critical"} in alarm["Dimensions"]
        assert alarm["TreatMissingData"] == "ignore"  # no flapping between runs
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic}]


def test_critical_heartbeat_and_dead_letters_where_the_heartbeat_is_slow(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    """A lost run (failed for good, throttled past its retries, cut at the timeout, or never delivered)
    lands in the queue: no Errors, Throttles or Duration alarm. The queue alarms only for monitors whose
    heartbeat needs more than 2 hours to notice (TEST_SETTINGS: lifecycle daily, quotas and kubernetes
    every 2 and 3 hours; metrics every 5 minutes)."""
    topic = _only(synthesized, "AWS::SNS::Topic")
    alarms = _alarms(synthesized)
    own = [a for a in alarms if a.get("Namespace") == "EKSMonitor"]
    queued = [a for a in alarms if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"]
    lost = [a for a in queued if "runs were lost" in a["AlarmDescription"]]
    slow = {m for m, seconds in PERIODS.items() if 2 * seconds > 7200} & {p.monitor for p in plans}
    assert len(own) == 2 * len(plans) and len(lost) == len(slow) == 3
    assert all(
        m in a["AlarmDescription"]
        for a, m in zip(sorted(lost, key=lambda a: a["AlarmDescription"]), sorted(slow), strict=True)
    )
    undelivered = 1  # the subscriptions' dead-letter queue (TEST_SETTINGS has e-mails)
    assert len(queued) == len(lost) + undelivered
    assert len(alarms) == 2 * len(plans) + len(slow) + undelivered
    assert not [a for a in alarms if a.get("Namespace") == "AWS/Lambda"]
    assert all(a["AlarmActions"] == [{"Ref": topic}] for a in alarms)


def test_the_slack_forwarder_has_no_heartbeat_so_it_keeps_errors_and_dead_letter_alarms(
    variants: dict[str, Any],
) -> None:
    alarms = [
        v["Properties"]
        for v in variants["Webhook"]["Resources"].values()
        if v["Type"] == "AWS::CloudWatch::Alarm"
    ]
    names = sorted(a["MetricName"] for a in alarms if "slack-forwarder" in a["AlarmDescription"])
    assert names == ["ApproximateNumberOfMessagesVisible", "Errors"]


# -- the alarms against what a run really writes ----------------------------------------------------------
def _emf(findings: list[Any], monitor: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The EMF records one run of ``monitor`` writes for these findings (the runner's own code path)."""
    from eksmon.publish.metrics import emit, monitor_points
    from tests.unit.alerting_builders import result

    capsys.readouterr()
    emit(monitor_points(monitor, result(findings, NOW), NOW))  # type: ignore[arg-type]
    return [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]


def _state(alarm: dict[str, Any], runs: dict[int, list[dict[str, Any]]], at: int) -> str:
    """CloudWatch's verdict at second ``at`` for an alarm on one metric, given the EMF records each
    run (keyed by its second) wrote: the series is the one whose namespace, name and dimension set
    match exactly, as CloudWatch identifies a metric."""
    want = {(d["Name"], d["Value"]) for d in alarm["Dimensions"]}
    period, n = alarm["Period"], alarm["EvaluationPeriods"]
    buckets: dict[int, list[float]] = {}
    for second, records in runs.items():
        for r in records:
            directive = r["_aws"]["CloudWatchMetrics"][0]
            names = {m["Name"] for m in directive["Metrics"]}
            dims = {(k, r[k]) for k in directive["Dimensions"][0]}
            if directive["Namespace"] == alarm["Namespace"] and alarm["MetricName"] in names and dims == want:
                value = r[alarm["MetricName"]]
                buckets.setdefault(second // period, []).extend(value if isinstance(value, list) else [value])
    stat = {"Maximum": max, "SampleCount": len}[alarm["Statistic"]]
    breaching = {
        "GreaterThanOrEqualToThreshold": lambda v: v >= alarm["Threshold"],
        "LessThanThreshold": lambda v: v < alarm["Threshold"],
    }[alarm["ComparisonOperator"]]
    votes: list[bool] = []
    for b in range(at // period - n, at // period):
        if b in buckets:
            votes.append(breaching(stat(buckets[b])))
        elif alarm["TreatMissingData"] == "breaching":
            votes.append(True)
        elif alarm["TreatMissingData"] == "notBreaching":
            votes.append(False)
    if not votes:
        return "INSUFFICIENT_DATA"  # "ignore": the state stays as it was
    return "ALARM" if sum(votes) >= alarm.get("DatapointsToAlarm", n) else "OK"


def test_the_critical_and_heartbeat_alarms_fire_on_what_a_run_writes(
    synthesized: Synthesized, capsys: pytest.CaptureFixture[str]
) -> None:
    from eksmon.models import Severity
    from tests.unit.alerting_builders import finding

    monitor = "metrics"
    period = PERIODS[monitor]
    alarms = [a for a in _alarms(synthesized) if a.get("Dimensions") and _monitor_of(a) == monitor]
    (critical,) = [a for a in alarms if a["Statistic"] == "Maximum"]
    (heartbeat,) = [a for a in alarms if a["Statistic"] == "SampleCount"]
    calm = _emf([finding(severity=Severity.WARNING)], monitor, capsys)
    alarming = _emf([finding(severity=Severity.CRITICAL)], monitor, capsys)

    every_run = {k * period: calm for k in range(10)}
    assert _state(critical, every_run, 10 * period) == "OK"
    assert _state(heartbeat, every_run, 10 * period) == "OK"
    assert _state(critical, {**every_run, 9 * period: alarming}, 10 * period) == "ALARM"
    silent = {k * period: calm for k in range(8)}  # no run in the last two periods
    assert _state(heartbeat, silent, 10 * period) == "ALARM"
    assert _state(heartbeat, {**silent, 9 * period: calm}, 10 * period) == "OK"  # one missed run is fine


def test_tracing_true_turns_on_x_ray_for_every_function(variants: dict[str, Any], plans: list[Any]) -> None:
    template = variants["Webhook"]  # deployed with `tracing: true`
    handlers = [HANDLER.format(monitor=p.monitor) for p in plans] + [SLACK_FORWARDER_HANDLER]
    for handler in handlers:
        function = template["Resources"][_function_id(template, handler)]["Properties"]
        assert function["TracingConfig"] == {"Mode": "Active"}, handler
        assert function["Environment"]["Variables"]["EKSMON_TRACING"] == "true", handler
    chatbot = variants["Chatbot"]  # the default: no tracing
    for handler in handlers[:-1]:
        function = chatbot["Resources"][_function_id(chatbot, handler)]["Properties"]
        assert (
            "TracingConfig" not in function and "EKSMON_TRACING" not in function["Environment"]["Variables"]
        )


# -- dashboard -------------------------------------------------------------------------------------------
def _dashboard(template: dict[str, Any]) -> str:
    (body,) = [
        v["Properties"]["DashboardBody"]
        for v in template["Resources"].values()
        if v["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    return "".join(p if isinstance(p, str) else json.dumps(p) for p in body["Fn::Join"][1])


def test_the_dashboard_shows_the_fleet(synthesized: Synthesized) -> None:
    body = _dashboard(synthesized.template)
    for title in (
        "Open findings by severity",
        "Top 10 counted quotas by utilisation (%)",
        "EC2 On-Demand vCPU quotas used (%), AWS/Usage",
        "Scheduled runs healthy?",
        "Run duration (ms), per monitor (AWS/Lambda)",
        "etcd size, every cluster (AWS/EKS",
        "Days to end of standard support, every cluster",
        "apiserver 5xx, every cluster (AWS/EKS)",
        "Pods waiting in the scheduler's active queue, every cluster (AWS/EKS)",
    ):
        assert title in body
    assert 'MetricName=\\"scheduler_pending_pods_ACTIVEQ\\"' in body  # never _GATED: held on purpose
    assert "scheduler_pending_pods_GATED" not in body
    assert 'MetricName=\\"QuotaUtilization\\"' in body and "SORT(SEARCH(" in body
    assert '"type":"alarm"' in body and "8 GiB quota" in body and "8589934592" in body
    assert "SERVICE_QUOTA(" in body and '"AWS/Usage","ResourceCount"' in body  # free: no custom metric
    assert "{EKSMonitor,Account,QuotaCode,Region,Service,service}" in body  # the dimensions published


def test_the_dashboard_has_a_row_per_named_cluster(variants: dict[str, Any]) -> None:
    body = _dashboard(variants["Chatbot"])
    for widget in (
        "etcd size vs its limit",
        "seats in use vs tier capacity",
        "control-plane tier, days to end of standard support",
        "apiserver 5xx and 429",
        "apiserver p99 latency (s)",
        "admission webhook rejections",
    ):
        assert f"payments-prod: {widget}" in body
    assert "checkout-prod:" not in body  # excluded
    assert "dev-*" not in body.split("Clusters with their own row")[1][:80]  # a pattern is not a cluster
    for metric in (
        "apiserver_storage_size_bytes",
        "apiserver_flowcontrol_current_executing_seats",
        "apiserver_request_total_5XX",
        "apiserver_request_total_429",
        "apiserver_request_duration_seconds_LIST_P99",
        "apiserver_admission_webhook_rejection_count",
    ):
        assert f'["AWS/EKS","{metric}","ClusterName","payments-prod"' in body
    assert '"region":"eu-west-1"' in body  # each configured region's vended metrics
    assert "16 GiB (Provisioned Control Plane tier)" in body and "tier-xl capacity" in body
    assert "{EKSMonitor,Account,ClusterName,Region,Tier,service}" in body and "PROP('Dim.Tier')" in body
    assert 'ClusterName=\\"payments-prod\\"' in body  # its support countdown, whatever account and region


# -- the rules behind them (no synth) --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(15 minutes)", 900),
        ("rate(1 minute)", 60),
        ("rate(6 hours)", 21_600),
        ("rate(1 day)", 86_400),
        ("rate(3 days)", 86_400),  # CloudWatch alarm periods stop at a day
        ("cron(0 6 * * ? *)", 86_400),  # no fixed interval: counted as daily, so never early
    ],
)
def test_heartbeat_period_follows_the_schedule(expression: str, seconds: int) -> None:
    from infra.constructs.alarms import schedule_period

    assert schedule_period(expression).to_seconds() == seconds


def test_dashboard_rows_are_for_named_clusters_only() -> None:
    from eksmon.settings import parse_settings
    from infra.constructs.dashboard import dashboard_clusters

    settings = parse_settings({"clusters": {"include": ["b", "a", "prod-*", "c?", "a"], "exclude": ["b"]}})
    assert dashboard_clusters(settings) == ["a"]
    assert dashboard_clusters(parse_settings({})) == []  # the default "*": the fleet widgets show them all
