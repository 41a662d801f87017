"""moto made as strict as AWS's documented limits, for every workload's tests and benchmarks.

moto 5.2.5 is more lenient than AWS in places the kit depends on: it accepts DynamoDB items nested
deeper than 32 levels and numbers DynamoDB refuses, writes a `BatchWriteItem` item by item (so one
bad item leaves the ones before it written), counts SQS and SNS message sizes in characters and
without the message attributes, takes SQS bodies with characters SQS refuses, accepts any `StartExecution` input, and has no asynchronous Lambda
payload limit. Inside `strict_aws_limits()` each of these answers with the error AWS answers with:

    with mock_aws(), strict_aws_limits():
        ...

or, in a test module, `pytestmark = pytest.mark.usefixtures("strict_limits")` after
`from support.aws_limits import strict_limits`.

Every limit below names its source. Quoted API references are also in botocore's service models
(`botocore/data/<service>/*/service-2.json`), so they can be checked offline.

Where moto is already *stricter* than AWS it is left alone (never more lenient than AWS): its
DynamoDB item-size check fires at 405,000 bytes of its own measure (AWS: 400 KB = 409,600 bytes),
and its key-size checks match AWS's numbers.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any
from unittest import mock

import pytest
from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.responses import LambdaResponse
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.sns.exceptions import InvalidParameterValue as SnsInvalidParameter
from moto.sns.models import Topic
from moto.sqs.exceptions import BatchRequestTooLong, SQSException
from moto.sqs.exceptions import InvalidParameterValue as SqsInvalidParameterValue
from moto.sqs.models import SQSBackend
from moto.stepfunctions.exceptions import ValidationException as StatesValidationException
from moto.stepfunctions.parser.asl.component.state import state as asl_state
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_lambda
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service
from moto.stepfunctions.responses import StepFunctionResponse

# --- DynamoDB -----------------------------------------------------------------------------------
# Developer guide, "Constraints in Amazon DynamoDB" (Items, Attributes, Data types, Partition and
# sort keys): https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html
# "All size measurements in DynamoDB use binary-based units: 1 KB = 1024 bytes."
DYNAMODB_ITEM_MAX_BYTES = 400 * 1024  # "maximum item size in DynamoDB is 400 KB", names included
DYNAMODB_MAX_NESTING_LEVELS = 32  # "DynamoDB supports nested attributes up to 32 levels deep"
DYNAMODB_NUMBER_MAX_DIGITS = 38  # "Numbers can have up to 38 digits of precision"
DYNAMODB_NUMBER_MAX_MAGNITUDE = Decimal("9.9999999999999999999999999999999999999E+125")
DYNAMODB_NUMBER_MIN_MAGNITUDE = Decimal("1E-130")
DYNAMODB_PARTITION_KEY_MAX_BYTES = 2048  # also in the BatchWriteItem API reference
DYNAMODB_SORT_KEY_MAX_BYTES = 1024
# Naming rules (HowItWorks.NamingRulesDataTypes.html): "Attribute names must be at least one
# character long and less than 64 KB in size"; botocore's AttributeName shape: max 65535.
DYNAMODB_ATTRIBUTE_NAME_MAX_BYTES = 65535

# --- SQS ----------------------------------------------------------------------------------------
# SendMessage / CreateQueue API reference: MaximumMessageSize "Valid values: An integer from 1,024
# bytes (1 KiB) to 1,048,576 bytes (1 MiB). Default: 1,048,576"; SendMessageBatch: "The maximum
# allowed individual message size and the maximum total payload size ... are both 1 MiB".
# Quotas, "Amazon SQS message quotas" (quotas-messages.html): message attributes count towards the
# message size. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
# (256 KiB until AWS raised it in 2025: a queue created with MaximumMessageSize=262144 keeps that.)
SQS_MAX_MESSAGE_BYTES = 1_048_576
SQS_MAX_BATCH_BYTES = 1_048_576
# SendMessage API reference, MessageBody: "A message can include only XML, JSON, and unformatted
# text. The following Unicode characters are allowed ... #x9 | #xA | #xD | #x20 to #xD7FF | #xE000
# to #xFFFD | #x10000 to #x10FFFF. If a message contains characters outside the allowed set, Amazon
# SQS rejects the message and returns an InvalidMessageContents error" (botocore's sqs model, the
# SendMessage error list). SendMessageBatch has no such error: "The result of sending each message is
# reported individually in the response", so a refused entry is one `Failed` entry.
SQS_BODY_REFUSED = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# --- SNS ----------------------------------------------------------------------------------------
# Publish / PublishBatch API reference: "By default, the maximum allowed individual message size
# ... 256 KiB (262,144 bytes). ... set the topic's MaximumMessageSize attribute, which supports values
# up to 1 MiB"; the size includes each message's body and attributes. Error: InvalidParameter.
# https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
SNS_DEFAULT_MAX_MESSAGE_BYTES = 262_144

# --- Step Functions -----------------------------------------------------------------------------
# Developer guide, "Step Functions service quotas" (limits-overview.html), Quotas related to state
# machine executions: "Maximum input or output size for a task, state, or execution: 256 KiB of
# data as a UTF-8 encoded string"; a state over it fails with States.DataLimitExceeded; the
# StartExecution `input` shape (SensitiveData) has max 262144.
STATES_MAX_PAYLOAD_BYTES = 262_144

# --- Lambda -------------------------------------------------------------------------------------
# Invoke API reference: "For asynchronous invocations, the maximum payload size is 1 MB";
# error RequestTooLargeException, HTTP 413 ("The request payload exceeded the Invoke request body
# JSON input quota"). https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
LAMBDA_ASYNC_MAX_PAYLOAD_BYTES = 1_048_576


class RequestTooLargeException(LambdaClientError):
    """Lambda's 413 for an Invoke whose payload is over the quota."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            "RequestTooLargeException",
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation (got {size} bytes)",
        )
        self.code = 413


# --- DynamoDB checks (pure functions, usable without moto) ---------------------------------------


def _utf8(text: str) -> int:
    # surrogatepass: a lone surrogate (refused elsewhere) must not make the size check itself fail.
    return len(text.encode("utf-8", "surrogatepass"))


def _significant_digits(number: Decimal) -> int:
    digits = "".join(str(d) for d in number.as_tuple().digits).strip("0")
    return len(digits)


def check_dynamodb_number(text: str) -> None:
    """Raise ValidationException as DynamoDB does for a number it cannot store."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise MockValidationException(f"The parameter cannot be converted to a numeric value: {text}") from None
    if not number.is_finite():
        raise MockValidationException(f"The parameter cannot be converted to a numeric value: {text}")
    if number == 0:
        return
    if _significant_digits(number) > DYNAMODB_NUMBER_MAX_DIGITS:
        raise MockValidationException("Attempting to store more than 38 significant digits in a Number")
    if number.copy_abs() > DYNAMODB_NUMBER_MAX_MAGNITUDE:  # copy_abs: exact, no 28-digit rounding
        raise MockValidationException(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if number.copy_abs() < DYNAMODB_NUMBER_MIN_MAGNITUDE:
        raise MockValidationException(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )


def _check_attribute_name(name: str) -> None:
    if not name:
        raise MockValidationException("One or more parameter values were invalid: An attribute name is empty")
    if _utf8(name) > DYNAMODB_ATTRIBUTE_NAME_MAX_BYTES:
        raise MockValidationException(
            f"One or more parameter values were invalid: An attribute name is longer than "
            f"{DYNAMODB_ATTRIBUTE_NAME_MAX_BYTES} bytes"
        )


def dynamodb_value_size(value: Mapping[str, Any], *, level: int = 1) -> int:
    """The documented size of one attribute value (without its name), checking nesting and numbers.

    Sizes after "DynamoDB item sizes and formats" (CapacityUnitCalculations.html): strings in UTF-8
    bytes; numbers about 1 byte per two significant digits plus 1; binary in raw bytes; null and
    boolean 1 byte; a list or map 3 bytes plus its elements plus 1 byte per element.
    `level` counts the item's top-level attribute as level 1.
    """
    if level > DYNAMODB_MAX_NESTING_LEVELS:
        raise MockValidationException(
            "Nesting Levels have exceeded supported limits: "
            "Attributes in the item have nested levels beyond supported limit"
        )
    ((kind, content),) = value.items()
    if kind == "S":
        return _utf8(content)
    if kind == "N":
        check_dynamodb_number(content)
        return (_significant_digits(Decimal(content)) + 1) // 2 + 1
    if kind == "B":
        return len(_raw_binary(content))
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "SS":
        return sum(_utf8(member) for member in content)
    if kind == "NS":
        for member in content:
            check_dynamodb_number(member)
        return sum((_significant_digits(Decimal(member)) + 1) // 2 + 1 for member in content)
    if kind == "BS":
        return sum(len(_raw_binary(member)) for member in content)
    if kind == "L":
        return 3 + sum(1 + dynamodb_value_size(element, level=level + 1) for element in content)
    if kind == "M":
        total = 3
        for name, element in content.items():
            _check_attribute_name(name)
            total += 1 + _utf8(name) + dynamodb_value_size(element, level=level + 1)
        return total
    raise MockValidationException(f"Supplied AttributeValue has an unknown data type: {kind}")


def _raw_binary(content: Any) -> bytes:
    # boto3 sends binary base64-encoded; moto keeps it that way.
    if isinstance(content, bytes):
        return content
    try:
        return base64.b64decode(content, validate=True)
    except ValueError:
        return str(content).encode("utf-8")


def check_dynamodb_item(
    item: Mapping[str, Mapping[str, Any]], *, partition_key: str | None = None, sort_key: str | None = None
) -> int:
    """Raise ValidationException as DynamoDB does for an item it refuses; return its size in bytes."""
    total = 0
    for name, value in item.items():
        _check_attribute_name(name)
        size = dynamodb_value_size(value)
        if name == partition_key and size > DYNAMODB_PARTITION_KEY_MAX_BYTES:
            raise MockValidationException(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size "
                f"limit of {DYNAMODB_PARTITION_KEY_MAX_BYTES} bytes"
            )
        if name == sort_key and size > DYNAMODB_SORT_KEY_MAX_BYTES:
            raise MockValidationException(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded "
                f"the size limit of {DYNAMODB_SORT_KEY_MAX_BYTES} bytes"
            )
        total += _utf8(name) + size
    if total > DYNAMODB_ITEM_MAX_BYTES:
        raise MockValidationException("Item size has exceeded the maximum allowed size")
    return total


def _key_names(backend: DynamoDBBackend, table_name: str) -> dict[str, str | None]:
    table = backend.get_table(table_name)
    return {"partition_key": table.hash_key_attr, "sort_key": table.range_key_attr}


# --- The patches ---------------------------------------------------------------------------------


def _strict_put_item(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_item(self: DynamoDBBackend, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        check_dynamodb_item(item_attrs, **_key_names(self, table_name))
        return original(self, table_name, item_attrs, *args, **kwargs)

    return put_item


def _strict_batch_write_item(original: Callable[..., Any]) -> Callable[..., Any]:
    # AWS validates the whole batch before writing any of it (BatchWriteItem API reference: "If one
    # or more of the following is true, DynamoDB rejects the entire batch write operation").
    def batch_write_item(self: DynamoHandler) -> Any:
        for table_name, requests in self.body["RequestItems"].items():
            keys = _key_names(self.dynamodb_backend, table_name)
            for request in requests:
                if "PutRequest" in request:
                    check_dynamodb_item(request["PutRequest"]["Item"], **keys)
        return original(self)

    return batch_write_item


def _strict_transact_write_items(original: Callable[..., Any]) -> Callable[..., Any]:
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        for entry in transact_items:
            if "Put" in entry:
                put = entry["Put"]
                check_dynamodb_item(put["Item"], **_key_names(self, put["TableName"]))
        return original(self, transact_items)

    return transact_write_items


def _strict_update_item(original: Callable[..., Any]) -> Callable[..., Any]:
    # Values an update writes come through ExpressionAttributeValues; the item's size after the
    # update is left to moto's own (stricter) check.
    signature = inspect.signature(original)

    def update_item(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        for value in (arguments.get("expression_attribute_values") or {}).values():
            dynamodb_value_size(value)
        return original(self, *args, **kwargs)

    return update_item


def _attributes_bytes(attributes: Mapping[str, Any] | None) -> int:
    """Message attributes' size: each name, data type and value (SQS and SNS count them all)."""

    def size(value: Any) -> int:
        if isinstance(value, str):
            return _utf8(value)
        if isinstance(value, bytes):
            return len(value)
        if isinstance(value, Mapping):
            return sum(size(item) for item in value.values())
        if isinstance(value, list | tuple):
            return sum(size(item) for item in value)
        return 0

    return sum(_utf8(name) + size(value) for name, value in (attributes or {}).items())


def sqs_message_bytes(body: str, attributes: Mapping[str, Any] | None = None) -> int:
    return _utf8(body) + _attributes_bytes(attributes)


class InvalidMessageContents(SQSException):
    """SQS's answer to a message body holding a character outside its allowed set."""

    def __init__(self, position: int, code_point: int) -> None:
        super().__init__(
            "InvalidMessageContents",
            f"Invalid characters found. Deleted message body: character U+{code_point:04X} at {position}",
        )


def check_sqs_message_body(body: str) -> None:
    """Raise InvalidMessageContents as SQS does for a body with a character outside its set."""
    refused = SQS_BODY_REFUSED.search(body)
    if refused is not None:
        raise InvalidMessageContents(refused.start(), ord(refused.group()))


def _strict_send_message(original: Callable[..., Any]) -> Callable[..., Any]:
    def send_message(self: SQSBackend, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        # moto sets the attribute from the queue's MaximumMessageSize (default 1 MiB, as AWS).
        limit = int(getattr(self.get_queue(queue_name), "maximum_message_size"))  # noqa: B009
        attributes = kwargs.get("message_attributes") or (args[0] if args else None)
        check_sqs_message_body(message_body)
        if sqs_message_bytes(message_body, attributes) > limit:
            raise SqsInvalidParameterValue(
                f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
            )
        return original(self, queue_name, message_body, *args, **kwargs)

    return send_message


def _strict_send_message_batch(original: Callable[..., Any]) -> Callable[..., Any]:
    def send_message_batch(self: SQSBackend, queue_name: str, entries: dict[str, dict[str, Any]]) -> Any:
        total = sum(
            sqs_message_bytes(entry["MessageBody"], entry.get("MessageAttributes")) for entry in entries.values()
        )
        if total > SQS_MAX_BATCH_BYTES:
            raise BatchRequestTooLong(total)
        refused: list[dict[str, Any]] = []
        accepted: dict[str, dict[str, Any]] = {}
        for key, entry in entries.items():
            try:
                check_sqs_message_body(entry["MessageBody"])
            except InvalidMessageContents as error:
                refused.append({"Id": entry["Id"], "SenderFault": True, "Code": error.code, "Message": error.message})
            else:
                accepted[key] = entry
        if not accepted:
            return [], refused
        sent, failed = original(self, queue_name, accepted)
        return sent, [*failed, *refused]

    return send_message_batch


def _strict_topic_publish(original: Callable[..., Any]) -> Callable[..., Any]:
    def publish(self: Topic, message: str, *args: Any, **kwargs: Any) -> Any:
        limit = int(getattr(self, "attributes", {}).get("MaximumMessageSize", SNS_DEFAULT_MAX_MESSAGE_BYTES))
        attributes = kwargs.get("message_attributes") or (args[1] if len(args) > 1 else None)
        if _utf8(message) + _attributes_bytes(attributes) > limit:
            raise SnsInvalidParameter("Invalid parameter: Message too long")
        return original(self, message, *args, **kwargs)

    return publish


def _strict_start_execution(original: Callable[..., Any]) -> Callable[..., Any]:
    def start_execution(self: StepFunctionResponse) -> Any:
        execution_input = self._get_param("input", if_none="{}")
        if _utf8(execution_input) > STATES_MAX_PAYLOAD_BYTES:
            raise StatesValidationException(
                "1 validation error detected: Value at 'input' failed to satisfy constraint: "
                f"Member must have length less than or equal to {STATES_MAX_PAYLOAD_BYTES}"
            )
        return original(self)

    return start_execution


def _within_state_quota(value: Any) -> bool:
    # moto's own check refuses exactly 256 KiB (`<`); the quota allows up to it.
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return _utf8(text) <= STATES_MAX_PAYLOAD_BYTES


def _strict_lambda_invoke(original: Callable[..., Any]) -> Callable[..., Any]:
    def invoke(self: LambdaResponse) -> Any:
        if self.headers.get("X-Amz-Invocation-Type") == "Event":
            check_async_invoke_payload(self.body)
        return original(self)

    return invoke


def check_async_invoke_payload(payload: str | bytes | None) -> None:
    """Raise RequestTooLargeException as Lambda does for an asynchronous payload over 1 MB.

    Also for in-process stand-ins of Lambda's asynchronous path (they call this on every invoke).
    """
    size = len(payload.encode("utf-8") if isinstance(payload, str) else (payload or b""))
    if size > LAMBDA_ASYNC_MAX_PAYLOAD_BYTES:
        raise RequestTooLargeException(size, LAMBDA_ASYNC_MAX_PAYLOAD_BYTES)


@contextmanager
def strict_aws_limits() -> Iterator[None]:
    """Make moto (and anything that calls `check_async_invoke_payload`) refuse what AWS refuses."""
    patches = [
        mock.patch.object(DynamoDBBackend, "put_item", _strict_put_item(DynamoDBBackend.put_item)),
        mock.patch.object(DynamoHandler, "batch_write_item", _strict_batch_write_item(DynamoHandler.batch_write_item)),
        mock.patch.object(
            DynamoDBBackend, "transact_write_items", _strict_transact_write_items(DynamoDBBackend.transact_write_items)
        ),
        mock.patch.object(DynamoDBBackend, "update_item", _strict_update_item(DynamoDBBackend.update_item)),
        mock.patch.object(SQSBackend, "send_message", _strict_send_message(SQSBackend.send_message)),
        mock.patch.object(SQSBackend, "send_message_batch", _strict_send_message_batch(SQSBackend.send_message_batch)),
        mock.patch.object(Topic, "publish", _strict_topic_publish(Topic.publish)),
        mock.patch.object(
            StepFunctionResponse, "start_execution", _strict_start_execution(StepFunctionResponse.start_execution)
        ),
        mock.patch.object(LambdaResponse, "invoke", _strict_lambda_invoke(LambdaResponse.invoke)),
        # The interpreter imported the quota check by name into each module that uses it.
        *(
            mock.patch.object(module, "is_within_size_quota", _within_state_quota)
            for module in (asl_state, state_task_lambda, state_task_service)
        ),
    ]
    with ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


@pytest.fixture
def strict_limits() -> Iterator[None]:
    """`strict_aws_limits()` for the duration of one test."""
    with strict_aws_limits():
        yield
