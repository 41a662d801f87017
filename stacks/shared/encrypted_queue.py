"""An SQS queue encrypted with its own KMS key, with a dead-letter queue and an alarm on its depth."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.shared.alarm_topic import AlarmTopic
from stacks.shared.nag import acknowledge

# SQS's longest retention: what failed waits for a person this long.
DEAD_LETTER_RETENTION = cdk.Duration.days(14)


class EncryptedQueue(Construct):
    """Creates a KMS key (rotated), `queue` and its `dead_letter_queue`, both encrypted with the key
    and TLS-only, and `dead_letters_alarm` (the dead-letter queue holds at least
    `dead_letter_alarm_threshold` messages), routed to `alarm_topic`.

    A message received `max_receive_count` times without being deleted moves to the dead-letter
    queue, so a message that keeps failing is kept whole for a person to look at, and replay.
    The kit builds every queue with a dead-letter queue through it (the destinations workload's
    kept failures subclass it); `alarm_topic=None` leaves the depth alarm to the caller.
    Grants nothing until asked: `grant_send` for producers; a consumer gets its permissions from
    `stacks.shared.sqs_event_source.subscribe` (or `queue.grant_consume_messages`).
    cdk-nag (AwsSolutions, Serverless) finds nothing to report on it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_topic: AlarmTopic | None,
        visibility_timeout: cdk.Duration | None = cdk.Duration.seconds(30),
        retention_period: cdk.Duration = cdk.Duration.days(4),
        max_receive_count: int = 5,
        dead_letter_alarm_threshold: int = 1,
        max_message_size_bytes: int | None = None,
        key_description: str | None = None,
        dead_letter_reason: str = (
            "This is the dead-letter queue: nothing consumes it automatically, so there is no receive count "
            "to redrive on; its depth alarm calls a person, who redrives the messages once the cause is fixed."
        ),
    ) -> None:
        super().__init__(scope, construct_id)
        # What SQS applies: 30 s where none is set.
        self.visibility_timeout = visibility_timeout or cdk.Duration.seconds(30)
        if not 1 <= max_receive_count <= 1000:
            raise ValueError(f"max_receive_count {max_receive_count} is not from 1 to 1000 (SQS's redrive bounds)")
        if dead_letter_alarm_threshold < 1:
            raise ValueError(f"dead_letter_alarm_threshold {dead_letter_alarm_threshold} is not at least 1")
        # A key of its own: reading the messages needs kms:Decrypt on it besides the SQS permissions.
        self.key = kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            description=key_description or f"Encrypts the queue {self.node.path}",
            # The queues go with the stack; a key left behind would protect nothing and cost a dollar a
            # month. KMS still waits 7 days before it deletes the key.
            removal_policy=cdk.RemovalPolicy.DESTROY,
            pending_window=cdk.Duration.days(7),
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            retention_period=DEAD_LETTER_RETENTION,
            enforce_ssl=True,
        )
        acknowledge(self.dead_letter_queue, "Serverless::Serverless-SQSRedrivePolicy", dead_letter_reason)
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            retention_period=retention_period,
            visibility_timeout=visibility_timeout,
            enforce_ssl=True,
            max_message_size_bytes=max_message_size_bytes,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=max_receive_count, queue=self.dead_letter_queue),
        )
        if alarm_topic is None:
            return
        self.dead_letters_alarm = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_description=f"Messages of {self.node.path} failed {max_receive_count} times and wait in its "
            "dead-letter queue: read them, fix the cause, then redrive them to the queue.",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5), statistic="Maximum"
            ),
            threshold=dead_letter_alarm_threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm_topic.notify(self.dead_letters_alarm)

    def grant_send(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` send messages to `queue`: sqs:SendMessage and the key use that needs.

        `queue.grant_send_messages` would add kms:Encrypt and the wildcard actions kms:ReEncrypt* and
        kms:GenerateDataKey*, which cdk-nag (rightly) reports.
        """
        send = iam.Grant.add_to_principal(
            grantee=grantee, actions=["sqs:SendMessage"], resource_arns=[self.queue.queue_arn]
        )
        return send.combine(
            iam.Grant.add_to_principal(
                grantee=grantee, actions=["kms:GenerateDataKey", "kms:Decrypt"], resource_arns=[self.key.key_arn]
            )
        )
