"""The __Title__ function, subscribed to its queue, allowed to write under one prefix of the results bucket."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.settings.common import CommonSettings
from stacks.shared.bundling import python_code
from stacks.shared.encrypted_queue import EncryptedQueue
from stacks.shared.kit_function import KitFunction
from stacks.shared.prefix_access import PrefixAccess
from stacks.shared.sqs_event_source import VISIBILITY_TO_TIMEOUT_RATIO, subscribe

from .settings import __Pascal__Settings, contract

WORKLOAD = "__key__"
# The queue's visibility timeout per second of function timeout (AWS asks for at least 6).
VISIBILITY_PER_TIMEOUT = VISIBILITY_TO_TIMEOUT_RATIO


class __Pascal__Worker(Construct):
    """Creates the KitFunction running `lwk___snake__.handlers.handler`, its SQS event source on
    `queue` (partial batch responses) and a policy that lets it write only under the results prefix
    of `bucket`. Grants nothing else."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        settings: __Pascal__Settings,
        queue: EncryptedQueue,
        bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = KitFunction(
            self,
            "Function",
            common=common,
            workload=WORKLOAD,
            code=python_code("__snake__"),
            handler=contract.HANDLER,
            environment={
                contract.RESULTS_BUCKET: bucket.bucket_name,
                contract.RESULTS_PREFIX: settings.results_prefix,
            },
            description="__Title__: stores each queued item as JSON in the results bucket",
            memory_size=settings.memory_mb,
            timeout=cdk.Duration.seconds(settings.timeout_seconds),
        )
        subscribe(
            self.function,
            queue,
            batch_size=settings.batch_size,
            max_batching_window=cdk.Duration.seconds(settings.max_batching_window_seconds)
            if settings.max_batching_window_seconds
            else None,
            max_concurrency=settings.max_concurrency,
        )
        PrefixAccess(
            self, "Results", bucket=bucket, prefix=settings.results_prefix, role=self.function.role, write=True
        )
