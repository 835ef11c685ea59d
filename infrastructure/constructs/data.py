"""The single DynamoDB table, built from the key schema in infrastructure/table.py.

Access is granted action by action (no `grant_read_write_data`): readers get GetItem/Query on the
table and its indexes, writers get exactly the write actions they use.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from infrastructure.constants import TABLE_LOGICAL_ID
from infrastructure.table import INDEXES, PARTITION_KEY, SORT_KEY, STREAM_VIEW, TTL_ATTRIBUTE

READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, index_count: int = len(INDEXES)) -> None:
        """`index_count` deploys only the first indexes: DynamoDB creates one index per table update,
        so a table from before the newer indexes gains them one deploy at a time (docs/DEPLOY.md)."""
        super().__init__(scope, construct_id)
        if not 0 <= index_count <= len(INDEXES):
            raise ValueError(f"index_count must be between 0 and {len(INDEXES)}, got {index_count}")
        self.indexes = INDEXES[:index_count]
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string_key(PARTITION_KEY),
            sort_key=_string_key(SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            stream=dynamodb.StreamViewType(STREAM_VIEW),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=True,
            # Idempotency claims carry an epoch expiry; DynamoDB deletes them after it, for free.
            time_to_live_attribute=TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in self.indexes:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string_key(index.partition_key),
                sort_key=_string_key(index.sort_key),
                projection_type=dynamodb.ProjectionType(index.projection),
            )
        cfn_table = self.table.node.default_child
        assert isinstance(cfn_table, dynamodb.CfnTable)
        cfn_table.override_logical_id(TABLE_LOGICAL_ID)

    @property
    def table_name(self) -> str:
        return self.table.table_name

    @property
    def stream_arn(self) -> str:
        stream_arn = self.table.table_stream_arn
        assert stream_arn is not None  # the table always has a stream
        return stream_arn

    @property
    def index_arns(self) -> list[str]:
        return [f"{self.table.table_arn}/index/{index.name}" for index in self.indexes]

    def grant_read(self, grantee: iam.IGrantable) -> None:
        """GetItem, BatchGetItem and Query on the table and its indexes: nothing that writes."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(READ_ACTIONS),
            resource_arns=[self.table.table_arn, *self.index_arns],
        )

    def grant_writes(self, grantee: iam.IGrantable, actions: Sequence[str]) -> None:
        """Exactly these item-level write actions on the table itself (e.g. `dynamodb:UpdateItem`)."""
        if not actions or any(not action.startswith("dynamodb:") or "*" in action for action in actions):
            raise ValueError(f"name DynamoDB actions explicitly, got {actions!r}")
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(actions), resource_arns=[self.table.table_arn]
        )
