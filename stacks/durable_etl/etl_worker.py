"""The durable ETL function, its `live` alias and its dead-letter queue."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.settings.common import CommonSettings
from stacks.shared.kit_keys import KitKeys
from stacks.shared.nag import acknowledge

from .contract import contract
from .data_access import EtlDataAccess
from .etl_environment import etl_environment
from .etl_function import etl_function
from .settings import DurableEtlSettings


class EtlWorker(Construct):
    """The durable ETL's coordinator function, its `live` alias and its dead-letter queue.

    Creates an encrypted, TLS-only SQS queue that receives the input of executions that end
    FAILED/TIMED_OUT (the function's dead-letter config; the schedule uses it too): SQS-managed
    keys under the default profile, the stack's customer-managed data key under `hardened`; and the
    KitFunction with durable config from settings. Grants the function the ETL's data access
    (EtlDataAccess), sending to its dead-letter queue, and invoking the shard worker's alias (its
    child executions). Invoke it through `alias`, never the bare function.
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
        shard_alias: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        keys = KitKeys.of(self)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            # The data key is retained, like the failed inputs this queue keeps for replay.
            encryption=sqs.QueueEncryption.SQS_MANAGED if keys is None else sqs.QueueEncryption.KMS,
            encryption_master_key=None if keys is None else keys.data_key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(
            self.dead_letters,
            "Serverless::Serverless-SQSRedrivePolicy",
            "This queue is itself the dead-letter queue of the ETL function and of its schedule; "
            "nothing consumes it automatically, a person reads it when its depth alarm fires.",
        )
        self.kit = etl_function(
            self,
            "Function",
            common=common,
            settings=settings,
            handler=contract.HANDLER,
            description="Durable ETL: S3 JSON Lines/CSV -> validated batches -> DynamoDB, resumable",
            environment={
                **etl_environment(settings, source=source, table=table),
                contract.SHARD_FUNCTION: shard_alias.function_arn,
            },
        )
        self.function = self.kit.function
        # KitFunction has no dead-letter parameter; the L1 property is what Lambda reads.
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
            target_arn=self.dead_letters.queue_arn
        )
        # Only the call Lambda makes with this role; grant_send_messages adds GetQueueAttributes/GetQueueUrl.
        self.dead_letters.grant(self.kit.role, "sqs:SendMessage")
        self.grant_dead_letter_key(self.kit.role)
        EtlDataAccess(self, "DataAccess", role=self.kit.role, source=source, table=table)
        self.alias = self.kit.add_live_alias()
        # context.invoke starts the worker's executions in this function's name (a policy of its own:
        # in the role's default policy the alias ARN would make the function depend on its worker).
        iam.Policy(
            self,
            "InvokeShardWorkerPolicy",
            roles=[self.kit.role],
            statements=[iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[shard_alias.function_arn])],
        )

    def grant_dead_letter_key(self, sender: iam.IGrantable) -> iam.Grant:
        """Let `sender`, which may already send to the dead-letter queue, use its key the way SQS does in
        a sender's name: kms:GenerateDataKey and kms:Decrypt (SQS developer guide, a producer's
        permissions on an SSE-KMS queue). Nothing under the default profile (SQS-managed keys).
        """
        key = self.dead_letters.encryption_master_key
        if key is None:
            return iam.Grant.drop(sender, "the dead-letter queue's SQS-managed key needs no grant")
        return key.grant(sender, "kms:GenerateDataKey", "kms:Decrypt")
