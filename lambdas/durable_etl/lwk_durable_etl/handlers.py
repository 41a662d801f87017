"""Lambda entry points of the durable ETL: wiring only.

`handler` (lwk_durable_etl.handlers.handler) coordinates a run; `shard` (lwk_durable_etl.handlers.shard)
runs one unit of it, or a group of units, as a child execution the coordinator starts.
"""

from __future__ import annotations

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools import Logger

from .config import load_config
from .contract import SERVICE_NAME
from .workflow import run_etl, run_worker

logger = Logger(service=SERVICE_NAME)


@durable_execution
def handler(event: Any, context: DurableContext) -> dict[str, Any]:
    # context.logger writes through Powertools but stays silent while the SDK replays completed work.
    context.set_logger(logger)
    return run_etl(event, context, load_config(os.environ))


@durable_execution
def shard(event: Any, context: DurableContext) -> dict[str, int]:
    context.set_logger(logger)
    return run_worker(event, context, load_config(os.environ))
