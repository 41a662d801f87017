"""The __Title__ function's real handler against the synthesized stack, created in moto.

support.cfn creates the template's queue (with its redrive policy), dead-letter queue, bucket and
function (with the environment the template gives it) in moto; support.sqs_poller then delivers
the queue's messages to the real handler the way Lambda's SQS poller does.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from stacks.kit_settings import settings_from_context
from support.cfn import Deployment, deploy
from support.emf import emf_points
from support.lambda_runtime import new_execution_environment
from support.sqs_poller import SqsPoller
from support.stand_ins import mocked_aws
from tests.conftest import KitAssembly, cdk_json_context
from tests.permissions.handler_calls import calls_proved


@pytest.fixture
def deployment(kit: KitAssembly, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """The stack in moto; every AWS call the handler makes is proved allowed for its role by the
    IAM engine when the test ends (tests/permissions/handler_calls.py), with negative twins."""
    new_execution_environment(monkeypatch, "__key__")
    with mocked_aws():
        deployed = deploy(kit.templates["__key__"])
        with calls_proved({kit.stack_names["__key__"]: kit.templates["__key__"]}):
            yield deployed


def _send(deployment: Deployment, *bodies: str) -> None:
    for body in bodies:
        deployment.clients["sqs"].send_message(QueueUrl=deployment.outputs["IntakeQueueUrl"], MessageBody=body)


def _objects(deployment: Deployment) -> dict[str, Any]:
    s3, bucket = deployment.clients["s3"], deployment.outputs["ResultsBucketName"]
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in listed}


def test_each_item_is_stored_under_the_results_prefix(deployment: Deployment) -> None:
    prefix = settings_from_context(cdk_json_context()).of("__key__").results_prefix
    _send(deployment, '{"id": "a-1", "total": 3}', '{"id": "b-2", "total": 4}')
    result = SqsPoller(deployment, "__key__").poll()
    assert (result.deleted, result.retried, result.handler_errors) == (2, 0, [])
    assert _objects(deployment) == {
        f"{prefix}a-1.json": {"id": "a-1", "total": 3},
        f"{prefix}b-2.json": {"id": "b-2", "total": 4},
    }


def test_a_bad_message_is_retried_alone_then_kept_whole_in_the_dead_letter_queue(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "card-4111111111111111"
    _send(deployment, '{"id": "good-1"}', json.dumps({"id": "../x", "note": secret}))
    result = SqsPoller(deployment, "__key__").poll()
    settings = settings_from_context(cdk_json_context()).of("__key__")
    assert result.deleted == 1 and result.retried == settings.max_receive_count
    assert list(_objects(deployment)) == [f"{settings.results_prefix}good-1.json"]
    sqs = deployment.clients["sqs"]
    kept = sqs.receive_message(QueueUrl=deployment.outputs["DeadLetterQueueUrl"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in kept] == [{"id": "../x", "note": secret}]
    logs = capsys.readouterr().out
    assert "message refused" in logs and "does not match" in logs
    assert secret not in logs, "logs carry ids and outcomes, never payload content"


def test_a_misconfigured_function_fails_the_whole_batch_and_changes_nothing(deployment: Deployment) -> None:
    _send(deployment, '{"id": "a-1"}')
    poller = SqsPoller(deployment, "__key__")
    poller.function = dataclasses.replace(poller.function, environment={})
    result = poller.poll(max_batches=1)
    assert result.retried == 1 and "RESULTS_PREFIX is not set" in str(result.handler_errors[0])
    assert _objects(deployment) == {}


def test_each_batch_counts_what_it_stored_and_refused(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    from lwk___snake__ import contract

    _send(deployment, '{"id": "m-1"}', '{"id": "m-2"}', "not json")
    SqsPoller(deployment, "__key__").poll()
    totals: dict[str, float] = {}
    for point in emf_points(capsys.readouterr().out):
        # Bounded: the service only, never a message or item id.
        assert point.dimensions == {"service": contract.SERVICE_NAME}
        assert point.namespace == next(iter(deployment.functions.values())).environment["POWERTOOLS_METRICS_NAMESPACE"]
        totals[point.name] = totals.get(point.name, 0) + point.value
    settings = settings_from_context(cdk_json_context()).of("__key__")
    # The bad message is refused once per receive until it moves to the dead-letter queue.
    assert totals == {contract.ITEMS_STORED: 2, contract.MESSAGES_REFUSED: settings.max_receive_count}
