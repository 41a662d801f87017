"""The SNS topic export and failure notices go to."""

from __future__ import annotations

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
