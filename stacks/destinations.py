"""Lambda Destinations: an asynchronously invoked worker whose outcomes are routed by Lambda itself.

worker (alias `live`) --Success--> success handler (logs, summarises)
                      --RetriesExhausted / EventAgeExceeded--> failure handler --> kept-failures queue
                                                                         replay command <--'
Both destinations are Lambda functions wired directly on the worker alias's event-invoke config
(no EventBridge rule in between). The destination handlers' own failures go to the dead-letter
queue of the kept-failures queue.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from constructs import Construct

from stacks.destinations_constructs import DestinationsAlarms, KeptFailures
from stacks.settings import CommonSettings, DestinationsSettings
from stacks.shared.bundling import python_code
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import acknowledge

WORKLOAD = "destinations"
PACKAGE = "lwk_destinations"
# Read by the failure handler (lambdas/destinations/lwk_destinations/failure.py).
QUEUE_URL_VARIABLE = "FAILED_REQUESTS_QUEUE_URL"


class DestinationsStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, common: CommonSettings, settings: DestinationsSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        code = python_code(WORKLOAD)
        kept = KeptFailures(self, "KeptFailures")

        def kit_function(construct_id: str, module: str, description: str, environment: dict[str, str]) -> KitFunction:
            return KitFunction(
                self,
                construct_id,
                common=common,
                workload=WORKLOAD,
                code=code,
                handler=f"{PACKAGE}.{module}.handler",
                environment={"POWERTOOLS_SERVICE_NAME": f"{WORKLOAD}-{module}", **environment},
                description=description,
            )

        # Construct id "Worker": its log group is /lwk/<stage>/destinations/worker, the one the
        # log export workload exports by default.
        worker = kit_function(
            "Worker", "worker", "Example job, invoked asynchronously; Lambda routes its outcome to a destination", {}
        )
        success = kit_function("SuccessHandler", "success", "On-success destination of the worker: logs the record", {})
        failure = kit_function(
            "FailureHandler",
            "failure",
            "On-failure destination of the worker: keeps the failed request for replay",
            {QUEUE_URL_VARIABLE: kept.queue.queue_url},
        )
        kept.grant_keep(failure)
        for handler in (success, failure):
            kept.send_async_failures_of(handler)
        acknowledge(
            worker.function,
            "Serverless::Serverless-LambdaDLQ",
            "The worker's failed events go to its on-failure destination (the failure handler, which keeps "
            "them in an encrypted queue with the error); a dead-letter queue would hold a second copy without it.",
        )

        # Destinations target the handlers' aliases: the worker's role may then invoke exactly
        # those two published versions, not every version of the functions (`<arn>:*`).
        worker_alias = worker.add_live_alias()
        worker_alias.configure_async_invoke(
            on_success=destinations.LambdaDestination(success.add_live_alias(), response_only=False),
            on_failure=destinations.LambdaDestination(failure.add_live_alias(), response_only=False),
            retry_attempts=settings.max_retry_attempts,
            max_event_age=cdk.Duration.seconds(settings.max_event_age_seconds),
        )

        alarms = DestinationsAlarms(
            self,
            "Alarms",
            email=common.alarm_email,
            kept=kept,
            worker_alias=worker_alias,
            failed_threshold=settings.failed_queue_depth_alarm,
        )

        # For the people who run the replay command: attach this to their role or group.
        replay_policy = iam.ManagedPolicy(
            self,
            "ReplayPolicy",
            description="Run the destinations replay command: read and remove kept failures, re-invoke the worker",
            statements=[
                *kept.replay_statements(),
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[worker_alias.function_arn]),
            ],
        )

        outputs = {
            "WorkerAliasArn": (worker_alias.function_arn, "Invoke this (--invocation-type Event); replay --function"),
            "WorkerFunctionName": (worker.function.function_name, "The worker function"),
            "FailedRequestsQueueUrl": (kept.queue.queue_url, "Kept failed requests; replay --queue-url"),
            "DeadLetterQueueUrl": (kept.dead_letter_queue.queue_url, "Unprocessable records, over-received kept failures"),
            "ReplayPolicyArn": (replay_policy.managed_policy_arn, "Managed policy for the replay command"),
            "AlarmTopicArn": (alarms.topic.topic.topic_arn, "Where the workload's alarms publish"),
        }
        for output_id, (value, description) in outputs.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)

        self.worker = worker
        self.worker_alias: lambda_.Alias = worker_alias
        self.kept = kept
