"""Placeholder for the log-export workload (replaced by its issue)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.settings import CommonSettings, LogExportSettings
from stacks.shared.bundling import python_code
from stacks.shared.kit_function import KitFunction


class LogExportStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, common: CommonSettings, settings: LogExportSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        KitFunction(
            self,
            "Worker",
            common=common,
            workload="log-export",
            code=python_code("log_export"),
            handler="handler.handler",
            environment={},
            description="placeholder",
        )
