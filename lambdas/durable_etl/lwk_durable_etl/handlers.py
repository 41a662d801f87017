"""Lambda entry point of the durable ETL (handler `lwk_durable_etl.handlers.handler`): wiring only."""

from __future__ import annotations

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools import Logger

from .config import load_config
from .contract import SERVICE_NAME
from .workflow import run_etl

logger = Logger(service=SERVICE_NAME)


@durable_execution
def handler(event: Any, context: DurableContext) -> dict[str, Any]:
    # context.logger writes through Powertools but stays silent while the SDK replays completed work.
    context.set_logger(logger)
    return run_etl(event, context, load_config(os.environ))
