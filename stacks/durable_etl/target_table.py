"""The DynamoDB table the durable ETL loads (under the hardened profile, with a customer-managed key)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.shared.kit_keys import KitKeys

from .contract import contract


class TargetTable(Construct):
    """The DynamoDB table the ETL loads: key (datasetKey, id), on-demand, point-in-time recovery,
    kept when the stack is deleted. Grants nothing by itself.

    `datasetKey` is `<datasetId>#<nn>`, one of KEY_SPREAD partition keys per dataset chosen by the
    record's id (lwk_durable_etl.contract.table_partition_key), so a dataset's writes spread over 64
    keys instead of meeting one key's 1,000 write units per second. One row by dataset and id:
    GetItem on (table_partition_key(datasetId, id), id). All rows of a dataset: one Query per key of
    table_partition_keys(datasetId), in parallel.

    Default profile: encrypted with the AWS managed key. Hardened profile: encrypted with the stack's
    customer-managed data key (KitKeys, retained with the data; `key` is then set); the kit's
    BackUpEveryTable aspect (stacks/shared/table_backups.py) puts the table into the stack's daily
    AWS Backup plan, in a vault under the same key.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        keys = KitKeys.of(self)
        self.key: kms.IKey | None = keys.data_key if keys is not None else None
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=contract.TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=contract.TABLE_SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=(
                dynamodb.TableEncryption.AWS_MANAGED if self.key is None else dynamodb.TableEncryption.CUSTOMER_MANAGED
            ),
            encryption_key=self.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
