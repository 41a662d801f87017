"""The AWS calls of the destinations functions. One client per execution environment, created on
first use (not at import), so that tests and the runtime create it with the credentials and region
in force at that point."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3

from .kept import KeptFailure, Offloaded


@cache
def sqs_client() -> Any:
    return boto3.client("sqs")


@cache
def s3_client() -> Any:
    return boto3.client("s3")


def send_kept_failure(kept: KeptFailure, *, queue_url: str, sqs: Any | None = None) -> str:
    """Send one kept failure (whole, or a summary) to the queue; returns its SQS message id."""
    response = (sqs or sqs_client()).send_message(
        QueueUrl=queue_url, MessageBody=kept.to_message_body(), MessageAttributes=kept.message_attributes()
    )
    return str(response["MessageId"])


def offload(kept: KeptFailure, *, bucket: str, s3: Any | None = None) -> Offloaded:
    """Write the whole kept failure to the offload bucket; returns where it is."""
    body = kept.to_message_body().encode()
    key = kept.offload_key()
    (s3 or s3_client()).put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return Offloaded(bucket=bucket, key=key, bytes=len(body))


def read_offloaded(offloaded: Offloaded, *, s3: Any | None = None) -> bytes:
    response = (s3 or s3_client()).get_object(Bucket=offloaded.bucket, Key=offloaded.key)
    return bytes(response["Body"].read())


def forget_clients() -> None:
    """Drop the cached clients (a new execution environment, in tests)."""
    sqs_client.cache_clear()
    s3_client.cache_clear()
