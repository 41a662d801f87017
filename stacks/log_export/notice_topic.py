"""The SNS topic export and failure notices go to."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.shared.alarm_topic import mail_topic


class NoticeTopic(Construct):
    """The SNS topic for export and failure notices, encrypted with `key`, TLS-only, with an optional
    e-mail subscription. Publishers are granted with `topic.grant_publish`."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.topic = mail_topic(
            self,
            "Topic",
            key=key,
            email=email,
            undelivered_mail="An e-mail copy of an export notice; the execution history keeps every export and "
            "failure, so a dead-letter queue of undelivered mails would have no reader.",
        )
        # A notice SNS accepted but could not deliver (a bounced or unconfirmed address) is the only
        # place where a failure report can vanish unseen: that raises an alarm of its own.
        self.undelivered_alarm = cloudwatch.Alarm(
            self,
            "UndeliveredNotices",
            alarm_description="SNS could not deliver a log export notice; the execution history still holds it.",
            metric=self.topic.metric_number_of_notifications_failed(period=cdk.Duration.minutes(5), statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
