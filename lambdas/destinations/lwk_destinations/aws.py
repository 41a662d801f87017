"""The AWS calls of the destinations functions. One client per execution environment, created on
first use (not at import), so that tests and the runtime create it with the credentials and region
in force at that point."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3

from .kept import KeptFailure


@cache
def sqs_client() -> Any:
    return boto3.client("sqs")


def send_kept_failure(kept: KeptFailure, *, queue_url: str, sqs: Any | None = None) -> str:
    """Send one kept failure to the queue; returns its SQS message id."""
    response = (sqs or sqs_client()).send_message(
        QueueUrl=queue_url, MessageBody=kept.to_message_body(), MessageAttributes=kept.message_attributes()
    )
    return str(response["MessageId"])


def forget_clients() -> None:
    """Drop the cached clients (a new execution environment, in tests)."""
    sqs_client.cache_clear()
