"""The function's AWS calls. One S3 client per execution environment, built on first use."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3


@cache
def _s3() -> Any:
    return boto3.client("s3")


def put_result(bucket: str, key: str, body: bytes) -> int:
    """Write `body` to `bucket`/`key` (the bucket's default encryption applies); returns its size."""
    _s3().put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return len(body)
