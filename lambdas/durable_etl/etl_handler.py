"""Lambda entry point of the durable ETL (handler `etl_handler.handler`): wiring only."""

from __future__ import annotations

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from etl.config import EtlConfig
from etl.workflow import run_etl


@durable_execution
def handler(event: Any, context: DurableContext) -> dict[str, Any]:
    return run_etl(event, context, EtlConfig.from_environment(os.environ))
