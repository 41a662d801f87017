"""The durable ETL's constructs: target table, worker function, schedule, alarms (one per concern)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.settings import CommonSettings, DurableEtlSettings
from stacks.shared.alarm_topic import AlarmTopic
from stacks.shared.bundling import python_code
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import acknowledge, logical_id

WORKLOAD = "durable-etl"
# The handler keeps a run's staged batches and rejects under this prefix of the source bucket
# (lambdas/durable_etl/etl/layout.py); dataset ids cannot start with '_', so nothing collides.
WORK_PREFIX = "_etl/"
# A Lambda invocation's ceiling; each step is sized to end well within it.
FUNCTION_TIMEOUT = cdk.Duration.minutes(15)
SCHEDULE_RETRY_ATTEMPTS = 3
SCHEDULE_MAX_EVENT_AGE = cdk.Duration.hours(1)


class TargetTable(Construct):
    """The DynamoDB table the ETL loads: key (datasetId, id), on-demand, point-in-time recovery,
    encrypted with the AWS managed key, kept when the stack is deleted. Grants nothing by itself."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="datasetId", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )


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
            handler="etl_handler.handler",
            description="Durable ETL: S3 JSON Lines/CSV -> validated batches -> DynamoDB, resumable",
            memory_size=settings.memory_mb,
            timeout=FUNCTION_TIMEOUT,
            environment={
                "SOURCE_BUCKET": source.bucket_name,
                "TARGET_TABLE": table.table_name,
                "DEFAULT_BATCH_SIZE": str(settings.default_batch_size),
                "RATE_LIMIT_WAIT_SECONDS": str(settings.rate_limit_wait_seconds),
                "OFF_PEAK_HOUR": str(settings.off_peak_hour),
                "OFF_PEAK_TIME_ZONE": settings.time_zone,
                "MAP_CONCURRENCY": str(settings.map_concurrency),
                "EXTRACT_RECORDS_PER_STEP": str(settings.extract_records_per_step),
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


class EtlSchedule(Construct):
    """An EventBridge Scheduler schedule that starts the ETL through the `live` alias, asynchronously.

    Cron/rate expression and IANA time zone from settings; created disabled unless
    `schedule.enabled`. Scheduler retries a failed delivery and then sends the event to the
    dead-letter queue. Its role may invoke the alias only.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DurableEtlSettings,
        alias: lambda_.IFunction,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description=f"Starts the durable ETL of dataset {settings.schedule_dataset_id}",
            schedule=scheduler.ScheduleExpression.expression(
                settings.schedule_expression, cdk.TimeZone.of(settings.time_zone)
            ),
            enabled=settings.schedule_enabled,
            target=scheduler_targets.LambdaInvoke(
                alias,
                input=scheduler.ScheduleTargetInput.from_object({"datasetId": settings.schedule_dataset_id}),
                retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                max_event_age=SCHEDULE_MAX_EVENT_AGE,
                dead_letter_queue=dead_letters,
            ),
        )


class EtlAlarms(Construct):
    """Two alarms on the alarm topic: executions that ended FAILED or TIMED_OUT, and any message in
    the dead-letter queue (an execution's input that Lambda or Scheduler gave up on)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        dead_letters: sqs.IQueue,
        topic: AlarmTopic,
    ) -> None:
        super().__init__(scope, construct_id)
        period = cdk.Duration.minutes(5)
        failed = cloudwatch.MathExpression(
            expression="FILL(failed, 0) + FILL(timedOut, 0)",
            using_metrics={
                "failed": function.metric("DurableExecutionFailed", statistic="Sum", period=period),
                "timedOut": function.metric("DurableExecutionTimedOut", statistic="Sum", period=period),
            },
            label="Executions failed or timed out",
            period=period,
        )
        self.failed_executions = self._alarm(
            "FailedExecutions", failed, "A durable ETL execution ended FAILED or TIMED_OUT: see its execution history."
        )
        self.dead_letters = self._alarm(
            "DeadLetters",
            dead_letters.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
            "An ETL start or execution input landed in the dead-letter queue.",
        )
        for alarm in (self.failed_executions, self.dead_letters):
            topic.notify(alarm)

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> cloudwatch.Alarm:
        # Any occurrence at all is worth a look: these should be zero in a healthy month.
        return cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            alarm_description=description,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
