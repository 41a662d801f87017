"""The on-failure destination function."""

from __future__ import annotations

import json

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.destinations.contract import contract
from stacks.destinations.kept_failures import KeptFailures
from stacks.settings.common import CommonSettings
from stacks.shared.kit_function import KitFunction


class FailureHandler(KitFunction):
    """`lwk_destinations.handlers.failure`: keeps each failed request in the kept-failures queue.

    May send to that queue (and use its key for it) and write under the offload bucket's prefix
    (a kept failure too big for the queue), nothing else; a record it cannot process
    goes, after Lambda's retries, to the queue's dead-letter queue.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        code: lambda_.Code,
        kept: KeptFailures,
        log_payloads: bool,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            common=common,
            workload="destinations",
            code=code,
            handler=contract.FAILURE_HANDLER,
            environment={
                contract.LOG_PAYLOADS_ENV: json.dumps(log_payloads),
                contract.KEPT_FAILURES_QUEUE_URL_ENV: kept.queue.queue_url,
                contract.OFFLOAD_BUCKET_ENV: kept.offload.bucket.bucket_name,
            },
            description="On-failure destination of the worker: keeps the failed request for replay",
        )
        kept.grant_keep(self)
        kept.send_async_failures_of(self)
