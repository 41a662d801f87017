"""The ETL's data access: what both of its functions may do to the source bucket and the target table."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.shared.nag import acknowledge, logical_id

from .contract import contract

WORK_PREFIX = contract.WORK_PREFIX


class EtlDataAccess(Construct):
    """Grants `role` the calls the ETL makes: BatchWriteItem and BatchGetItem on the table; list and
    read the source bucket; write and delete only under `_etl/` there (and list versions there)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, role: iam.IRole, source: s3.IBucket, table: dynamodb.ITable
    ) -> None:
        super().__init__(scope, construct_id)
        table.grant(role, "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem")
        if table.encryption_key is not None:
            # A table under a customer-managed key (hardened profile): DynamoDB uses it on the caller's
            # behalf for every item written and read.
            table.encryption_key.grant(role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
        # Not bucket.grant_read/grant_put/grant_delete: those add s3:GetObject*, s3:List*,
        # s3:GetBucket*, s3:PutObject* families the function never calls. These are the calls it makes.
        work_objects = source.arn_for_objects(f"{WORK_PREFIX}*")
        policy = iam.Policy(
            self,
            "SourceAccessPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[source.bucket_arn]),
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[source.arn_for_objects("*")]),
                iam.PolicyStatement(
                    actions=["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], resources=[work_objects]
                ),
                # Removing a failed run's work means removing every version of it (the bucket is versioned).
                iam.PolicyStatement(
                    actions=["s3:ListBucketVersions"],
                    resources=[source.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": f"{WORK_PREFIX}*"}},
                ),
            ],
        )
        if source.encryption_key is not None:
            # A customer-managed bucket key (hardened profile): S3 uses it for every read and write.
            source.encryption_key.grant(role, "kms:Decrypt", "kms:GenerateDataKey")
        bucket_id = logical_id(source)
        acknowledge(
            policy,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]",
            "Datasets are prefixes of the source bucket named at run time by the event's datasetId; "
            "only s3:GetObject is granted on the bucket's objects.",
        )
        acknowledge(
            policy,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{WORK_PREFIX}*]",
            "A run writes and removes its staged batches and rejects under _etl/<datasetId>/<runId>/, "
            "keys only known at run time; writes are limited to that prefix.",
        )
