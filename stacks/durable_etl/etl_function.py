"""The KitFunction both durable ETL functions are: one code asset, memory, timeout and durable config."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.settings.common import CommonSettings
from stacks.shared.bundling import python_code
from stacks.shared.kit_function import KitFunction

from .settings import DurableEtlSettings

WORKLOAD = "durable-etl"
# A Lambda invocation's ceiling; each step (a batch, an extract part, a shard's gather) ends well within it.
FUNCTION_TIMEOUT = cdk.Duration.minutes(15)


def etl_function(
    scope: Construct,
    construct_id: str,
    *,
    common: CommonSettings,
    settings: DurableEtlSettings,
    handler: str,
    description: str,
    environment: dict[str, str],
) -> KitFunction:
    """A durable KitFunction of the ETL's code, entered at `handler`, with the ETL's settings (the
    coordinator and the shard worker differ only in handler, description and environment)."""
    return KitFunction(
        scope,
        construct_id,
        common=common,
        workload=WORKLOAD,
        code=python_code("durable_etl"),
        handler=handler,
        description=description,
        memory_size=settings.memory_mb,
        timeout=FUNCTION_TIMEOUT,
        environment=environment,
        durable_config=lambda_.DurableConfig(
            execution_timeout=cdk.Duration.hours(settings.execution_timeout_hours),
            retention_period=cdk.Duration.days(settings.retention_days),
        ),
    )
