"""The on-failure destination function."""

from __future__ import annotations

import json

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.destinations.contract import contract
from stacks.destinations.kept_failures import KeptFailures
from stacks.settings.common import CommonSettings
from stacks.shared.encrypted_queue import EncryptedQueue
from stacks.shared.kit_function import KitFunction
from stacks.shared.sqs_event_source import subscribe

# Records are small and independent; a batch of 10 (SQS's receive maximum) needs no batching window.
RECORDS_BATCH_SIZE = 10


class FailureHandler(KitFunction):
    """`lwk_destinations.handlers.failure`: reads the failure records of `records` (the worker's
    on-failure destination) and keeps each failed request in the kept-failures queue.

    Subscribed to `records` with partial batch responses; may send to the kept-failures queue (and
    use its key for it) and write under the offload bucket's prefix (a kept failure too big for the
    queue), nothing else. A record it cannot process is received again and, after the queue's
    receive limit, moves to the records' dead-letter queue (which alarms).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        code: lambda_.Code,
        kept: KeptFailures,
        records: EncryptedQueue,
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
        subscribe(self, records, batch_size=RECORDS_BATCH_SIZE)
