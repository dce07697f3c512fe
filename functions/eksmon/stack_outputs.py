"""The deployed stack's outputs: their keys (the CDK app writes them, the CLI reads them) and the reading.

The keys are the outputs' logical ids, fixed at the stack's top level, so `aws cloudformation
describe-stacks` and `eksmon grant-access --stack` / `eksmon findings --stack` see the same names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from eksmon.aws import error_code

ALERT_TOPIC = "AlertTopicArn"
DASHBOARD_URL = "DashboardUrl"
FINDINGS_TABLE = "FindingsTableName"
# one per monitor that reads the Kubernetes API: KubernetesRoleArn<Monitor>, e.g. KubernetesRoleArnMetrics
KUBERNETES_ROLE_PREFIX = "KubernetesRoleArn"
# one per dead-letter queue: <where it is>DeadLetterQueueUrl, e.g. LifecycleMonitorDeadLetterQueueUrl
DEAD_LETTER_QUEUE_SUFFIX = "DeadLetterQueueUrl"


class StackOutputsError(RuntimeError):
    """The stack's outputs cannot be read (no such stack, no permission, no endpoint)."""


@dataclass(frozen=True)
class StackOutputs:
    stack: str
    region: str
    values: Mapping[str, str]

    def kubernetes_roles(self) -> dict[str, str]:
        """Monitor (lower case) -> ARN of its role, for the monitors that read the Kubernetes API."""
        return {
            key[len(KUBERNETES_ROLE_PREFIX) :].lower(): value
            for key, value in sorted(self.values.items())
            if key.startswith(KUBERNETES_ROLE_PREFIX) and len(key) > len(KUBERNETES_ROLE_PREFIX)
        }

    def require(self, key: str) -> str:
        value = self.values.get(key)
        if not value:
            raise StackOutputsError(
                f"stack {self.stack} in {self.region} has no output {key}: deploy the current version "
                "(make deploy) or pass the value explicitly"
            )
        return value


def read_stack_outputs(cloudformation: Any, stack: str, region: str) -> StackOutputs:
    """The outputs of ``stack`` (cloudformation:DescribeStacks), as key -> value."""
    try:
        found = cloudformation.describe_stacks(StackName=stack).get("Stacks", [])
    except botocore.exceptions.ClientError as exc:
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if "does not exist" in message:
            raise StackOutputsError(
                f"no stack {stack!r} in {region}: pass --stack and --region of the deployed monitor"
            ) from None
        raise StackOutputsError(f"cannot read stack {stack!r} in {region}: {error_code(exc)}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise StackOutputsError(f"cannot read stack {stack!r} in {region}: {exc}") from None
    if not found:
        raise StackOutputsError(f"no stack {stack!r} in {region}")
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in found[0].get("Outputs", []) or []}
    return StackOutputs(stack=stack, region=region, values=outputs)
