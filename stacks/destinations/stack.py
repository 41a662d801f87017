"""The Lambda Destinations stack: wires the workload's constructs, nothing else.

worker (alias `live`) --Success--> success handler (logs, summarises)
                      --RetriesExhausted / EventAgeExceeded--> failure-records queue --> failure handler
                                                               kept-failures queue <--'
                                                   replay command <--'
Both destinations are set on the worker alias's event-invoke config (no EventBridge rule in
between). Failure records go to a queue so that no JSON parser touches the request payload
before it is kept (worker.py says why). Every place a record can still end up alarms.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.destinations.alarms import DestinationsAlarms
from stacks.destinations.contract import contract
from stacks.destinations.failure_handler import FailureHandler
from stacks.destinations.kept_failures import KeptFailures
from stacks.destinations.replay_policy import ReplayPolicy
from stacks.destinations.settings import DestinationsSettings
from stacks.destinations.success_handler import SuccessHandler
from stacks.destinations.worker import WORKLOAD, Worker
from stacks.settings.common import CommonSettings
from stacks.shared.bundling import python_code
from stacks.shared.encrypted_queue import EncryptedQueue
from stacks.shared.workload_dashboard import BusinessMetrics

# At least 6 times the failure handler's timeout (30 s), as Lambda advises for an SQS event source.
RECORDS_VISIBILITY_TIMEOUT = cdk.Duration.seconds(180)
# A record the failure handler fails this often moves to the records' dead-letter queue (alarmed).
RECORDS_MAX_RECEIVES = 3


class DestinationsStack(cdk.Stack):
    # The failure handler's own numbers on the dashboard (stacks/shared/workload_dashboard.py).
    business_metrics = (
        BusinessMetrics("Failures kept, offloaded", (contract.FAILURES_KEPT, contract.FAILURES_OFFLOADED)),
    )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        settings: DestinationsSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        code = python_code(WORKLOAD)
        kept = KeptFailures(self, "KeptFailures")
        alarms = DestinationsAlarms(self, "Alarms", email=common.alarm_email)
        records = EncryptedQueue(
            self,
            "FailureRecords",
            alarm_topic=alarms.topic,
            visibility_timeout=RECORDS_VISIBILITY_TIMEOUT,
            retention_period=cdk.Duration.days(contract.KEPT_RETENTION_DAYS),
            max_receive_count=RECORDS_MAX_RECEIVES,
        )
        log_payloads = settings.log_payloads
        worker = Worker(self, "Worker", common=common, code=code, log_payloads=log_payloads)
        success = SuccessHandler(self, "SuccessHandler", common=common, code=code, kept=kept, log_payloads=log_payloads)
        failure = FailureHandler(
            self, "FailureHandler", common=common, code=code, kept=kept, records=records, log_payloads=log_payloads
        )
        worker_alias = worker.route_outcomes(on_success=success.add_live_alias(), on_failure=records, settings=settings)
        alarms.watch(
            kept=kept,
            asynchronous={
                # The worker has no dead-letter queue (its destination keeps failures); its
                # DeadLetterErrors alarm stays so that one added later is watched from the start.
                "Worker": (worker.function, ("AsyncEventsDropped", "DestinationDeliveryFailures", "DeadLetterErrors")),
                "SuccessHandler": (success.function, ("AsyncEventsDropped", "DeadLetterErrors")),
            },
            handlers={"SuccessHandler": success.function, "FailureHandler": failure.function},
            failed_threshold=settings.failed_queue_depth_alarm,
        )
        replay_policy = ReplayPolicy(self, "ReplayPolicy", kept=kept, worker_alias=worker_alias)

        outputs = {
            "WorkerAliasArn": (worker_alias.function_arn, "Invoke this (--invocation-type Event); replay --function"),
            "WorkerFunctionName": (worker.function.function_name, "The worker function"),
            "FailedRequestsQueueUrl": (kept.queue.queue_url, "Kept failed requests; replay --queue-url"),
            "OffloadBucketName": (kept.offload.bucket.bucket_name, "Whole kept failures too big for the queue"),
            "DeadLetterQueueUrl": (
                kept.dead_letter_queue.queue_url,
                "Over-received kept failures, success records the success handler could not process",
            ),
            "FailureRecordsQueueUrl": (
                records.queue.queue_url,
                "Failure records from Lambda, read by the failure handler",
            ),
            "FailureRecordsDeadLetterQueueUrl": (
                records.dead_letter_queue.queue_url,
                "Failure records the failure handler could not keep",
            ),
            "ReplayPolicyArn": (replay_policy.managed_policy_arn, "Managed policy for the replay command"),
            "AlarmTopicArn": (alarms.topic.topic_arn, "Where the workload's alarms publish"),
        }
        for output_id, (value, description) in outputs.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)

        self.worker = worker
        self.worker_alias: lambda_.Alias = worker_alias
        self.kept = kept
        self.records = records
        self.alarms = alarms
