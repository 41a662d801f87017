"""Where the destinations workload keeps failed requests: a queue, its dead-letter queue, their key."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.destinations.contract import contract
from stacks.shared.encrypted_queue import EncryptedQueue
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import logical_id
from stacks.shared.prefix_access import PrefixAccess
from stacks.shared.private_bucket import PrivateBucket

KEPT_RETENTION = cdk.Duration.days(contract.KEPT_RETENTION_DAYS)
# Every listing (`--dry-run`) and every refused re-invoke counts as a receive; a message received
# this often without being replayed moves to the dead-letter queue instead of cycling for ever.
MAX_RECEIVES_BEFORE_DLQ = contract.MAX_RECEIVES_BEFORE_DLQ


class KeptFailures(EncryptedQueue):
    """The queue of failed requests waiting for replay, its dead-letter queue, and the offload bucket.

    An EncryptedQueue: a customer managed KMS key (rotated) and two standard SQS queues encrypted with it,
    TLS-only, kept 14 days: `queue` (one message per failed request, written by the failure
    handler, at most contract.KEPT_MESSAGE_MAX_BYTES each) and `dead_letter_queue` (messages
    received too often without being replayed, and the events the success handler could not
    process). `offload` is a PrivateBucket for whole kept failures too big for the queue, under
    contract.OFFLOAD_PREFIX, expired after contract.OFFLOAD_EXPIRATION_DAYS. Grants nothing until
    asked: see `grant_keep`, `send_async_failures_of` and `replay_statements`.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        # The kit's one queue-with-dead-letter-queue construct, with this workload's retention and sizes;
        # the same construct paths as before it was a subclass, so no resource is replaced on update.
        super().__init__(
            scope,
            construct_id,
            alarm_topic=None,  # the workload's alarms watch both queues (alarms.py)
            visibility_timeout=None,  # SQS's 30 s: the replay command receives, replays, deletes
            retention_period=KEPT_RETENTION,
            max_receive_count=MAX_RECEIVES_BEFORE_DLQ,
            # The failure handler offloads what would not fit (kept.py); set, not left to SQS's default.
            max_message_size_bytes=contract.KEPT_MESSAGE_MAX_BYTES,
            # A key of its own: the payloads of failed requests are business data, and reading them
            # should need kms:Decrypt on this key besides the SQS permissions.
            key_description=f"Encrypts the kept failed requests of {cdk.Stack.of(scope).stack_name}",
            dead_letter_reason=(
                "This queue is the end of the line for kept failures and unprocessable records: nothing consumes "
                "it automatically, so there is no receive count to redrive on; its depth alarm calls a person."
            ),
        )
        self.offload = PrivateBucket(
            self,
            "Offload",
            lifecycle_rules=[
                s3.LifecycleRule(
                    prefix=contract.OFFLOAD_PREFIX, expiration=cdk.Duration.days(contract.OFFLOAD_EXPIRATION_DAYS)
                )
            ],
        )

    def _send_statements(self, queue: sqs.IQueue) -> list[iam.PolicyStatement]:
        # What an SQS producer on a KMS-encrypted queue needs, and no more. `grant_send_messages`
        # would add kms:Encrypt and the wildcard actions kms:ReEncrypt* / kms:GenerateDataKey*.
        return [
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]),
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn]),
        ]

    def grant_keep(self, grantee: KitFunction) -> iam.Grant:
        """Let `grantee` send kept failures to `queue` (the grant returned) and write whole ones under the
        offload prefix (a PrefixAccess policy beside it, on its role)."""
        grant = iam.Grant.drop(grantee, "kept failures")
        for statement in self._send_statements(self.queue):
            grant = grant.combine(
                iam.Grant.add_to_principal(
                    grantee=grantee, actions=statement.actions, resource_arns=statement.resources
                )
            )
        PrefixAccess(
            grantee, "OffloadAccess", bucket=self.offload.bucket, prefix=contract.OFFLOAD_PREFIX, role=grantee.role,
            write=True,
        )  # fmt: skip
        return grant

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
        """What the replay command does: receive, delete, release and decrypt kept failures; read offloaded ones."""
        bucket = self.offload.bucket
        keys = [self.key.key_arn, *([bucket.encryption_key.key_arn] if bucket.encryption_key else [])]
        return [
            iam.PolicyStatement(
                actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
                resources=[self.queue.queue_arn],
            ),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=keys),
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{contract.OFFLOAD_PREFIX}*")]
            ),
        ]

    def offload_wildcard_finding(self) -> str:
        """The cdk-nag IAM5 finding id of `replay_statements`' object wildcard (for its acknowledgement)."""
        return f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id(self.offload.bucket)}.Arn>/{contract.OFFLOAD_PREFIX}*]"
