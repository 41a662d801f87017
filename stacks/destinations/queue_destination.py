"""An asynchronous-invocation destination that is an `EncryptedQueue`, granted without wildcards."""

from __future__ import annotations

import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.shared.encrypted_queue import EncryptedQueue


@jsii.implements(lambda_.IDestination)
class QueueDestination:
    """Lambda sends each invocation record to `queue` as the body of one SQS message.

    aws-cdk-lib's `SqsDestination` grants through `grant_send_messages`, which adds kms:Encrypt and
    the wildcard actions kms:ReEncrypt* / kms:GenerateDataKey*; this one grants what
    `EncryptedQueue.grant_send` grants (sqs:SendMessage, kms:GenerateDataKey and kms:Decrypt).
    """

    def __init__(self, queue: EncryptedQueue) -> None:
        self.queue = queue

    def bind(
        self, _scope: Construct, fn: lambda_.IFunction, *, type: lambda_.DestinationType
    ) -> lambda_.DestinationConfig:
        self.queue.grant_send(fn)
        return lambda_.DestinationConfig(destination=self.queue.queue.queue_arn)
