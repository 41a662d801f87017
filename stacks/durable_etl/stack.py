"""Durable ETL: a Lambda durable function that moves a dataset from S3 into DynamoDB, resumably."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.settings.common import CommonSettings
from stacks.shared.alarm_topic import AlarmTopic
from stacks.shared.private_bucket import PrivateBucket
from stacks.shared.workload_dashboard import BusinessMetrics

from .contract import contract
from .data_access import WORK_PREFIX
from .etl_alarms import EtlAlarms
from .etl_schedule import EtlSchedule
from .etl_worker import EtlWorker
from .reject_alarm import RejectAlarm
from .settings import DurableEtlSettings
from .shard_worker import ShardWorker
from .staging_guard import StagingGuard
from .target_table import TargetTable


class DurableEtlStack(cdk.Stack):
    """Source bucket, target table, the durable worker behind its `live` alias, schedule, alarms."""

    # The run's own numbers on the dashboard (stacks/shared/workload_dashboard.py).
    business_metrics = (
        BusinessMetrics(
            "Records per run: read, loaded, rejected",
            (contract.RECORDS_READ, contract.RECORDS_LOADED, contract.RECORDS_REJECTED),
        ),
        BusinessMetrics("Rejected records by reason", (contract.RECORDS_REJECTED,), ("reason", "service")),
        BusinessMetrics("Rejected share of a run (%)", (contract.REJECTED_PERCENT,), statistic="Maximum"),
    )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        settings: DurableEtlSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms", email=common.alarm_email)
        source = PrivateBucket(
            self,
            "Source",
            # A run's staged batches and rejects are working files: they expire, the datasets do not.
            lifecycle_rules=[
                s3.LifecycleRule(prefix=WORK_PREFIX, expiration=cdk.Duration.days(settings.work_retention_days))
            ],
        )
        target = TargetTable(self, "Target")
        shards = ShardWorker(
            self, "ShardWorker", common=common, settings=settings, source=source.bucket, table=target.table
        )
        worker = EtlWorker(
            self, "Worker", common=common, settings=settings, source=source.bucket, table=target.table,
            shard_alias=shards.alias,
        )  # fmt: skip
        schedule = EtlSchedule(
            self, "Schedule", settings=settings, alias=worker.alias, dead_letters=worker.dead_letters
        )
        worker.grant_dead_letter_key(schedule.role)
        StagingGuard(self, "StagingGuard", bucket=source.bucket, writers=[worker.kit.role, shards.kit.role])
        EtlAlarms(
            self, "Monitoring", function=worker.function, dead_letters=worker.dead_letters,
            schedule_group=schedule.group, topic=alarms,
        )  # fmt: skip
        RejectAlarm(
            self, "Rejects", namespace=common.metrics_namespace, share=settings.reject_alarm_share, topic=alarms
        )
        cdk.CfnOutput(self, "SourceBucketName", value=source.bucket.bucket_name)
        cdk.CfnOutput(self, "TargetTableName", value=target.table.table_name)
        cdk.CfnOutput(self, "FunctionName", value=worker.function.function_name)
        cdk.CfnOutput(self, "LiveAliasArn", value=worker.alias.function_arn)
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=worker.dead_letters.queue_url)
        cdk.CfnOutput(self, "ShardWorkerAliasArn", value=shards.alias.function_arn)
