"""A kept failure: the message the failure handler writes and the replay command reads.

One SQS message per failed request: the original request payload (what replay re-invokes the
worker with) and the error, without the stack trace (that stays in the worker's logs, found by
request id).

Nothing is lost or altered on the way:
- the payload is kept as the JSON *text* Lambda wrote in the invocation record, never parsed
  (json_text.py): numbers keep every digit (`1e400` stays `1e400`, not `inf`), strings every
  character, and no parser's nesting limit applies; replay sends that text back as it is;
- the message is written with every character outside ASCII escaped (as `\\uXXXX`), so nothing in it
  is a character SQS refuses (U+FFFE, U+FFFF, lone surrogates, most control characters), and it
  reads back to the same text;
- a kept failure bigger than the queue's message size (contract.KEPT_MESSAGE_MAX_BYTES), or with an
  error type or message too long to read in a listing, is written whole to the offload bucket, and
  the queue gets a summary that points to it (`offloaded`) and names what it shortened.
Copies written by earlier versions whose payload was cut (`truncated`) are still read, never replayed.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from .contract import (
    CONDITION_ATTRIBUTE,
    ERROR_TYPE_ATTRIBUTE,
    EVENT_AGE_EXCEEDED,
    OFFLOAD_PREFIX,
    OFFLOADED_ATTRIBUTE,
)
from .errors import UnreadableKeptFailureError
from .records import FailureCondition, FailureRecord

# SendMessage API reference: a message may hold only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
# #x10000-#x10FFFF; anything else is refused (InvalidMessageContents).
SQS_REFUSED = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# In a summary (and in the queue's errorType attribute): enough to read; the full text is offloaded.
SUMMARY_ERROR_MESSAGE_CHARS = 2048
SUMMARY_ERROR_TYPE_CHARS = 256
# A payload the standard library cannot write (deeper than its recursion allows) is kept this deep.
CUT_PAYLOAD_LEVELS = 500
CUT_MARKER = "<cut: nested deeper than the failure handler can serialize>"
PAYLOAD_CUT_NOTE = f"requestPayload: nested too deeply to serialize; levels below {CUT_PAYLOAD_LEVELS} replaced"


class _Message(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class KeptError(_Message):
    type: str
    message: str
    # As Lambda reported it: "Unhandled" / "Handled", or None when no attempt ran.
    function_error: str | None = None


class Offloaded(_Message):
    """Where the whole kept failure is, when the queue holds a summary of it."""

    bucket: str
    key: str
    bytes: int = Field(ge=0)


class KeptFailure(_Message):
    schema_version: Literal[2] = 2
    request_id: str
    function_arn: str
    condition: FailureCondition
    approximate_invoke_count: int = Field(ge=0)
    failed_at: datetime
    # The request payload as JSON text; None in a summary whose whole copy is offloaded.
    request_payload_json: str | None
    error: KeptError
    # What this copy shortened or left out, in words; empty when it is whole.
    truncated: tuple[str, ...] = ()
    offloaded: Offloaded | None = None

    @classmethod
    def from_record(cls, record: FailureRecord, payload_json: str) -> KeptFailure:
        """The whole kept failure of a record whose request payload was written as `payload_json`."""
        context = record.request_context
        return cls(
            request_id=context.request_id,
            function_arn=context.function_arn,
            condition=context.condition,
            approximate_invoke_count=context.approximate_invoke_count,
            failed_at=record.timestamp,
            request_payload_json=payload_json,
            error=_error_of(record),
        )

    @property
    def request_payload(self) -> Any:
        """The request payload as a value (what replay sends); only on a copy that holds it."""
        if self.request_payload_json is None:
            raise UnreadableKeptFailureError("this is a summary: the payload is in the offloaded copy")
        return json.loads(self.request_payload_json)

    @property
    def replayable(self) -> bool:
        """Whether replay may re-invoke with this copy's payload: present and not cut."""
        return self.request_payload_json is not None and PAYLOAD_CUT_NOTE not in self.truncated

    @property
    def payload_bytes(self) -> int:
        text = self.request_payload_json
        return len(text.encode("utf-8", "surrogatepass")) if text is not None else 0

    def to_message_body(self) -> str:
        # ensure_ascii: only characters SQS takes, whatever the payload and the error hold.
        return json.dumps(self.model_dump(mode="json", by_alias=True), separators=(",", ":"), ensure_ascii=True)

    def message_attributes(self) -> dict[str, dict[str, str]]:
        """SQS message attributes, so that failures can be told apart without reading bodies."""
        attributes = {
            CONDITION_ATTRIBUTE: {"DataType": "String", "StringValue": self.condition},
            ERROR_TYPE_ATTRIBUTE: {
                "DataType": "String",
                "StringValue": sqs_safe(self.error.type[:SUMMARY_ERROR_TYPE_CHARS]),
            },
        }
        if self.offloaded is not None:
            attributes[OFFLOADED_ATTRIBUTE] = {"DataType": "String", "StringValue": self.offloaded.key}
        return attributes

    def message_bytes(self) -> int:
        """The size SQS counts: body plus each attribute's name, data type and value, in UTF-8."""
        attributes = sum(
            len(name.encode()) + sum(len(value.encode("utf-8", "surrogatepass")) for value in attribute.values())
            for name, attribute in self.message_attributes().items()
        )
        return len(self.to_message_body().encode()) + attributes

    def fits_queue(self, max_bytes: int) -> bool:
        """Whether this copy can go to the queue as it is: within the size, readable in a listing."""
        return (
            self.message_bytes() <= max_bytes
            and len(self.error.type) <= SUMMARY_ERROR_TYPE_CHARS
            and len(self.error.message) <= SUMMARY_ERROR_MESSAGE_CHARS
        )

    def offload_key(self) -> str:
        # The same record delivered twice lands on the same key: the copy is overwritten, not doubled.
        return f"{OFFLOAD_PREFIX}{self.failed_at:%Y/%m/%d}/{quote(self.request_id, safe='')}.json"

    def summary(self, offloaded: Offloaded) -> KeptFailure:
        """The queue's copy of an offloaded failure: ids, condition, a readable error, the pointer."""
        notes = list(self.truncated)
        notes.append(f"requestPayload: {self.payload_bytes} bytes, in the offloaded copy")
        if len(self.error.type) > SUMMARY_ERROR_TYPE_CHARS:
            notes.append(f"error.type: first {SUMMARY_ERROR_TYPE_CHARS} of {len(self.error.type)} characters")
        if len(self.error.message) > SUMMARY_ERROR_MESSAGE_CHARS:
            notes.append(f"error.message: first {SUMMARY_ERROR_MESSAGE_CHARS} of {len(self.error.message)} characters")
        return self.model_copy(
            update={
                "request_payload_json": None,
                "error": self.error.model_copy(
                    update={
                        "type": self.error.type[:SUMMARY_ERROR_TYPE_CHARS],
                        "message": self.error.message[:SUMMARY_ERROR_MESSAGE_CHARS],
                    }
                ),
                "truncated": tuple(notes),
                "offloaded": offloaded,
            }
        )

    @classmethod
    def from_message_body(cls, body: str | bytes) -> KeptFailure:
        try:
            version = json.loads(body).get("schemaVersion")
        except (ValueError, RecursionError, AttributeError):
            version = None
        if version == 1:
            return _KeptFailureV1.read(body).upgraded()
        return _validated(cls, body)


class _KeptFailureV1(_Message):
    """Messages written before schema 2 (payload as a JSON value, error message cut at 2048)."""

    schema_version: Literal[1]
    request_id: str
    function_arn: str
    condition: FailureCondition
    approximate_invoke_count: int = Field(ge=0)
    failed_at: datetime
    request_payload: Any = Field(...)
    error: KeptError

    @classmethod
    def read(cls, body: str | bytes) -> _KeptFailureV1:
        return _validated(cls, body)

    def upgraded(self) -> KeptFailure:
        return KeptFailure(
            request_id=self.request_id,
            function_arn=self.function_arn,
            condition=self.condition,
            approximate_invoke_count=self.approximate_invoke_count,
            failed_at=self.failed_at,
            request_payload_json=json.dumps(self.request_payload, separators=(",", ":"), ensure_ascii=True),
            error=self.error,
        )


def _validated[Model: _Message](model: type[Model], body: str | bytes) -> Model:
    # The standard library's parser: pydantic's refuses the escaped lone surrogates a kept error
    # message may hold.
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise UnreadableKeptFailureError(f"not a kept failure (<body>: not JSON: {type(error).__name__})") from None
    try:
        return model.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "<body>"
        raise UnreadableKeptFailureError(f"not a kept failure ({where}: {first['msg']})") from None


def sqs_safe(text: str) -> str:
    """`text` with each character SQS refuses written as a JSON-style escape (for attribute values)."""
    return SQS_REFUSED.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _payload_json(payload: Any) -> tuple[str, str | None]:
    try:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False), None
    except RecursionError:
        return json.dumps(
            _cut(payload, CUT_PAYLOAD_LEVELS), separators=(",", ":"), ensure_ascii=False
        ), PAYLOAD_CUT_NOTE


def _cut(value: Any, levels: int) -> Any:
    if not isinstance(value, dict | list):
        return value
    if levels <= 0:
        return CUT_MARKER
    if isinstance(value, dict):
        return {key: _cut(item, levels - 1) for key, item in value.items()}
    return [_cut(item, levels - 1) for item in value]


def _error_of(record: FailureRecord) -> KeptError:
    function_error = record.response_context.function_error if record.response_context else None
    document = record.function_error()
    if document is not None:
        return KeptError(
            type=document.error_type or "Error", message=document.error_message, function_error=function_error
        )
    if record.request_context.condition == EVENT_AGE_EXCEEDED and record.request_context.approximate_invoke_count == 0:
        return KeptError(
            type=EVENT_AGE_EXCEEDED,
            message="the event reached the maximum event age before any attempt ran",
            function_error=None,
        )
    # A failure whose response is not an error document (a runtime that returns something else).
    response_json, _ = _payload_json(record.response_payload)
    return KeptError(type=record.request_context.condition, message=response_json, function_error=function_error)
