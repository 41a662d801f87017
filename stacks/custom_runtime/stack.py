"""The custom runtime workload: a bash `bootstrap` on provided.al2023 serving a bash handler."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.custom_runtime.bash_function import BashFunction
from stacks.custom_runtime.settings import CustomRuntimeSettings
from stacks.settings.common import CommonSettings
from stacks.shared.workload_dashboard import BusinessMetrics

# What the bootstrap's metric line counts (lambdas/custom_runtime/bootstrap, count_handler_error).
HANDLER_ERRORS_METRIC = "HandlerErrors"


class CustomRuntimeStack(cdk.Stack):
    """One Lambda function on the bash custom runtime (BashFunction), and its `live` alias."""

    business_metrics = (BusinessMetrics("Handler errors (bash runtime)", (HANDLER_ERRORS_METRIC,)),)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        settings: CustomRuntimeSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.bash_function = BashFunction(self, "BashFunction", common=common, settings=settings)
        cdk.CfnOutput(self, "FunctionName", value=self.bash_function.function.function_name)
        cdk.CfnOutput(self, "LiveAliasArn", value=self.bash_function.live_alias.function_arn)
