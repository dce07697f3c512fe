"""What `cdk deploy` prints: an output for every next step (aws_cdk.assertions on the session's synth).

Given the test configuration, when the monitor stack is synthesised, then its outputs give the
dashboard's console URL, the findings table, the alert topic, the URL of every dead-letter queue in
the stack, and the ARN of each monitor role that reads the Kubernetes API, under the keys the CLI reads.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from eksmon.registry import load
from eksmon.stack_outputs import ALERT_TOPIC, DASHBOARD_URL, FINDINGS_TABLE, KUBERNETES_ROLE_PREFIX
from infra.constants import MONITOR_ROLE_PATH
from infra.constructs.kubernetes_access import kubernetes_monitors
from tests.infra.support import Synthesized

pytestmark = pytest.mark.infra


def only(resources: dict[str, Any]) -> str:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources))


def test_dashboard_url_opens_the_fleet_dashboard_in_the_console(template: Any) -> None:
    from aws_cdk.assertions import Match

    dashboard = only(template.find_resources("AWS::CloudWatch::Dashboard"))
    template.has_output(
        DASHBOARD_URL,
        {
            "Value": {
                "Fn::Join": [
                    "",
                    Match.array_with(
                        [
                            Match.string_like_regexp(r"^https://$"),
                            {"Ref": "AWS::Region"},
                            Match.string_like_regexp(r"console\.aws\.amazon\.com/cloudwatch/home\?region=$"),
                            {"Ref": "AWS::Region"},
                            "#dashboards/dashboard/",
                            {"Ref": dashboard},
                        ]
                    ),
                ]
            }
        },
    )


def test_findings_table_and_alert_topic_are_outputs(template: Any) -> None:
    table = only(template.find_resources("AWS::DynamoDB::Table"))
    template.has_output(FINDINGS_TABLE, {"Value": {"Ref": table}})
    topic = only(template.find_resources("AWS::SNS::Topic"))
    outputs = template.find_outputs("*")
    assert any(o["Value"] == {"Ref": topic} for o in outputs.values()), outputs


def test_every_dead_letter_queue_has_its_url_as_an_output(template: Any, plans: list[Any]) -> None:
    queues = template.find_resources("AWS::SQS::Queue")
    outputs = template.find_outputs("*")
    by_queue = {json.dumps(o["Value"]): key for key, o in outputs.items()}
    for queue in queues:
        assert json.dumps({"Ref": queue}) in by_queue, f"queue {queue} has no output"
    for plan in plans:  # named after the monitor whose failed runs it keeps
        key = f"{plan.monitor.capitalize()}MonitorDeadLetterQueueUrl"
        assert key in outputs and "receive-message" in outputs[key]["Description"], sorted(outputs)


def test_each_monitor_role_that_reads_kubernetes_is_an_output(
    template: Any, synthesized: Synthesized, plans: list[Any]
) -> None:
    readers = kubernetes_monitors(load(), [p.monitor for p in plans])
    assert readers, "no monitor reads the Kubernetes API: nothing to test"
    outputs = {k: v for k, v in template.find_outputs("*").items() if k.startswith(KUBERNETES_ROLE_PREFIX)}
    assert sorted(outputs) == sorted(f"{KUBERNETES_ROLE_PREFIX}{m.capitalize()}" for m in readers)
    roles = synthesized.resources("AWS::IAM::Role")
    functions = synthesized.resources("AWS::Lambda::Function")
    for monitor in readers:
        role, attribute = outputs[f"{KUBERNETES_ROLE_PREFIX}{monitor.capitalize()}"]["Value"]["Fn::GetAtt"]
        assert attribute == "Arn" and roles[role]["Properties"]["Path"] == MONITOR_ROLE_PATH
        # the role of that monitor's own function, not of another one
        used_by = [
            f
            for f in functions.values()
            if f["Properties"]["Role"] == {"Fn::GetAtt": [role, "Arn"]}
            and f["Properties"]["Handler"] == f"eksmon.handlers.{monitor}.handler"
        ]
        assert len(used_by) == 1


def test_the_alert_topic_has_a_fixed_output_key(template: Any) -> None:
    topic = only(template.find_resources("AWS::SNS::Topic"))
    template.has_output(ALERT_TOPIC, {"Value": {"Ref": topic}})
