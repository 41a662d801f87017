"""On-success destination: logs each success record (structured) and returns a summary."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from .records import SuccessRecord, parse_record

logger = Logger()


def summarize(record: SuccessRecord) -> dict[str, Any]:
    context = record.request_context
    return {
        "requestId": context.request_id,
        "functionArn": context.function_arn,
        "executedVersion": record.response_context.executed_version,
        "approximateInvokeCount": context.approximate_invoke_count,
        "completedAt": record.timestamp.isoformat(),
    }


@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    record = parse_record(event, SuccessRecord)
    summary = summarize(record)
    # The record as Lambda sent it (validated above): the log shows exactly what arrived.
    logger.info("asynchronous invocation succeeded", extra={"summary": summary, "record": event})
    return summary
