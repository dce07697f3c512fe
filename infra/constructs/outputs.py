"""The stack's outputs for every step after `cdk deploy`: where to look, what to grant, what to drain.

Top-level outputs with fixed keys (eksmon.stack_outputs), so `cdk deploy` prints them and
`eksmon grant-access --stack` / `eksmon findings --stack` read them back with DescribeStacks. The
dead-letter queues are found in the construct tree rather than listed, so a queue added by any
construct gets its output too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

from eksmon.stack_outputs import (
    DASHBOARD_URL,
    DEAD_LETTER_QUEUE_SUFFIX,
    FINDINGS_TABLE,
    KUBERNETES_ROLE_PREFIX,
)


def add_next_step_outputs(
    stack: Stack,
    *,
    dashboard: cloudwatch.Dashboard,
    table: dynamodb.ITable,
    kubernetes_roles: Mapping[str, iam.IRole],
) -> None:
    """Call once every resource of ``stack`` exists (the queues are looked up in its tree)."""
    CfnOutput(
        stack,
        DASHBOARD_URL,
        value=(
            f"https://{Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}"
            f"#dashboards/dashboard/{dashboard.dashboard_name}"
        ),
        description="the fleet dashboard in the CloudWatch console",
    )
    CfnOutput(
        stack,
        FINDINGS_TABLE,
        value=table.table_name,
        description="open findings: eksmon findings --stack <this stack>",
    )
    for monitor, role in sorted(kubernetes_roles.items()):
        CfnOutput(
            stack,
            f"{KUBERNETES_ROLE_PREFIX}{monitor.capitalize()}",
            value=role.role_arn,
            description=(
                f"the {monitor} monitor's role, which reads the Kubernetes API: give it an access entry "
                "(eksmon grant-access --stack <this stack>)"
            ),
        )
    for queue in _dead_letter_queues(stack):
        where = _where(stack, queue)
        CfnOutput(
            stack,
            f"{where}{DEAD_LETTER_QUEUE_SUFFIX}",
            value=queue.queue_url,
            description=f"failed deliveries of {where}: aws sqs receive-message --queue-url <this URL>",
        )


def _dead_letter_queues(stack: Stack) -> list[sqs.Queue]:
    return [
        node
        for node in stack.node.find_all()
        if isinstance(node, sqs.Queue) and "deadletter" in node.node.id.lower()
    ]


def _where(stack: Stack, queue: sqs.Queue) -> str:
    """The path of the construct that owns the queue, as one PascalCase word (LifecycleMonitor)."""
    scopes = queue.node.scopes  # from the app down to the queue itself
    owner = scopes[scopes.index(stack) + 1 : -1]
    return "".join(re.sub(r"[^A-Za-z0-9]", "", c.node.id) for c in owner) or "Stack"
