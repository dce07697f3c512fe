"""The findings state: one DynamoDB item per fingerprint (eksmon.state), KMS-encrypted, PITR, TTL.

It is encrypted with the alert topic's key: the findings it holds are the ones the topic carries.
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from eksmon.state import OPEN_INDEX, OPEN_KEY, PARTITION_KEY, TTL_ATTRIBUTE

# What eksmon.state calls: BatchGetItem (consistent reads), Query on the open-by-region index, UpdateItem
# (every write is a conditional update). Nothing else, so the grant names no wildcard.
STATE_ACTIONS = ("dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:UpdateItem")
# A customer-managed key on a table: DynamoDB asks KMS on the caller's behalf.
KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")


class FindingsTable(Construct):
    """``table`` keeps what was told about each finding; ``grant_state(role)`` lets a monitor use it."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.table = self._build_table(key)

    def _build_table(self, key: kms.IKey) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TTL_ATTRIBUTE,  # resolved findings expire
        )
        # Sparse: only open findings carry OPEN_KEY ("<account>#<region>"), so a run reads just those.
        table.add_global_secondary_index(
            index_name=OPEN_INDEX,
            partition_key=dynamodb.Attribute(name=OPEN_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        return table

    def grant_state(self, role: iam.IRole) -> None:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="FindingsState",
                actions=list(STATE_ACTIONS),
                resources=[self.table.table_arn, f"{self.table.table_arn}/index/{OPEN_INDEX}"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="FindingsStateKey", actions=list(KEY_ACTIONS), resources=[self.key.key_arn]
            )
        )
