"""__Title__: an encrypted SQS queue feeds one Python Lambda that writes JSON objects to a private bucket.

queue (KMS, TLS only) --batches--> function --PutObject under <resultsPrefix>--> private bucket
  '-- after maxReceiveCount failures --> dead-letter queue --depth alarm--> alarm topic
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.settings.common import CommonSettings
from stacks.shared.alarm_topic import AlarmTopic
from stacks.shared.encrypted_queue import EncryptedQueue
from stacks.shared.private_bucket import PrivateBucket
from stacks.shared.workload_dashboard import BusinessMetrics

from .settings import __Pascal__Settings, contract
from .worker import VISIBILITY_PER_TIMEOUT, __Pascal__Worker


class __Pascal__Stack(cdk.Stack):
    """Alarm topic, intake queue with its dead-letter queue, results bucket, the worker; wiring only."""

    # The handler's own numbers on the dashboard (stacks/shared/workload_dashboard.py).
    business_metrics = (
        BusinessMetrics("Items stored, messages refused", (contract.ITEMS_STORED, contract.MESSAGES_REFUSED)),
    )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        settings: __Pascal__Settings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms", email=common.alarm_email)
        intake = EncryptedQueue(
            self,
            "Intake",
            alarm_topic=alarms,
            visibility_timeout=cdk.Duration.seconds(VISIBILITY_PER_TIMEOUT * settings.timeout_seconds),
            max_receive_count=settings.max_receive_count,
        )
        results = PrivateBucket(self, "Results")
        worker = __Pascal__Worker(self, "Worker", common=common, settings=settings, queue=intake, bucket=results.bucket)
        cdk.CfnOutput(self, "IntakeQueueUrl", value=intake.queue.queue_url)
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=intake.dead_letter_queue.queue_url)
        cdk.CfnOutput(self, "ResultsBucketName", value=results.bucket.bucket_name)
        cdk.CfnOutput(self, "FunctionName", value=worker.function.function.function_name)
        cdk.CfnOutput(self, "AlarmTopicArn", value=alarms.topic.topic_arn)
