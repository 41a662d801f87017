"""The custom runtime workload: a bash `bootstrap` on provided.al2023 serving a bash handler."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.settings import CommonSettings, CustomRuntimeSettings, SettingsError
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import acknowledge

SOURCE_DIR = Path(__file__).resolve().parents[1] / "lambdas" / "custom_runtime"
# The asset is the folder as it is: the bootstrap, the handler scripts, nothing to build.
ASSET_EXCLUDES = ["tests", "fixtures", "__pycache__", ".*"]


def handler_script(handler: str) -> Path:
    """The script a `file.function` handler names, checked to exist and to define the function.

    The bootstrap would report either mistake as a Runtime.InitError on the first invocation;
    synth reports it before anything is deployed.
    """
    file_name, function_name = handler.split(".", 1)
    script = SOURCE_DIR / f"{file_name}.sh"
    shown = script.relative_to(SOURCE_DIR.parents[1])
    if not script.is_file():
        raise SettingsError(f'kit.customRuntime.handler: "{handler}" names {shown}, which does not exist')
    name = re.escape(function_name)
    # `name() {`, `function name {` or `function name() {`, the brace possibly on the next line.
    definition = re.compile(rf"^\s*(function\s+{name}(\s*\(\s*\))?|{name}\s*\(\s*\))\s*\{{?\s*$", re.MULTILINE)
    if not definition.search(script.read_text()):
        raise SettingsError(f'kit.customRuntime.handler: "{handler}": {shown} defines no function {function_name}')
    return script


class CustomRuntimeStack(cdk.Stack):
    """One Lambda function on the bash custom runtime, and its `live` alias.

    The function (KitFunction: arm64, X-Ray active, JSON logs into its own log group) runs
    `lambdas/custom_runtime/bootstrap`, which loads the handler script named by the settings. Its
    role may write its log group and send X-Ray traces, nothing else.
    """

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
        handler_script(settings.handler)
        self.bash_function = KitFunction(
            self,
            "BashFunction",
            common=common,
            workload="custom-runtime",
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
        self.live_alias = self.bash_function.add_live_alias()
        acknowledge(
            self.bash_function.function,
            "Serverless::Serverless-LambdaDLQ",
            "Invoked synchronously (aws lambda invoke, the live alias): a handler error goes back to "
            "the caller in the response, so there is no asynchronous event left over for a DLQ.",
        )
        cdk.CfnOutput(self, "FunctionName", value=self.bash_function.function.function_name)
        cdk.CfnOutput(self, "LiveAliasArn", value=self.live_alias.function_arn)
