"""Where the destinations workload keeps failed requests: a queue, its dead-letter queue, their key."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.destinations.contract import contract
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import acknowledge

KEPT_RETENTION = cdk.Duration.days(contract.KEPT_RETENTION_DAYS)
# Every listing (`--dry-run`) and every refused re-invoke counts as a receive; a message received
# this often without being replayed moves to the dead-letter queue instead of cycling for ever.
MAX_RECEIVES_BEFORE_DLQ = contract.MAX_RECEIVES_BEFORE_DLQ


class KeptFailures(Construct):
    """The queue of failed requests waiting for replay, and its dead-letter queue.

    Creates a customer managed KMS key (rotated) and two standard SQS queues encrypted with it,
    TLS-only, kept 14 days: `queue` (one message per failed request, written by the failure
    handler) and `dead_letter_queue` (messages received too often without being replayed, and the
    events the destination handlers could not process). Grants nothing until asked: see
    `grant_keep`, `send_async_failures_of` and `replay_statements`.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # A key of its own: the payloads of failed requests are business data, and reading them
        # should need kms:Decrypt on this key besides the SQS permissions.
        self.key = kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            description=f"Encrypts the kept failed requests of {cdk.Stack.of(self).stack_name}",
            # The queues go with the stack (SQS's default); a key left behind would protect nothing
            # and cost a dollar a month. KMS still waits 7 days before it deletes the key.
            removal_policy=cdk.RemovalPolicy.DESTROY,
            pending_window=cdk.Duration.days(7),
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            retention_period=KEPT_RETENTION,
            enforce_ssl=True,
        )
        acknowledge(
            self.dead_letter_queue,
            "Serverless::Serverless-SQSRedrivePolicy",
            "This queue is the end of the line for kept failures and unprocessable records: nothing consumes "
            "it automatically, so there is no receive count to redrive on; its depth alarm calls a person.",
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            retention_period=KEPT_RETENTION,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=MAX_RECEIVES_BEFORE_DLQ, queue=self.dead_letter_queue
            ),
        )

    def _send_statements(self, queue: sqs.IQueue) -> list[iam.PolicyStatement]:
        # What an SQS producer on a KMS-encrypted queue needs, and no more. `grant_send_messages`
        # would add kms:Encrypt and the wildcard actions kms:ReEncrypt* / kms:GenerateDataKey*.
        return [
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]),
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn]),
        ]

    def grant_keep(self, function: KitFunction) -> None:
        """Let `function` send kept failures to `queue`."""
        for statement in self._send_statements(self.queue):
            function.role.add_to_principal_policy(statement)

    def send_async_failures_of(self, function: KitFunction) -> None:
        """Make `dead_letter_queue` the dead-letter queue of `function`, and let it send there.

        Lambda moves an asynchronous event there once the function failed it on every attempt,
        with the error in the message attributes.
        """
        for statement in self._send_statements(self.dead_letter_queue):
            function.role.add_to_principal_policy(statement)
        cfn_function = function.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        # Set on the L1 because KitFunction does not take a dead-letter queue; Lambda checks at
        # create time that the role may send there, and the function depends on the role already.
        cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
            target_arn=self.dead_letter_queue.queue_arn
        )

    def replay_statements(self) -> list[iam.PolicyStatement]:
        """What the replay command does to the queue: receive, delete, release, decrypt."""
        return [
            iam.PolicyStatement(
                actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
                resources=[self.queue.queue_arn],
            ),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.key.key_arn]),
        ]
