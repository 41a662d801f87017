"""The Lambda entries of the destinations workload: parse the event, call the logic, shape the result.

- `worker`: the example job (job.py), invoked asynchronously through its `live` alias;
- `success`: the on-success destination: logs the outcome and returns a summary;
- `failure`: reads the failure records Lambda writes to the failure-records queue (the worker's
  on-failure destination) and keeps each failed request for replay (kept.py), offloading a failure
  too big for the queue to the offload bucket. An SQS destination, not a Lambda one: the Lambda
  runtime parses a function's event into floats (`1e400` -> `inf`, digits lost), a queue message's
  body reaches the handler as text, and the request payload in it is kept as that text.

Logs carry ids, outcomes, sizes and error types, never payload content nor error messages (they come
from the payloads and stay in the kept record for replay); kit.destinations.logPayloads adds them
for debugging (LOG_PAYLOADS=true). A record that does not parse raises MalformedRecordError, and a
message SQS or S3 refuses raises too: the success handler's event is retried by Lambda and then
moved to its dead-letter queue; a failure record is reported in `batchItemFailures`, received
again, and after the queue's receive limit moved to the failure-records dead-letter queue. Both
dead-letter queues alarm, so nothing is dropped silently.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import aws
from .config import load_config
from .contract import FAILURES_KEPT, FAILURES_OFFLOADED, KEPT_MESSAGE_MAX_BYTES, SERVICE_NAME
from .job import run_job
from .kept import SUMMARY_ERROR_TYPE_CHARS, KeptFailure
from .records import SuccessRecord, parse_failure_body, parse_record

logger = Logger(service=SERVICE_NAME)


def _metrics() -> Metrics:
    # Made per call: the namespace is read from the environment then, not when the module was imported.
    # Powertools keeps one set of metrics for all instances, flushed once per batch by `failure`.
    return Metrics(service=SERVICE_NAME)


def _json_bytes(value: Any) -> int:
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except (RecursionError, TypeError, ValueError):
        return -1  # not serializable: the size is unknown, and said so


def summarize(record: SuccessRecord) -> dict[str, Any]:
    context = record.request_context
    return {
        "requestId": context.request_id,
        "functionArn": context.function_arn,
        "executedVersion": record.response_context.executed_version,
        "approximateInvokeCount": context.approximate_invoke_count,
        "completedAt": record.timestamp.isoformat(),
    }


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event is a payload.
@logger.inject_lambda_context(log_event=False)
def worker(event: Any, context: LambdaContext) -> dict[str, Any]:
    config = load_config(os.environ)
    result = run_job(event)
    extra: dict[str, Any] = {"requestBytes": _json_bytes(event)}
    if config.log_payloads:
        extra["request"] = event
    logger.info("job succeeded", extra=extra)
    return result


@logger.inject_lambda_context(log_event=False)
def success(event: Any, context: LambdaContext) -> dict[str, Any]:
    config = load_config(os.environ)
    record = parse_record(event, SuccessRecord)
    summary = summarize(record)
    extra: dict[str, Any] = {
        "summary": summary,
        "condition": record.request_context.condition,
        "requestPayloadBytes": _json_bytes(record.request_payload),
        "responsePayloadBytes": _json_bytes(record.response_payload),
    }
    if config.log_payloads:
        extra["record"] = event
    logger.info("asynchronous invocation succeeded", extra=extra)
    return summary


@logger.inject_lambda_context(log_event=False)
def failure(event: Any, context: LambdaContext) -> PartialItemFailureResponse:
    """A batch of failure records from the failure-records queue; answers which ones to receive again."""
    try:
        return process_partial_response(
            event=event, record_handler=keep, processor=BatchProcessor(event_type=EventType.SQS), context=context
        )
    finally:
        # One metric line per batch, with what was kept; none when nothing was (a batch that failed whole).
        metrics = _metrics()
        if metrics.metric_set:
            metrics.flush_metrics()


def keep(record: SQSRecord) -> dict[str, Any]:
    """Keep the failed request of one failure record (an SQS message whose body is the record)."""
    config = load_config(os.environ)
    target = config.keep_target()
    failure_record, payload_json = parse_failure_body(record.body)
    kept = KeptFailure.from_record(failure_record, payload_json)
    sent = kept
    if not kept.fits_queue(KEPT_MESSAGE_MAX_BYTES):
        # Whole to the bucket first: the queue's summary must never point to nothing.
        sent = kept.summary(aws.offload(kept, bucket=target.offload_bucket))
    message_id = aws.send_kept_failure(sent, queue_url=target.queue_url)
    extra: dict[str, Any] = {
        "recordMessageId": record.message_id,
        "messageId": message_id,
        "requestId": kept.request_id,
        "functionArn": kept.function_arn,
        "condition": kept.condition,
        "approximateInvokeCount": kept.approximate_invoke_count,
        "errorType": kept.error.type[:SUMMARY_ERROR_TYPE_CHARS],
        "errorTypeChars": len(kept.error.type),
        "errorMessageChars": len(kept.error.message),
        "functionError": kept.error.function_error,
        "requestPayloadBytes": kept.payload_bytes,
        "messageBytes": sent.message_bytes(),
        "offloaded": sent.offloaded.model_dump(by_alias=True) if sent.offloaded else None,
        "truncated": list(sent.truncated),
    }
    if config.log_payloads:
        extra["kept"] = kept.model_dump(mode="json", by_alias=True)
    logger.warning("asynchronous invocation failed; request kept for replay", extra=extra)
    metrics = _metrics()
    metrics.add_metric(name=FAILURES_KEPT, unit=MetricUnit.Count, value=1)
    if sent.offloaded is not None:
        metrics.add_metric(name=FAILURES_OFFLOADED, unit=MetricUnit.Count, value=1)
    return {
        "messageId": message_id,
        "requestId": kept.request_id,
        "condition": kept.condition,
        "offloaded": sent.offloaded is not None,
    }
