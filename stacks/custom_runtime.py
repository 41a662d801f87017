"""Placeholder for the custom-runtime workload (replaced by its issue)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.settings import CommonSettings, CustomRuntimeSettings
from stacks.shared.bundling import python_code
from stacks.shared.kit_function import KitFunction


class CustomRuntimeStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, common: CommonSettings, settings: CustomRuntimeSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        KitFunction(
            self,
            "Worker",
            common=common,
            workload="custom-runtime",
            code=python_code("custom_runtime"),
            handler="handler.handler",
            environment={},
            description="placeholder",
        )
