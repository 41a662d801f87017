"""The AWS clients the steps use, built once per execution environment and reused.

Building a client loads its service model (tens of milliseconds of JSON parsing); Lambda keeps the
execution environment between invocations, and every replay, shard and group execution is one, so
building the clients once per pool size (not per invocation) saves that on each of them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from .config import EtlConfig


@cache
def _clients(pool_size: int) -> tuple[Any, Any]:
    session = boto3.session.Session()
    client_config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=pool_size)
    return session.client("s3", config=client_config), session.client("dynamodb", config=client_config)


def aws_clients(config: EtlConfig) -> tuple[Any, Any]:
    """S3 and DynamoDB clients; thread-safe, shared by the map's threads (hence the pool size)."""
    return _clients(max(10, config.map_concurrency + 8))
