"""A kept failure: the message the failure handler writes and the replay command reads.

One SQS message per failed request, small on purpose: the original request payload (what replay
re-invokes the worker with) and the error, without the stack trace (that stays in the worker's
logs, found by request id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from .contract import CONDITION_ATTRIBUTE, ERROR_TYPE_ATTRIBUTE, EVENT_AGE_EXCEEDED
from .errors import UnreadableKeptFailureError
from .records import FailureCondition, FailureRecord

# Enough to read the error; a long message (a dumped payload, say) must not crowd out the payload.
MAX_ERROR_MESSAGE_CHARS = 2048


class _Message(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class KeptError(_Message):
    type: str
    message: str
    # As Lambda reported it: "Unhandled" / "Handled", or None when no attempt ran.
    function_error: str | None = None


class KeptFailure(_Message):
    schema_version: Literal[1] = 1
    request_id: str
    function_arn: str
    condition: FailureCondition
    approximate_invoke_count: int = Field(ge=0)
    failed_at: datetime
    request_payload: Any = Field(...)
    error: KeptError

    @classmethod
    def from_record(cls, record: FailureRecord) -> KeptFailure:
        context = record.request_context
        return cls(
            request_id=context.request_id,
            function_arn=context.function_arn,
            condition=context.condition,
            approximate_invoke_count=context.approximate_invoke_count,
            failed_at=record.timestamp,
            request_payload=record.request_payload,
            error=_error_of(record),
        )

    def to_message_body(self) -> str:
        return self.model_dump_json(by_alias=True)

    def message_attributes(self) -> dict[str, dict[str, str]]:
        """SQS message attributes, so that failures can be told apart without reading bodies."""
        return {
            CONDITION_ATTRIBUTE: {"DataType": "String", "StringValue": self.condition},
            ERROR_TYPE_ATTRIBUTE: {"DataType": "String", "StringValue": self.error.type},
        }

    @classmethod
    def from_message_body(cls, body: str) -> KeptFailure:
        try:
            return cls.model_validate_json(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "<body>"
            raise UnreadableKeptFailureError(f"not a kept failure ({where}: {first['msg']})") from None


def _error_of(record: FailureRecord) -> KeptError:
    function_error = record.response_context.function_error if record.response_context else None
    document = record.function_error()
    if document is not None:
        return KeptError(
            type=document.error_type or "Error",
            message=document.error_message[:MAX_ERROR_MESSAGE_CHARS],
            function_error=function_error,
        )
    if record.request_context.condition == EVENT_AGE_EXCEEDED and record.request_context.approximate_invoke_count == 0:
        return KeptError(
            type=EVENT_AGE_EXCEEDED,
            message="the event reached the maximum event age before any attempt ran",
            function_error=None,
        )
    # A failure whose response is not an error document (a runtime that returns something else).
    return KeptError(
        type=record.request_context.condition,
        message=str(record.response_payload)[:MAX_ERROR_MESSAGE_CHARS],
        function_error=function_error,
    )
