"""The synthesised EksMonitor stack: functions, schedules, dead-letter queues, topic and IAM.

Given the app built from TEST_SETTINGS and the real check registry (conftest.py),
when it is synthesised once, then each test reads one property of the template.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra.constants import HANDLER, LAMBDA_SIZES, MONITOR_RETRY_ATTEMPTS, RESOURCE_SCOPED_ACTIONS
from tests.infra.support import STACK, TEST_SETTINGS, Synthesized

pytestmark = pytest.mark.infra

# What every function's role holds besides the registry's read actions.
BASE_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sns:Publish",
    "kms:GenerateDataKey",
    "kms:Decrypt",
    # failed runs go to the monitor's dead-letter queue (its on-failure destination)
    "sqs:SendMessage",
    # the findings state table (eksmon.state): conditional updates, consistent batch reads, the open index
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
    "kms:Encrypt",
    "kms:DescribeKey",
}
ACCOUNT_ACTIONS = {"sts:AssumeRole", "organizations:ListAccounts"}


def _function_id(synthesized: Synthesized, plan: Any) -> str:
    handler = HANDLER.format(monitor=plan.monitor)
    (found,) = [
        k
        for k, v in synthesized.resources("AWS::Lambda::Function").items()
        if v["Properties"]["Handler"] == handler
    ]
    return found


def _role_id(synthesized: Synthesized, plan: Any) -> str:
    role: dict[str, Any] = synthesized.template["Resources"][_function_id(synthesized, plan)]["Properties"][
        "Role"
    ]
    return str(role["Fn::GetAtt"][0])


def _statements_of(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _logical_id_of(synthesized: Synthesized, kind: str) -> str:
    (found,) = synthesized.resources(kind)
    return found


# -- synthesis -------------------------------------------------------------------------------------------
def test_synth_succeeds(synthesized: Synthesized) -> None:
    assert synthesized.error is None, synthesized.error


def test_stack_is_environment_agnostic(synthesized: Synthesized) -> None:
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    assert manifest["artifacts"][STACK]["environment"] == "aws://unknown-account/unknown-region"


# -- functions -------------------------------------------------------------------------------------------
def test_one_function_per_monitor_with_checks(template: Any, plans: list[Any]) -> None:
    template.resource_count_is("AWS::Lambda::Function", len(plans))


def test_functions_are_arm64_python314_with_the_layer_and_no_tracing_by_default(
    template: Any, synthesized: Synthesized, plans: list[Any]
) -> None:
    layer = _logical_id_of(synthesized, "AWS::Lambda::LayerVersion")
    for plan in plans:
        template.has_resource_properties(
            "AWS::Lambda::Function",
            {
                "Handler": f"eksmon.handlers.{plan.monitor}.handler",
                "Runtime": "python3.14",
                "Architectures": ["arm64"],
                "MemorySize": LAMBDA_SIZES[plan.monitor].memory_mb,
                "Timeout": LAMBDA_SIZES[plan.monitor].timeout.to_seconds(),
                "TracingConfig": Match.absent(),  # tracing is opt-in (settings `tracing: true`)
                "Layers": [{"Ref": layer}],
            },
        )
    for function in synthesized.resources("AWS::Lambda::Function").values():
        assert "EKSMON_TRACING" not in function["Properties"]["Environment"]["Variables"]
    for plan in plans:
        actions = {
            a
            for st in _statements_of(synthesized, _role_id(synthesized, plan))
            for a in _as_list(st["Action"])
        }
        assert not {a for a in actions if a.startswith("xray:")}, plan.monitor


def test_function_environment_carries_settings_and_topic(
    template: Any, synthesized: Synthesized, settings: Any, plans: list[Any]
) -> None:
    topic = _logical_id_of(synthesized, "AWS::SNS::Topic")
    for plan in plans:
        template.has_resource_properties(
            "AWS::Lambda::Function",
            {
                "Handler": HANDLER.format(monitor=plan.monitor),
                "Environment": {
                    "Variables": {
                        "EKSMON_CONFIG": settings.to_json(),
                        "TOPIC_ARN": {"Ref": topic},
                        "POWERTOOLS_SERVICE_NAME": "eksmon",
                        "POWERTOOLS_METRICS_NAMESPACE": "EKSMonitor",
                        "LOG_LEVEL": "INFO",
                    }
                },
            },
        )


def test_settings_round_trip_through_the_environment(synthesized: Synthesized, settings: Any) -> None:
    from eksmon.settings import settings_from_json

    for function in synthesized.resources("AWS::Lambda::Function").values():
        assert (
            settings_from_json(function["Properties"]["Environment"]["Variables"]["EKSMON_CONFIG"])
            == settings
        )


def test_the_metrics_function_reads_the_period_its_schedule_runs_it_at(synthesized: Synthesized) -> None:
    """The metrics Lambda derives its CloudWatch window from the schedule in its environment: the same
    expression the Scheduler runs it at, so a run reads all the time since the previous one."""
    from eksmon.settings import rate_minutes, settings_from_json

    (schedule,) = [
        s["Properties"]["ScheduleExpression"]
        for s in synthesized.resources("AWS::Scheduler::Schedule").values()
        if s["Properties"]["ScheduleExpression"] == TEST_SETTINGS["schedules"]["metrics"]
    ]
    (function,) = [
        f
        for f in synthesized.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == HANDLER.format(monitor="metrics")
    ]
    config = settings_from_json(function["Properties"]["Environment"]["Variables"]["EKSMON_CONFIG"])
    assert config.schedules.metrics_window() == rate_minutes(schedule) == 5


def test_each_function_logs_to_its_own_group_with_retention(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    groups = synthesized.resources("AWS::Logs::LogGroup")
    used = set()
    for plan in plans:
        function = synthesized.template["Resources"][_function_id(synthesized, plan)]
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == 30
        used.add(group)
    assert len(used) == len(plans)


def test_function_asset_ships_the_package_without_simulator_or_caches(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    function = synthesized.template["Resources"][_function_id(synthesized, plans[0])]
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    asset = synthesized.outdir / f"asset.{asset_hash}"
    shipped = {p.relative_to(asset).as_posix() for p in asset.rglob("*")}
    assert "eksmon/registry.py" in shipped
    assert "eksmon/handlers/__init__.py" in shipped
    assert not [p for p in shipped if p.startswith("eksmon/sim")]
    assert not [p for p in shipped if "__pycache__" in p or p.endswith(".pyc") or ".egg-info" in p]


# -- schedules and dead letters ---------------------------------------------------------------------------
def test_schedule_expression_comes_from_settings(template: Any, plans: list[Any]) -> None:
    for plan in plans:
        template.has_resource_properties(
            "AWS::Scheduler::Schedule",
            {
                "ScheduleExpression": TEST_SETTINGS["schedules"][plan.monitor],
                "State": "ENABLED",
                "Target": Match.object_like(
                    {
                        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                    }
                ),
            },
        )


def test_schedule_targets_its_function_and_dead_letters_to_an_encrypted_queue(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    key = _logical_id_of(synthesized, "AWS::KMS::Key")
    queues = synthesized.resources("AWS::SQS::Queue")
    schedules = list(synthesized.resources("AWS::Scheduler::Schedule").values())
    assert len(schedules) == len(plans)
    for plan in plans:
        function = _function_id(synthesized, plan)
        (schedule,) = [
            s for s in schedules if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
        ]
        target = schedule["Properties"]["Target"]
        queue = queues[target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]]
        assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
        payload = json.loads(target["Input"])
        assert payload["monitor"] == plan.monitor
        assert payload["id"] == "<aws.scheduler.execution-id>"
        assert payload["time"] == "<aws.scheduler.scheduled-time>"


def test_a_failed_run_is_retried_once_then_kept_in_the_encrypted_dead_letter_queue(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    """The schedule invokes asynchronously: without a destination Lambda drops a run after 2 retries."""
    key = _logical_id_of(synthesized, "AWS::KMS::Key")
    queues = synthesized.resources("AWS::SQS::Queue")
    configs = synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
    schedules = synthesized.resources("AWS::Scheduler::Schedule").values()
    for plan in plans:
        function = _function_id(synthesized, plan)
        (config,) = [c["Properties"] for c in configs if c["Properties"]["FunctionName"] == {"Ref": function}]
        assert config["MaximumRetryAttempts"] == MONITOR_RETRY_ATTEMPTS == 1
        assert config["MaximumEventAgeInSeconds"] == 3600
        queue_id = config["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        assert queues[queue_id]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
        (schedule,) = [
            s for s in schedules if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
        ]
        assert schedule["Properties"]["Target"]["DeadLetterConfig"]["Arn"] == {
            "Fn::GetAtt": [queue_id, "Arn"]
        }
        statements = _statements_of(synthesized, _role_id(synthesized, plan))
        send = [s for s in statements if "sqs:SendMessage" in _as_list(s["Action"])]
        assert send == [
            {
                "Action": "sqs:SendMessage",
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
                "Sid": "SendFailedRuns",
            }
        ]
        encrypt = [s for s in statements if s.get("Sid") == "EncryptFindings"]
        assert encrypt and encrypt[0]["Resource"] == {"Fn::GetAtt": [key, "Arn"]}  # the queue's key too


def test_dead_letter_queues_refuse_plain_http(template: Any, plans: list[Any]) -> None:
    queue_policies = template.find_resources("AWS::SQS::QueuePolicy")
    assert len(queue_policies) == len(plans) + 1  # and the subscriptions' dead-letter queue
    template.resource_properties_count_is(
        "AWS::SQS::QueuePolicy", _deny_insecure_transport(), len(queue_policies)
    )


def test_scheduler_role_invokes_only_its_function_and_can_encrypt_dead_letters(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    key = _logical_id_of(synthesized, "AWS::KMS::Key")
    for plan in plans:
        function = _function_id(synthesized, plan)
        schedule = next(
            s
            for s in synthesized.resources("AWS::Scheduler::Schedule").values()
            if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
        )
        role_id = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
        role = synthesized.template["Resources"][role_id]["Properties"]
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "scheduler.amazonaws.com"
        }
        assert (
            "aws:SourceAccount"
            in role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
        )
        statements = _statements_of(synthesized, role_id)
        invoke = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
        assert [
            r["Fn::GetAtt"][0] if "Fn::GetAtt" in r else r["Fn::Join"][1][0]["Fn::GetAtt"][0]
            for s in invoke
            for r in _as_list(s["Resource"])
        ] == [function, function]
        assert {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [key, "Arn"]},
            "Sid": "EncryptDeadLetters",
        } in statements


# -- alerts ----------------------------------------------------------------------------------------------
def test_topic_is_encrypted_with_a_rotating_customer_managed_key(
    template: Any, synthesized: Synthesized
) -> None:
    key = _logical_id_of(synthesized, "AWS::KMS::Key")
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]}})


def test_topic_policy_enforces_tls(template: Any) -> None:
    template.has_resource_properties("AWS::SNS::TopicPolicy", _deny_insecure_transport())


def test_one_email_subscription_per_configured_address(template: Any, synthesized: Synthesized) -> None:
    topic = _logical_id_of(synthesized, "AWS::SNS::Topic")
    emails = TEST_SETTINGS["notifications"]["emails"]
    template.resource_count_is("AWS::SNS::Subscription", len(emails))
    for email in emails:
        template.has_resource_properties(
            "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": email, "TopicArn": {"Ref": topic}}
        )


# -- IAM -------------------------------------------------------------------------------------------------
def test_role_actions_are_exactly_the_registrys_for_that_monitor(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    from eksmon.registry import load

    registry = load()
    for plan in plans:
        statements = _statements_of(synthesized, _role_id(synthesized, plan))
        actions = {a for s in statements for a in _as_list(s["Action"])}
        expected = set(registry.iam_actions(registry.select(monitor=plan.monitor)))
        assert actions - BASE_ACTIONS - ACCOUNT_ACTIONS == expected, plan.monitor


def test_no_action_is_a_wildcard_and_every_statement_allows(synthesized: Synthesized) -> None:
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert not [a for a in _as_list(statement["Action"]) if "*" in a], statement


def test_resource_star_only_for_actions_without_resource_level_permissions(synthesized: Synthesized) -> None:
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "*" in _as_list(statement["Resource"]):
                assert not set(_as_list(statement["Action"])) & set(RESOURCE_SCOPED_ACTIONS), statement


def test_no_aws_managed_policies(synthesized: Synthesized) -> None:
    for role in synthesized.resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_function_role_publishes_only_to_the_topic_with_its_key(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    topic = _logical_id_of(synthesized, "AWS::SNS::Topic")
    key = _logical_id_of(synthesized, "AWS::KMS::Key")
    for plan in plans:
        statements = _statements_of(synthesized, _role_id(synthesized, plan))
        assert {
            "Action": "sns:Publish",
            "Effect": "Allow",
            "Resource": {"Ref": topic},
            "Sid": "PublishFindings",
        } in statements
        assert {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [key, "Arn"]},
            "Sid": "EncryptFindings",
        } in statements


def test_member_account_roles_can_be_assumed_but_not_excluded_ones(
    synthesized: Synthesized, plans: list[Any]
) -> None:
    role_name = TEST_SETTINGS["accounts"]["role_name"]
    statements = _statements_of(synthesized, _role_id(synthesized, plans[0]))
    by_sid = {s.get("Sid"): s for s in statements}
    member = json.dumps(by_sid["AssumeReadRole111111111111"]["Resource"])
    assert f":iam::111111111111:role/{role_name}" in member
    assert "AssumeReadRole222222222222" not in by_sid  # excluded
    # organization mode (AssumeOrganizationReadRoles, ListOrganizationAccounts): test_deployment.py
    assert "AssumeOrganizationReadRoles" not in by_sid


def _deny_insecure_transport() -> dict[str, Any]:
    return {
        "PolicyDocument": {
            "Statement": Match.array_with(
                [
                    Match.object_like(
                        {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                    )
                ]
            )
        }
    }
