"""The typed record models, the kept-failure message and the worker's job logic, without AWS."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lwk_destinations.errors import (
    InvalidJobRequestError,
    JobFailedError,
    MalformedRecordError,
    UnreadableKeptFailureError,
)
from lwk_destinations.job import run_job
from lwk_destinations.json_text import take_members
from lwk_destinations.kept import KeptFailure
from lwk_destinations.records import FailureRecord, SuccessRecord, parse_failure_body, parse_record

from tests.destinations.hostile_json import JSON_TEXT

# The Lambda developer guide's "Example invocation record" (invocation-async-retain-records,
# awsdocs/aws-lambda-developer-guide doc_source/invocation-async.md), as published.
GUIDE_FAILURE_RECORD: dict[str, Any] = {
    "version": "1.0",
    "timestamp": "2019-11-14T18:16:05.568Z",
    "requestContext": {
        "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
        "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:my-function:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    },
    "requestPayload": {
        "ORDER_IDS": [
            "9e07af03-ce31-4ff3-xmpl-36dce652cb4f",
            "637de236-e7b2-464e-xmpl-baf57f86bb53",
            "a81ddca6-2c35-45c7-xmpl-c3a03a31ed15",
        ]
    },
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    "responsePayload": {
        "errorMessage": "RequestId: e4b46cbf-b738-xmpl-8880-a18cdf61200e Process exited before completing request"
    },
}

# The success example of the aws-cdk-lib aws_lambda_destinations README ("Invocation record").
CDK_SUCCESS_RECORD: dict[str, Any] = {
    "version": "1.0",
    "timestamp": "2019-11-24T23:08:25.651Z",
    "requestContext": {
        "requestId": "c2a6f2ae-7dbb-4d22-8782-d0485c9877e2",
        "functionArn": "arn:aws:lambda:sa-east-1:123456789123:function:event-destinations:$LATEST",
        "condition": "Success",
        "approximateInvokeCount": 1,
    },
    "requestPayload": {"Success": True},
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
    "responsePayload": "<data returned by the function here>",
}


def test_the_guides_failure_record_parses_into_the_typed_model() -> None:
    record = parse_record(GUIDE_FAILURE_RECORD, FailureRecord)

    assert record.request_context.condition == "RetriesExhausted"
    assert record.request_context.approximate_invoke_count == 3
    assert record.response_context is not None and record.response_context.function_error == "Unhandled"
    assert record.request_payload == GUIDE_FAILURE_RECORD["requestPayload"]
    error = record.function_error()
    assert error is not None and error.error_message.endswith("Process exited before completing request")


def test_a_success_record_parses_and_fields_added_later_by_aws_are_ignored() -> None:
    event = copy.deepcopy(CDK_SUCCESS_RECORD)
    event["requestContext"]["someFutureField"] = "x"

    record = parse_record(event, SuccessRecord)

    assert record.request_context.request_id == "c2a6f2ae-7dbb-4d22-8782-d0485c9877e2"
    assert record.response_payload == "<data returned by the function here>"


@pytest.mark.parametrize(
    ("event", "model", "named"),
    [
        (GUIDE_FAILURE_RECORD, SuccessRecord, "requestContext.condition"),
        (CDK_SUCCESS_RECORD, FailureRecord, "requestContext.condition"),
        ({k: v for k, v in CDK_SUCCESS_RECORD.items() if k != "requestPayload"}, SuccessRecord, "requestPayload"),
        ({**CDK_SUCCESS_RECORD, "timestamp": "yesterday"}, SuccessRecord, "timestamp"),
        ({"Success": False}, FailureRecord, "requestContext"),
    ],
    ids=["failure-to-success-handler", "success-to-failure-handler", "no-payload", "bad-timestamp", "not-a-record"],
)
def test_a_malformed_record_is_an_error_naming_the_field(event: Any, model: type, named: str) -> None:
    with pytest.raises(MalformedRecordError, match=f"not a valid {model.__name__}: .*{named}"):
        parse_record(event, model)


def test_a_record_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(MalformedRecordError, match="got list"):
        parse_record([GUIDE_FAILURE_RECORD], FailureRecord)


def test_a_kept_failure_holds_the_payload_and_the_error_and_reads_back() -> None:
    kept = KeptFailure.from_record(*parse_failure_body(json.dumps(GUIDE_FAILURE_RECORD)))

    again = KeptFailure.from_message_body(kept.to_message_body())

    assert again == kept
    assert again.request_payload == GUIDE_FAILURE_RECORD["requestPayload"]
    assert again.error.type == "Error"  # the guide's example carries no errorType
    assert again.error.function_error == "Unhandled"
    assert kept.message_attributes()["condition"]["StringValue"] == "RetriesExhausted"


def test_an_event_that_expired_unattempted_is_kept_with_a_reason() -> None:
    event = copy.deepcopy(GUIDE_FAILURE_RECORD)
    event["requestContext"].update(condition="EventAgeExceeded", approximateInvokeCount=0)
    del event["responseContext"], event["responsePayload"]

    kept = KeptFailure.from_record(*parse_failure_body(json.dumps(event)))

    assert (kept.error.type, kept.error.function_error) == ("EventAgeExceeded", None)
    assert "before any attempt" in kept.error.message


def test_a_queue_message_that_is_not_a_kept_failure_is_reported() -> None:
    with pytest.raises(UnreadableKeptFailureError, match="requestPayload"):
        KeptFailure.from_message_body(
            '{"requestId": "r", "functionArn": "a", "condition": "RetriesExhausted", "approximateInvokeCount": 1,'
            ' "failedAt": "2026-01-01T00:00:00Z", "error": {"type": "E", "message": "m"}}'
        )


def test_the_job_echoes_its_event_on_success() -> None:
    assert run_job({"Success": True, "order": 7}) == {"statusCode": 200, "body": {"Success": True, "order": 7}}


def test_the_job_fails_when_the_event_says_so() -> None:
    with pytest.raises(JobFailedError, match="Success is false"):
        run_job({"Success": False})


@pytest.mark.parametrize("event", [{"Succes": True}, {"Success": "true"}, {}, ["Success"]])
def test_the_job_refuses_input_that_is_not_a_job_request(event: Any) -> None:
    with pytest.raises(InvalidJobRequestError, match=r"Success|JSON object"):
        run_job(event)


def test_a_message_written_before_schema_2_still_reads_and_replays() -> None:
    body = (
        '{"schemaVersion":1,"requestId":"r-1","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:w:live",'
        '"condition":"RetriesExhausted","approximateInvokeCount":3,"failedAt":"2026-11-27T09:03:00Z",'
        '"requestPayload":{"Success":false,"orderId":"o-1"},"error":{"type":"JobFailedError","message":"m"}}'
    )
    kept = KeptFailure.from_message_body(body)
    assert (kept.schema_version, kept.request_id, kept.replayable) == (2, "r-1", True)
    assert kept.request_payload == {"Success": False, "orderId": "o-1"}


def _standard_library_reads(text: str) -> bool:
    def refuse(constant: str) -> None:
        raise ValueError(constant)  # NaN, Infinity: Python's extension, not JSON

    try:
        json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False
    return True


JSONISH = st.text(alphabet=st.sampled_from([*'{}[]:,"\\ -+.eE0129aflnrstu\t\n/', "\x01", "\u2028", "\ud800"]))


@settings(max_examples=40, deadline=None)
@given(text=st.one_of(JSONISH, JSON_TEXT, JSON_TEXT.map(lambda t: t[:-1]), JSON_TEXT.map(lambda t: t + "]")))
def test_the_payload_scanner_accepts_exactly_the_json_the_standard_library_reads(text: str) -> None:
    # The scanner that finds the request payload in a record never parses it; it must still agree with
    # a real parser about what JSON is (RFC 8259), so that a record it accepts is one a reader can read.
    document = "{" + '"k": ' + text + "}"
    try:
        _, taken = take_members(document, ("k",))
    except MalformedRecordError:
        assert not _standard_library_reads(document)
    else:
        assert _standard_library_reads(document)
        assert json.loads(taken["k"], parse_float=str) == json.loads(text, parse_float=str)
