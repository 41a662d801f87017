"""The workload's invariant, on hostile input through the real handlers, moto and the strict stand-ins:

    every failed invocation ends in the kept-failures queue and reads back equal to the request
    that failed (the same JSON text: every digit, every character), and replay sends that text
    back; or an alarm fires.

Requests are generated as JSON *text* (what a client sends): numbers Python would turn into floats
or refuse (1e400, 1E-130, 38+ digit integers, -0, long fractions), strings with any character,
written raw or escaped (lone surrogates, U+FFFE/U+FFFF, U+2028/U+2029, U+0085, control
characters), nesting, and sizes around the kept-failures queue's 256 KiB.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from lwk_destinations.kept import KeptFailure
from lwk_destinations.ops.replay import replay

from support.aws_limits import SQS_BODY_REFUSED
from tests.destinations.conftest import DeployedStack
from tests.destinations.hostile_json import requests
from tests.destinations.lambda_async import LambdaAsync


def _kept(deployed: DeployedStack, message: dict[str, Any]) -> KeptFailure:
    kept = KeptFailure.from_message_body(message["Body"])
    if kept.offloaded is None:
        return kept
    stored = deployed.s3.get_object(Bucket=kept.offloaded.bucket, Key=kept.offloaded.key)["Body"].read()
    return KeptFailure.from_message_body(stored)


@pytest.fixture
def one_attempt(deployed: DeployedStack) -> None:
    """No retries: the invariant does not depend on them, and each example runs faster."""
    name = deployed.function_name("Worker")
    config = deployed.lambda_client.get_function_event_invoke_config(FunctionName=name, Qualifier="live")
    deployed.lambda_client.delete_function_event_invoke_config(FunctionName=name, Qualifier="live")
    deployed.lambda_client.put_function_event_invoke_config(
        FunctionName=name, Qualifier="live", DestinationConfig=config["DestinationConfig"], MaximumRetryAttempts=0
    )


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=requests())
# The cases, always run: a raw U+FFFE, escaped lone surrogate and U+FFFF, 1e400, long digits.
@example(request='{"Success": false, "note": "\ufffe"}')
@example(request='{"Success": false, "note": "\\ud800 \\uffff \u2028"}')
@example(request='{"Success": false, "amount": 1e400, "id": 123456789012345678901234567890123456789, "z": -0}')
@example(request="[0.1000000000000000000000000000001, 1E-130]")
def test_a_failed_request_is_kept_exactly_and_replayed_exactly_or_an_alarm_fires(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync, one_attempt: None, request: str
) -> None:
    lambda_async = deployed.lambda_async
    worker = deployed.function_name("Worker")
    lambda_async.metrics.clear()
    lambda_async.runs.clear()

    lambda_async.invoke_async(deployed.worker_alias_arn, request)
    lambda_async.run_pending()

    messages = deployed.drain(deployed.failed_queue_url)
    kept = [_kept(deployed, m) for m in messages]
    if SQS_BODY_REFUSED.search(request):
        # Written raw into the record, a character SQS refuses makes the record undeliverable:
        # Lambda counts a DestinationDeliveryFailures, and its alarm fires.
        event("refused by SQS: alarm")
        assert kept == []
        assert lambda_async.lost(worker)["DestinationDeliveryFailures"] == 1
        return
    (failure,) = kept
    event("kept offloaded" if "offloaded" in messages[0]["MessageAttributes"] else "kept in the queue")
    assert failure.request_payload_json == request  # the same text: every digit, every character
    assert failure.replayable and not failure.truncated
    # Nothing was lost anywhere else, and the failure handler did not fail.
    assert lambda_async.lost(worker) == {"Errors": len(lambda_async.runs_of(worker))}
    assert lambda_async.lost(deployed.function_name("FailureHandler")) == {}
    assert deployed.visible_count(deployed.records_dead_letter_queue_url) == 0

    # Replay (reading the offloaded copy where there is one) sends the same bytes back to the worker.
    (message,) = messages
    deployed.sqs.send_message(
        QueueUrl=deployed.failed_queue_url, MessageBody=message["Body"], MessageAttributes=message["MessageAttributes"]
    )
    sent: list[str] = []
    async_invoke_through_dispatcher.refuse = lambda function, payload: sent.append(payload)
    report = replay(
        sqs=deployed.sqs, lambda_client=deployed.lambda_client, s3=deployed.s3, queue_url=deployed.failed_queue_url,
        function=deployed.worker_alias_arn, wait_seconds=0, out=lambda line: None,
    )  # fmt: skip
    assert report.ok and len(report.replayed) == 1
    assert sent == [request]
    async_invoke_through_dispatcher.refuse = lambda function, payload: None
    lambda_async.run_pending()
    # It failed again and is kept again, the same: the next example starts from an empty queue.
    (again,) = (_kept(deployed, m) for m in deployed.drain(deployed.failed_queue_url))
    assert again.request_payload_json == request


def test_the_generator_reaches_what_python_would_alter() -> None:
    # Proof that the inputs above are hostile: the standard library cannot carry them unchanged.
    assert json.dumps(json.loads("1e400")) == "Infinity"
    assert json.dumps(json.loads("0.1000000000000000000000000000001")) == "0.1"
    assert re.search(SQS_BODY_REFUSED, "\ufffe") and re.search(SQS_BODY_REFUSED, "\ud800")
