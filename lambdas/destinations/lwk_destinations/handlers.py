"""The Lambda entries of the destinations workload: parse the event, call the logic, shape the result.

- `worker`: the example job (job.py), invoked asynchronously through its `live` alias;
- `success`: the on-success destination: logs the outcome and returns a summary;
- `failure`: the on-failure destination: keeps the failed request in SQS for replay (kept.py).

A record that does not parse raises MalformedRecordError, and a message SQS refuses raises too:
Lambda retries the destination asynchronously and then moves the event to the function's
dead-letter queue, so nothing is dropped silently.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import aws
from .config import load_config
from .contract import KEPT_MESSAGE_MAX_BYTES, SERVICE_NAME
from .job import run_job
from .kept import KeptFailure
from .records import FailureRecord, SuccessRecord, parse_record

logger = Logger(service=SERVICE_NAME)


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
def worker(event: Any, context: LambdaContext) -> dict[str, Any]:
    result = run_job(event)
    logger.info("job succeeded")
    return result


@logger.inject_lambda_context
def success(event: Any, context: LambdaContext) -> dict[str, Any]:
    record = parse_record(event, SuccessRecord)
    summary = summarize(record)
    logger.info("asynchronous invocation succeeded", extra={"summary": summary, "record": event})
    return summary


@logger.inject_lambda_context
def failure(event: Any, context: LambdaContext) -> dict[str, Any]:
    target = load_config(os.environ).keep_target()
    record = parse_record(event, FailureRecord)
    kept = KeptFailure.from_record(record)
    message = kept
    if not kept.fits_queue(KEPT_MESSAGE_MAX_BYTES):
        # Whole to the bucket first: the queue's summary must never point to nothing.
        message = kept.summary(aws.offload(kept, bucket=target.offload_bucket))
    message_id = aws.send_kept_failure(message, queue_url=target.queue_url)
    logger.warning(
        "asynchronous invocation failed; request kept for replay",
        extra={"messageId": message_id, "kept": message.model_dump(mode="json", by_alias=True)},
    )
    return {
        "messageId": message_id,
        "requestId": kept.request_id,
        "condition": kept.condition,
        "offloaded": message.offloaded is not None,
    }
