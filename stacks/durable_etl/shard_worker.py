"""The worker function that runs one unit of an ETL run as a child durable execution."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.settings.common import CommonSettings
from stacks.shared.nag import acknowledge

from .contract import contract
from .data_access import EtlDataAccess
from .etl_environment import etl_environment
from .etl_function import etl_function
from .settings import DurableEtlSettings


class ShardWorker(Construct):
    """The durable function the coordinator starts once per unit of a run (an extract slice, a
    shard's gather, a transform or load unit), from the same code as the coordinator.

    Its executions are started only by the coordinator's `context.invoke` (synchronously, through
    the `live` alias), so it has no dead-letter queue: a failed unit is reported to the coordinator,
    which retries it alone. Grants the ETL's data access, and invoking its own alias: a group
    execution (a range of more than FAN_OUT_PER_EXECUTION units of a phase) starts its units, or
    groups of its own, there.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        settings: DurableEtlSettings,
        source: s3.IBucket,
        table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.kit = etl_function(
            self,
            # Its log group is /lwk/<stage>/durable-etl/shard (the coordinator's: .../function).
            "Shard",
            common=common,
            settings=settings,
            handler=contract.SHARD_HANDLER,
            description="Durable ETL worker: one extract slice, shard or transform/load unit of a run",
            environment=etl_environment(settings, source=source, table=table),
        )
        self.function = self.kit.function
        for rule_id in ("Serverless::Serverless-LambdaDLQ", "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ"):
            acknowledge(
                self.function,
                rule_id,
                "Only the coordinator starts this function, through context.invoke, which waits for the "
                "result: nothing is invoked asynchronously, so nothing could reach a dead-letter queue. A "
                "failed unit goes back to the coordinator, which retries it and else fails the run (whose "
                "input its own dead-letter queue keeps).",
            )
        EtlDataAccess(self, "DataAccess", role=self.kit.role, source=source, table=table)
        self.alias = self.kit.add_live_alias()
        # Its own policy: in the role's default policy the alias ARN would make the function depend on itself.
        iam.Policy(
            self,
            "InvokeSelfPolicy",
            roles=[self.kit.role],
            statements=[iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.alias.function_arn])],
        )
