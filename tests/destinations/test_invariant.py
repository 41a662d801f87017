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
from hypothesis import strategies as st
from lwk_destinations.kept import KeptFailure
from lwk_destinations.replay import replay

from support.aws_limits import SQS_BODY_REFUSED
from tests.destinations.conftest import DeployedStack
from tests.destinations.lambda_async import LambdaAsync

ODD_NUMBERS = ["1e400", "-1E+400", "1E-130", "-0", "-0.0", "0.1000000000000000000000000000001", "1" * 40, "-" + "9" * 60,
               "2.5e-324", "123456789012345678901234567890.5e-10", "0e0", "1E400"]  # fmt: skip
NUMBER = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.from_regex(r"-?(0|[1-9][0-9]{0,45})(\.[0-9]{1,45})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
)
ODD_CHARACTERS = '\ud800\udfff\ufffe\uffff\u2028\u2029\u0085\u001c\u001d\u001e\x00\x1f\x7f"\\/\t\n\r\U0001f600é'


def _character(character: str, raw: bool) -> str:
    """One character of a JSON string: raw where JSON and UTF-8 allow it, else escaped."""
    if raw and ord(character) >= 0x20 and character not in '"\\' and not 0xD800 <= ord(character) <= 0xDFFF:
        return character
    return f"\\u{ord(character):04x}"


@st.composite
def json_strings(draw: st.DrawFn) -> str:
    text = draw(st.text(alphabet=st.one_of(st.characters(), st.sampled_from(ODD_CHARACTERS)), max_size=12))
    return '"' + "".join(_character(c, draw(st.booleans())) for c in text) + '"'


SPACE = st.sampled_from(["", " ", "\n", "\t ", "\r\n"])


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arrays = st.lists(children, max_size=4).map(lambda items: "[" + ",".join(items) + "]")
    members = st.lists(st.tuples(json_strings(), SPACE, children), max_size=4)
    objects = members.map(lambda items: "{" + ",".join(f"{name}:{space}{value}" for name, space, value in items) + "}")
    return st.one_of(arrays, objects)


JSON_TEXT = st.recursive(
    st.one_of(NUMBER, json_strings(), st.sampled_from(["true", "false", "null"])), _containers, max_leaves=25
)
# Around the queue's 256 KiB (a kept failure is the payload plus about 600 bytes; escapes grow it).
PADDING = st.sampled_from([0, 0, 0, 200, 261_000, 261_600, 262_144, 300_000])
DEEP = st.sampled_from([0, 0, 0, 50, 400])


@st.composite
def requests(draw: st.DrawFn) -> str:
    value = draw(JSON_TEXT)
    depth = draw(DEEP)
    value = "[" * depth + value + "]" * depth
    pad = draw(PADDING)
    if pad or draw(st.booleans()):
        # An object the job refuses (Success false), so that it fails, with the value and the padding.
        return f'{{"Success": false, "value": {value}, "pad": "{"x" * pad}"}}'
    return value  # anything that is not a job request fails too


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
