"""The SNS topic a workload's alarms publish to, encrypted, with an optional e-mail subscription."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.shared.nag import acknowledge


def mail_topic(
    scope: Construct, construct_id: str, *, key: kms.IKey, email: str | None, undelivered_mail: str
) -> sns.Topic:
    """An SNS topic encrypted with `key`, TLS-only, with `email` subscribed if given.

    `undelivered_mail` says why a mail SNS cannot deliver needs no dead-letter queue.
    """
    topic = sns.Topic(scope, construct_id, master_key=key, enforce_ssl=True)
    if email:
        subscription = topic.add_subscription(subscriptions.EmailSubscription(email))
        acknowledge(subscription, "Serverless::Serverless-SNSRedrivePolicy", undelivered_mail)
    return topic


class AlarmTopic(Construct):
    """Creates a KMS key (rotated) and an SNS topic encrypted with it, TLS-only publishing.

    CloudWatch alarms of this account and region may publish to the topic and use the key; `notify(alarm)` routes an alarm's ALARM and OK states here.
    """

    def __init__(self, scope: Construct, construct_id: str, *, email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            description="Encrypts the alarm topic",
            # The topic goes with the stack; a key left behind would protect nothing and cost a
            # dollar a month. KMS still waits 7 days before it deletes the key.
            removal_policy=cdk.RemovalPolicy.DESTROY,
            pending_window=cdk.Duration.days(7),
        )
        # CloudWatch publishes to an encrypted topic only if it may use the key; the conditions keep
        # it to alarms of this account and region (no confused deputy). Alarm names are generated at
        # deploy time, so the guard names the account's alarms, not single ones.
        stack = cdk.Stack.of(self)
        from_own_alarms = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"},
        }
        cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_service],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=from_own_alarms,
            )
        )
        self.topic = mail_topic(
            self,
            "Topic",
            key=self.key,
            email=email,
            undelivered_mail="An e-mail copy of an alarm; a mail SNS cannot deliver leaves the alarm itself in "
            "ALARM state in CloudWatch, so a dead-letter queue of alarm mails would have no reader.",
        )
        # The topic policy replaces SNS's default one (which let the account's own services publish):
        # without this statement CloudWatch may not publish, and every alarm notification is dropped.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmsOfThisAccount",
                principals=[cloudwatch_service],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=from_own_alarms,
            )
        )

    @property
    def topic_arn(self) -> str:
        """The SNS topic's ARN (a token), for outputs and policies: `alarms.topic.topic_arn`."""
        return self.topic.topic_arn

    def notify(self, alarm: cloudwatch.Alarm) -> None:
        action = cloudwatch_actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
