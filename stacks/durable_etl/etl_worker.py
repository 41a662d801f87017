"""The durable ETL function, its `live` alias and its dead-letter queue."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.settings.common import CommonSettings
from stacks.shared.bundling import python_code
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import acknowledge, logical_id

from .contract import contract
from .settings import DurableEtlSettings

WORKLOAD = "durable-etl"
WORK_PREFIX = contract.WORK_PREFIX
# A Lambda invocation's ceiling; each step is sized to end well within it.
FUNCTION_TIMEOUT = cdk.Duration.minutes(15)


class EtlWorker(Construct):
    """The durable ETL function, its `live` alias and its dead-letter queue.

    Creates an encrypted, TLS-only SQS queue that receives the input of executions that end
    FAILED/TIMED_OUT (the function's dead-letter config; the schedule uses it too) and the
    KitFunction with durable config from settings. Grants the function: read the source bucket
    and list it; write and delete only under `_etl/` there; BatchWriteItem and BatchGetItem on the table;
    send to its dead-letter queue. Invoke it through `alias`, never the bare function.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        settings: DurableEtlSettings,
        source: s3.IBucket,
        table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(
            self.dead_letters,
            "Serverless::Serverless-SQSRedrivePolicy",
            "This queue is itself the dead-letter queue of the ETL function and of its schedule; "
            "nothing consumes it automatically, a person reads it when its depth alarm fires.",
        )
        self.kit = KitFunction(
            self,
            "Function",
            common=common,
            workload=WORKLOAD,
            code=python_code("durable_etl"),
            handler=contract.HANDLER,
            description="Durable ETL: S3 JSON Lines/CSV -> validated batches -> DynamoDB, resumable",
            memory_size=settings.memory_mb,
            timeout=FUNCTION_TIMEOUT,
            environment={
                contract.SOURCE_BUCKET: source.bucket_name,
                contract.TARGET_TABLE: table.table_name,
                contract.BATCH_SIZE.name: str(settings.default_batch_size),
                contract.RATE_LIMIT_WAIT_SECONDS.name: str(settings.rate_limit_wait_seconds),
                contract.OFF_PEAK_HOUR.name: str(settings.off_peak_hour),
                contract.OFF_PEAK_TIME_ZONE: settings.time_zone,
                contract.MAP_CONCURRENCY.name: str(settings.map_concurrency),
                contract.EXTRACT_RECORDS_PER_STEP.name: str(settings.extract_records_per_step),
            },
            durable_config=lambda_.DurableConfig(
                execution_timeout=cdk.Duration.hours(settings.execution_timeout_hours),
                retention_period=cdk.Duration.days(settings.retention_days),
            ),
        )
        self.function = self.kit.function
        # KitFunction has no dead-letter parameter; the L1 property is what Lambda reads.
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
            target_arn=self.dead_letters.queue_arn
        )
        # Only the call Lambda makes with this role; grant_send_messages adds GetQueueAttributes/GetQueueUrl.
        self.dead_letters.grant(self.kit.role, "sqs:SendMessage")
        table.grant(self.kit.role, "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem")
        self._grant_source_access(source)
        self.alias = self.kit.add_live_alias()

    def _grant_source_access(self, source: s3.IBucket) -> None:
        # Not bucket.grant_read/grant_put/grant_delete: those add s3:GetObject*, s3:List*,
        # s3:GetBucket*, s3:PutObject* families the function never calls. These are the calls it makes.
        work_objects = source.arn_for_objects(f"{WORK_PREFIX}*")
        policy = iam.Policy(
            self,
            "SourceAccessPolicy",
            roles=[self.kit.role],
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
            source.encryption_key.grant(self.kit.role, "kms:Decrypt", "kms:GenerateDataKey")
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
