"""The on-success destination function."""

from __future__ import annotations

import json

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.destinations.contract import contract
from stacks.destinations.kept_failures import KeptFailures
from stacks.settings.common import CommonSettings
from stacks.shared.kit_function import KitFunction


class SuccessHandler(KitFunction):
    """`lwk_destinations.handlers.success`: logs each success record's ids and sizes, returns a summary.

    A record it cannot process goes, after Lambda's retries, to the kept-failures dead-letter queue.
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
            handler=contract.SUCCESS_HANDLER,
            environment={contract.LOG_PAYLOADS_ENV: json.dumps(log_payloads)},
            description="On-success destination of the worker: logs the record",
        )
        kept.send_async_failures_of(self)
