"""Placeholder for the durable-etl workload (replaced by its issue)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.settings import CommonSettings, DurableEtlSettings
from stacks.shared.bundling import python_code
from stacks.shared.kit_function import KitFunction


class DurableEtlStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, common: CommonSettings, settings: DurableEtlSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        from aws_cdk import aws_lambda as lambda_
        from stacks.shared.private_bucket import PrivateBucket
        from stacks.shared.alarm_topic import AlarmTopic
        from stacks.shared.nag import acknowledge
        PrivateBucket(self, "Source")
        AlarmTopic(self, "Alarms", email="a@b.co")
        fn = KitFunction(
            self,
            "Worker",
            common=common,
            workload="durable-etl",
            code=python_code("durable_etl"),
            handler="handler.handler",
            environment={},
            description="placeholder",
            durable_config=lambda_.DurableConfig(execution_timeout=cdk.Duration.hours(2), retention_period=cdk.Duration.days(3)),
        )
        acknowledge(fn.function, "Serverless::Serverless-LambdaDLQ", "placeholder placeholder placeholder")
