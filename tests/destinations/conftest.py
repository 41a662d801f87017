"""Fixtures of the destinations tests: the handlers importable as Lambda imports them, and the
synthesized stack created in moto with a dispatcher for Lambda's asynchronous path."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto.awslambda.models import LambdaBackend

from stacks.settings.common import APP_NAME
from support.aws_limits import strict_aws_limits
from support.cfn import ACCOUNT, REGION, Deployment, deploy
from support.paths import use_lambda_code
from support.sqs_poller import SqsPoller
from support.stand_ins import mocked_aws
from tests.conftest import KitAssembly
from tests.destinations.lambda_async import LambdaAsync, Run

# The Lambda asset root is the import root inside Lambda: make it one here too.
ASSET_ROOT = use_lambda_code("destinations")


def _forget_clients() -> None:
    # The handlers keep one client per execution environment; each test is a new one.
    module = sys.modules.get("lwk_destinations.aws")
    if module is not None:
        module.forget_clients()


@dataclass
class DeployedStack:
    """The destinations stack in moto, the dispatcher standing in for Lambda, and the clients."""

    deployment: Deployment
    lambda_async: LambdaAsync
    sqs: Any
    lambda_client: Any
    s3: Any

    @property
    def worker_alias_arn(self) -> str:
        return self.deployment.outputs["WorkerAliasArn"]

    @property
    def failed_queue_url(self) -> str:
        return self.deployment.outputs["FailedRequestsQueueUrl"]

    @property
    def dead_letter_queue_url(self) -> str:
        return self.deployment.outputs["DeadLetterQueueUrl"]

    @property
    def records_dead_letter_queue_url(self) -> str:
        return self.deployment.outputs["FailureRecordsDeadLetterQueueUrl"]

    @property
    def records_queue_url(self) -> str:
        return self.deployment.outputs["FailureRecordsQueueUrl"]

    @property
    def offload_bucket(self) -> str:
        return self.deployment.outputs["OffloadBucketName"]

    def function_name(self, construct_id: str) -> str:
        """The moto name of the function of construct `construct_id` ("Worker", "FailureHandler", ...)."""
        return self.deployment.function(f"{construct_id}Function").name

    def alias_arn(self, logical_prefix: str) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name(logical_prefix)}:live"

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Receive (and delete) every message of a queue, with its attributes."""
        messages: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", []):
            messages.extend(batch)
            for message in batch:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    def visible_count(self, queue_url: str) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, as strict as AWS's limits, for every AWS call of the test, with fake credentials."""
    # Each test is a new execution environment: handler modules (and their Powertools loggers,
    # which read POWERTOOLS_* at import) are imported afresh, whatever ran before.
    for name in [m for m in sys.modules if m.startswith(f"{APP_NAME}_destinations.")]:
        monkeypatch.delitem(sys.modules, name)
    # Powertools sets up a logger once per service name and process, with a handler bound to the
    # sys.stdout of that moment (an earlier test's capture): let logging forget those loggers too.
    for name in [n for n in logging.root.manager.loggerDict if n.startswith(f"{APP_NAME}-destinations")]:
        monkeypatch.delitem(logging.root.manager.loggerDict, name)
    _forget_clients()
    with mocked_aws(), strict_aws_limits():
        yield
    _forget_clients()


@pytest.fixture
def deployed(aws: None, kit: KitAssembly) -> DeployedStack:
    """The synthesized destinations template created in moto, with Lambda's async path stood in for."""
    deployment = deploy(kit.templates["destinations"])
    clients = deployment.clients
    lambda_async = LambdaAsync(
        lambda_client=clients["lambda"],
        sqs_client=clients["sqs"],
        dead_letter_targets=deployment.dead_letter_targets,
        # The failure handler's SQS event source: records sent to the queue reach it.
        event_sources=[SqsPoller(deployment, "destinations")],
    )
    return DeployedStack(deployment, lambda_async, clients["sqs"], clients["lambda"], clients["s3"])


@pytest.fixture
def async_invoke_through_dispatcher(deployed: DeployedStack, monkeypatch: pytest.MonkeyPatch) -> LambdaAsync:
    """Route moto's `Invoke` with InvocationType=Event into the dispatcher (moto would need Docker)."""

    def invoke(backend: LambdaBackend, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: Any) -> str:  # fmt: skip
        if headers.get("X-Amz-Invocation-Type") != "Event":
            raise NotImplementedError("these tests invoke asynchronously only")
        deployed.lambda_async.invoke_async(function_name, body.decode() if isinstance(body, bytes) else body,
                                           qualifier=qualifier)  # fmt: skip
        return ""  # moto answers 202 for an Event invocation with any payload that is not None

    monkeypatch.setattr(LambdaBackend, "invoke", invoke)
    return deployed.lambda_async


def batch_errors(runs: list[Run]) -> list[str]:
    """The error types of each record a batch handler failed (Powertools' BatchProcessingError)."""
    return [
        type(error).__name__
        for run in runs
        if isinstance(run.error, BatchProcessingError)
        for _, error, _ in run.error.child_exceptions
    ]
