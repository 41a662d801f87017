"""On-failure destination: keeps each failed request in SQS for replay, and logs it.

A record that does not parse raises MalformedRecordError, and a message SQS refuses raises too:
Lambda retries this function asynchronously and then moves the event to the function's dead-letter
queue (the kept-failures queue's DLQ), so nothing is dropped silently.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from .kept import KeptFailure
from .records import FailureRecord, parse_record

QUEUE_URL_VARIABLE = "FAILED_REQUESTS_QUEUE_URL"

logger = Logger()


class MissingConfigurationError(RuntimeError):
    """The function was deployed without the environment it needs."""


@cache
def _sqs() -> Any:
    # One client per execution environment, created on first use (not at import, so that tests
    # and the runtime both create it with the credentials and region in force at that point).
    return boto3.client("sqs")


def keep(record: FailureRecord, *, sqs: Any, queue_url: str) -> tuple[KeptFailure, str]:
    """Send the kept failure to the queue; returns it and its SQS message id."""
    kept = KeptFailure.from_record(record)
    response = sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=kept.to_message_body(),
        MessageAttributes=kept.message_attributes(),
    )
    return kept, response["MessageId"]


@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    queue_url = os.environ.get(QUEUE_URL_VARIABLE)
    if not queue_url:
        raise MissingConfigurationError(f"environment variable {QUEUE_URL_VARIABLE} is not set")
    record = parse_record(event, FailureRecord)
    kept, message_id = keep(record, sqs=_sqs(), queue_url=queue_url)
    logger.warning(
        "asynchronous invocation failed; request kept for replay",
        extra={"messageId": message_id, "kept": kept.model_dump(mode="json", by_alias=True)},
    )
    return {"messageId": message_id, "requestId": kept.request_id, "condition": kept.condition}
