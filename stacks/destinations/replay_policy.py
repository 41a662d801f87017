"""The managed policy for the people who run the replay command."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.destinations.kept_failures import KeptFailures
from stacks.shared.nag import acknowledge


class ReplayPolicy(iam.ManagedPolicy):
    """Exactly what `python -m lambdas.destinations.replay` does: read and remove kept failures (and
    decrypt them), read offloaded ones, re-invoke the worker alias. Attach it to the operators'
    role or group."""

    def __init__(
        self, scope: Construct, construct_id: str, *, kept: KeptFailures, worker_alias: lambda_.IFunction
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Run the destinations replay command: read and remove kept failures, re-invoke the worker",
            statements=[
                *kept.replay_statements(),
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[worker_alias.function_arn]),
            ],
        )
        acknowledge(
            self,
            kept.offload_wildcard_finding(),
            "Offloaded kept failures are named at run time; the wildcard covers only the kept-failures/ "
            "prefix of the one offload bucket, for s3:GetObject.",
        )
