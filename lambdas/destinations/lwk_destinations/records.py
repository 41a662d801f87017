"""Typed invocation records: what Lambda sends to a destination after an asynchronous invocation.

Powertools for AWS Lambda's parser validates them; it ships no model for this record (3.37.0 has
models for event sources only), so the models are here, field for field after the Lambda
developer guide ("Capturing records of Lambda asynchronous invocations",
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html):

    {"version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
     "requestContext": {"requestId", "functionArn", "condition", "approximateInvokeCount"},
     "requestPayload": <the event as invoked>,
     "responseContext": {"statusCode", "executedVersion", "functionError"?},
     "responsePayload": <what the function returned, or its error document>}

Unknown fields are ignored, so a field AWS adds later does not turn records into errors.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import BaseModel, Field, ValidationError, parse
from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

from .errors import MalformedRecordError
from .json_text import take_members

REQUEST_PAYLOAD = "requestPayload"
RESPONSE_PAYLOAD = "responsePayload"

# The names are contract.SUCCESS, RETRIES_EXHAUSTED, EVENT_AGE_EXCEEDED (a Literal needs them spelled).
FailureCondition = Literal["RetriesExhausted", "EventAgeExceeded"]


class _Record(BaseModel):
    # The record speaks camelCase; the code reads snake_case.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class RequestContext(_Record):
    request_id: str = Field(min_length=1)
    function_arn: str = Field(pattern=r"^arn:aws[a-z-]*:lambda:")
    condition: Literal["Success", "RetriesExhausted", "EventAgeExceeded"]
    approximate_invoke_count: int = Field(ge=0)


class SuccessContext(RequestContext):
    condition: Literal["Success"]


class FailureContext(RequestContext):
    condition: FailureCondition


class ResponseContext(_Record):
    status_code: int
    executed_version: str
    # "Unhandled" when the runtime caught an exception (Python always reports that), "Handled"
    # when the function itself reported an error (Node.js callbacks); absent on success.
    function_error: Literal["Handled", "Unhandled"] | None = None


class FunctionError(_Record):
    """The error document a Python function's runtime returns for an exception."""

    error_message: str
    error_type: str | None = None
    stack_trace: list[str] = Field(default_factory=list)


class InvocationRecord(_Record):
    version: str
    timestamp: datetime
    request_context: RequestContext
    # Any JSON value: the event exactly as it was invoked, and required (null is a value).
    request_payload: Any = Field(...)
    # Lambda documents no response for an event that expired before any attempt ran.
    response_context: ResponseContext | None = None
    response_payload: Any = None


class SuccessRecord(InvocationRecord):
    """A record sent to the on-success destination."""

    request_context: SuccessContext
    response_context: ResponseContext


class FailureRecord(InvocationRecord):
    """A record sent to the on-failure destination: retries exhausted or event too old."""

    request_context: FailureContext

    def function_error(self) -> FunctionError | None:
        """The function's error document, or None when no attempt returned one."""
        if not isinstance(self.response_payload, dict):
            return None
        try:
            return FunctionError.model_validate(self.response_payload)
        except ValidationError:
            return None


def parse_record[RecordModel: InvocationRecord](event: Any, model: type[RecordModel]) -> RecordModel:
    """Validate `event` as a `model` record, or raise MalformedRecordError naming what is wrong."""
    if not isinstance(event, dict):
        raise MalformedRecordError(f"expected an invocation record (a JSON object), got {type(event).__name__}")
    try:
        return parse(event=event, model=model)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '<record>'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise MalformedRecordError(f"not a valid {model.__name__}: {problems}") from None


def parse_failure_body(body: str) -> tuple[FailureRecord, str]:
    """A failure record as Lambda wrote it to the SQS destination, and its request payload's text.

    The request payload is never parsed (json_text.py says why): the record model holds `null` in
    its place and the text comes back as written. The response payload (the worker's error
    document) is parsed, unless it is nested too deeply to: then it stays text.
    """
    rest, taken = take_members(body, (REQUEST_PAYLOAD, RESPONSE_PAYLOAD))
    if REQUEST_PAYLOAD not in taken:
        raise MalformedRecordError(f"not a valid FailureRecord: {REQUEST_PAYLOAD}: Field required")
    event = json.loads(rest)
    if RESPONSE_PAYLOAD in taken:
        try:
            event[RESPONSE_PAYLOAD] = json.loads(taken[RESPONSE_PAYLOAD])
        except RecursionError:
            event[RESPONSE_PAYLOAD] = taken[RESPONSE_PAYLOAD]
    return parse_record(event, FailureRecord), taken[REQUEST_PAYLOAD]
