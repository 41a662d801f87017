"""The AWS clients the steps use, built here once per invocation."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from .config import EtlConfig


def aws_clients(config: EtlConfig) -> tuple[Any, Any]:
    """S3 and DynamoDB clients; thread-safe, shared by the map's threads (hence the pool size)."""
    session = boto3.session.Session()
    client_config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        max_pool_connections=max(10, config.map_concurrency + 8),
    )
    return session.client("s3", config=client_config), session.client("dynamodb", config=client_config)
