"""A Lambda function on the bash custom runtime (provided.al2023), and its `live` alias."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.custom_runtime.settings import SOURCE_DIR, CustomRuntimeSettings, handler_script
from stacks.settings.common import CommonSettings
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import acknowledge

WORKLOAD = "custom-runtime"
# The asset is the folder as it is: the bootstrap, the handler scripts, nothing to build.
ASSET_EXCLUDES = ["tests", "fixtures", "__pycache__", ".*"]


class BashFunction(KitFunction):
    """A KitFunction (arm64, X-Ray active, JSON logs into its own log group) that runs
    `lambdas/custom_runtime/bootstrap`, which loads the handler script named by the settings, and an
    alias `live` on its current version. Its role may write its log group and send X-Ray traces,
    nothing else. A handler the asset lacks fails the synth (SettingsError)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, common: CommonSettings, settings: CustomRuntimeSettings
    ) -> None:
        # Settings read from context are checked already; these may have been built by hand.
        handler_script(settings.handler)
        super().__init__(
            scope,
            construct_id,
            common=common,
            workload=WORKLOAD,
            # A plain directory asset: CDK copies the files with their modes, so the bootstrap stays
            # executable in the zip (tests/custom_runtime/test_stack.py checks the staged copy).
            code=lambda_.Code.from_asset(str(SOURCE_DIR), exclude=ASSET_EXCLUDES),
            handler=settings.handler,
            environment={},
            description=f"Bash custom runtime (provided.al2023) serving {settings.handler}",
            runtime=lambda_.Runtime.PROVIDED_AL2023,
            memory_size=settings.memory_mb,
            timeout=cdk.Duration.seconds(settings.timeout_seconds),
        )
        self.live_alias = self.add_live_alias()
        for rule_id in ("Serverless::Serverless-LambdaDLQ", "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ"):
            acknowledge(
                self.function,
                rule_id,
                "Invoked synchronously (aws lambda invoke, the live alias): a handler error goes back to "
                "the caller in the response, so there is no asynchronous event left over for a DLQ.",
            )
