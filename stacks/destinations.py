"""Placeholder for the destinations workload (replaced by its issue)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.settings import CommonSettings, DestinationsSettings
from stacks.shared.bundling import python_code
from stacks.shared.kit_function import KitFunction


class DestinationsStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, common: CommonSettings, settings: DestinationsSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        KitFunction(
            self,
            "Worker",
            common=common,
            workload="destinations",
            code=python_code("destinations"),
            handler="handler.handler",
            environment={},
            description="placeholder",
        )
