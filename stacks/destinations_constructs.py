"""Constructs of the Lambda Destinations workload: where failed requests are kept, and their alarms."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.shared.alarm_topic import AlarmTopic
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import acknowledge

# SQS's longest retention: failed requests wait for a person to look at them.
KEPT_RETENTION = cdk.Duration.days(14)
# Every listing (`--dry-run`) and every refused re-invoke counts as a receive; a message received
# this often without being replayed moves to the dead-letter queue instead of cycling for ever.
MAX_RECEIVES_BEFORE_DLQ = 10


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


class DestinationsAlarms(Construct):
    """Alarms that say a request needs a person, published to an encrypted SNS topic.

    - kept failures waiting: the queue of failed requests holds at least `failed_threshold`;
    - unprocessable: anything in the dead-letter queue (a malformed record, or a kept failure
      received too often);
    - destination delivery failures: Lambda could not hand a record of the worker to a destination.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        email: str | None,
        kept: KeptFailures,
        worker_alias: lambda_.Alias,
        failed_threshold: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = AlarmTopic(self, "Topic", email=email)
        period = cdk.Duration.minutes(5)
        self.kept_failures_waiting = cloudwatch.Alarm(
            self,
            "KeptFailuresWaiting",
            alarm_description="Failed requests are kept for replay: read them with the replay command's --dry-run.",
            metric=kept.queue.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
            threshold=failed_threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.unprocessable = cloudwatch.Alarm(
            self,
            "Unprocessable",
            alarm_description="The dead-letter queue holds records a destination handler could not process, "
            "or kept failures received too often without being replayed.",
            metric=kept.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=period, statistic="Maximum"
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.delivery_failures = cloudwatch.Alarm(
            self,
            "DestinationDeliveryFailures",
            alarm_description="Lambda could not deliver an invocation record of the worker to its destination: "
            "that record is lost.",
            metric=worker_alias.metric("DestinationDeliveryFailures", period=period, statistic="Sum"),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (self.kept_failures_waiting, self.unprocessable, self.delivery_failures):
            self.topic.notify(alarm)
