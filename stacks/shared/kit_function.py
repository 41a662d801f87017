"""The kit's Lambda function: arm64, X-Ray, JSON logs into its own log group with set retention
(KMS-encrypted with a customer-managed key under the hardened profile)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.settings import CommonSettings
from stacks.shared.bundling import lambda_architecture
from stacks.shared.kit_log_group import KitLogGroup, log_retention
from stacks.shared.nag import acknowledge, logical_id

__all__ = ["LIVE_ALIAS_NAME", "KitFunction", "log_retention"]  # log_retention: its old home, still imported

LIVE_ALIAS_NAME = "live"
# The variable Powertools Metrics (and the bash runtime's metric line) read the namespace from.
METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
# The id of aws-cdk-lib's note, on every synth, that adding durable config to a function replaces it.
DURABLE_REPLACEMENT_NOTE = "aws-lambda:Function.DurableConfig"


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


@jsii.implements(iam.IGrantable)
class KitFunction(Construct):
    """A Lambda function with the kit's defaults and an explicit log group.

    Creates the function, the log group `/lwk/<stage>/<workload>/<id>` (predictable, so the log
    export workload can name it; a KitLogGroup, so KMS-encrypted under the hardened profile) and an execution role with no managed policies. The role may
    write to that log group only, send X-Ray traces, and, for a durable function, checkpoint and
    read the state of its own executions. Callers grant the rest with the resources' `grant_*`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        workload: str,
        code: lambda_.Code,
        handler: str,
        environment: Mapping[str, str],
        description: str,
        runtime: lambda_.Runtime = lambda_.Runtime.PYTHON_3_13,
        memory_size: int = 256,
        timeout: cdk.Duration = cdk.Duration.seconds(30),
        durable_config: lambda_.DurableConfig | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = KitLogGroup(
            self,
            "LogGroup",
            common=common,
            log_group_name=f"{common.log_group_prefix}/{workload}/{_kebab(construct_id)}",
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {self.node.path}",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=runtime,
            architecture=lambda_architecture(),
            code=code,
            handler=handler,
            description=description,
            # Powertools Metrics' namespace: one per kit and stage, the same on every function.
            environment={**environment, METRICS_NAMESPACE: common.metrics_namespace},
            memory_size=memory_size,
            timeout=timeout,
            role=self.role,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            log_group=self.log_group,
            durable_config=durable_config,
        )
        self._enable_tracing()
        self._acknowledge_nist_findings()
        if durable_config is not None:
            self._allow_checkpoints()
            cdk.Annotations.of(self.function).acknowledge_info(
                DURABLE_REPLACEMENT_NOTE,
                "Durable from its first deploy, so nothing is replaced. Turning durability on for a "
                "function that is already deployed does replace it (README, What every stack shares).",
            )
        if runtime is lambda_.Runtime.PYTHON_3_13 or runtime.name == lambda_.Runtime.PYTHON_3_13.name:
            for rule_id in ("AwsSolutions::AwsSolutions-L1", "Serverless::Serverless-LambdaLatestVersion"):
                acknowledge(
                    self.function,
                    rule_id,
                    "python3.13 on purpose: the durable execution SDK, the tests and the benchmarks run on "
                    "3.13 here; move to 3.14 together with .python-version and the pins.",
                )

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """Its execution role: `bucket.grant_read(kit_function)`, like aws-cdk-lib's functions."""
        return self.role

    def _acknowledge_nist_findings(self) -> None:
        # Only under the hardened profile, where the NIST 800-53 pack runs (acknowledge skips them otherwise).
        acknowledge(
            self.function,
            "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
            "The kit's functions talk only to AWS APIs (S3, DynamoDB, SQS, SNS, Logs, Lambda, X-Ray) over TLS "
            "with IAM-signed requests and reach no private network; a VPC would need a NAT gateway or some ten "
            "interface endpoints per AZ. Attach a VPC where your boundary requires it (docs/security.md).",
        )
        acknowledge(
            self.function,
            "NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
            "Reserved concurrency takes capacity from the account's shared pool and Lambda refuses to leave "
            "less than 100 unreserved, so a fixed number fails to deploy in accounts with a low quota; the "
            "right limit is the operator's per account (docs/security.md).",
        )

    def _enable_tracing(self) -> None:
        # Tracing is switched on through the L1 so that CDK does not put the X-Ray statement (which
        # must say Resource "*") into the role's default policy, where an acknowledgement of that
        # wildcard would also hide any wildcard a caller grants later. It gets a policy of its own.
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        tracing_policy = iam.Policy(
            self,
            "TracingPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                    resources=["*"],
                )
            ],
        )
        acknowledge(
            tracing_policy,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions; "
            "this policy holds only those two actions.",
        )

    def _allow_checkpoints(self) -> None:
        # What AWSLambdaBasicDurableExecutionRolePolicy grants on "*", narrowed to this function's
        # versions as AWS's durable functions security guide recommends. A separate policy, since
        # the function's own ARN in the role's default policy would be a dependency cycle.
        checkpoint_policy = iam.Policy(
            self,
            "CheckpointPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=["lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState"],
                    resources=[f"{self.function.function_arn}:*"],
                )
            ],
        )
        acknowledge(
            checkpoint_policy,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id(self.function)}.Arn>:*]",
            "Durable executions run on a version or alias of this one function; ':*' names exactly "
            "those qualified ARNs and nothing else.",
        )

    def add_live_alias(self) -> lambda_.Alias:
        """An alias `live` on the current version: what schedules, destinations and people invoke."""
        return lambda_.Alias(self, "LiveAlias", alias_name=LIVE_ALIAS_NAME, version=self.function.current_version)
