"""The worker function and how Lambda routes its asynchronous outcomes."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from constructs import Construct

from stacks.destinations.contract import contract
from stacks.destinations.queue_destination import QueueDestination
from stacks.destinations.settings import DestinationsSettings
from stacks.settings.common import CommonSettings
from stacks.shared.encrypted_queue import EncryptedQueue
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import acknowledge

WORKLOAD = "destinations"


class Worker(KitFunction):
    """The example job (`lwk_destinations.handlers.worker`), with the kit function's defaults.

    Its construct id must stay "Worker": its log group is /lwk/<stage>/destinations/worker, the one
    the log export workload exports by default. `route_outcomes` publishes the alias `live` and puts
    the event-invoke config on it.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, common: CommonSettings, code: lambda_.Code, log_payloads: bool
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            common=common,
            workload=WORKLOAD,
            code=code,
            handler=contract.WORKER_HANDLER,
            environment={contract.LOG_PAYLOADS_ENV: json.dumps(log_payloads)},
            description="Example job, invoked asynchronously; Lambda routes its outcome to a destination",
        )
        for rule_id in ("Serverless::Serverless-LambdaDLQ", "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ"):
            acknowledge(
                self.function,
                rule_id,
                "The worker's failed events go to its on-failure destination (the failure-records queue, whose "
                "handler keeps them in an encrypted queue with the error); a dead-letter queue would hold a "
                "second copy without it.",
            )

    def route_outcomes(
        self, *, on_success: lambda_.IFunction, on_failure: EncryptedQueue, settings: DestinationsSettings
    ) -> lambda_.Alias:
        """Publish `live`; send its success records to `on_success` and its failure records to `on_failure`.

        The success destination should be an alias: the worker's role may then invoke exactly that
        published version, not every version of the function (`<arn>:*`). Failure records go to a
        queue, not to a function: a function's event is parsed by the Lambda runtime, whose JSON
        parser turns numbers into floats (`1e400` -> `inf`, digits lost); a message body is text,
        and the failure handler keeps the request payload exactly as Lambda wrote it.
        """
        alias = self.add_live_alias()
        alias.configure_async_invoke(
            on_success=destinations.LambdaDestination(on_success, response_only=False),
            on_failure=QueueDestination(on_failure),
            retry_attempts=settings.max_retry_attempts,
            max_event_age=cdk.Duration.seconds(settings.max_event_age_seconds),
        )
        return alias
