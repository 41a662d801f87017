"""A stand-in for Lambda's asynchronous invocation path, which moto does not have.

moto stores event-invoke configs but never runs an asynchronous invocation nor sends a record. This
dispatcher does what the Lambda developer guide says Lambda does, reading every setting from moto:

- `invoke_async` queues an event (the 202 of `Invoke` with `InvocationType=Event`); `run_pending`
  works the queue, oldest first, on a simulated clock (nothing sleeps).
- Each event runs the function's real handler (module and attribute from the function's Handler
  in moto, with the function's environment). A raised exception is a function error; the
  function is retried up to MaximumRetryAttempts times (default 2), one minute after the first
  attempt and two minutes after the second; an event older than MaximumEventAgeInSeconds (default
  6 hours) is not attempted again. Source: "Asynchronous invocation", Lambda developer guide,
  https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html (awsdocs/
  aws-lambda-developer-guide doc_source/invocation-async.md, checked with the search tool).
- The outcome goes to the OnSuccess / OnFailure destination as the invocation record, in the
  format of the guide's "Example invocation record" (invocation-async-retain-records.html):
  version "1.0"; timestamp in ISO 8601 UTC with milliseconds and "Z"; requestContext {requestId,
  functionArn (the ARN as invoked, qualifier included: ":$LATEST" when unqualified),
  condition (Success | RetriesExhausted | EventAgeExceeded), approximateInvokeCount};
  requestPayload (the event); responseContext {statusCode 200, executedVersion, functionError
  "Unhandled" after an exception}; responsePayload (the function's result, or its error document
  {errorMessage, errorType, requestId, stackTrace} as the Python runtime returns it, see
  python-exceptions.md). A Lambda destination is itself invoked asynchronously (so its own retries
  and dead-letter queue apply); an SQS destination receives the record as the message body.
- The request payload is written into an SQS record as the client sent it (its JSON text,
  verbatim), the rest of the record as JSON with characters outside ASCII as they are. The guide
  does not say how Lambda writes it; verbatim is the assumption the kit documents. A record SQS
  refuses (size, characters) is counted as a `DestinationDeliveryFailures` metric and is lost, as
  the guide says ("Delivery errors can also occur due to permissions errors and size limits").
- Lambda's metrics that say something was lost are counted in `metrics` (function name, metric
  name): `AsyncEventsDropped` (every event that did not succeed: the guide counts events sent to a
  destination or dead-letter queue too), `DestinationDeliveryFailures`, `DeadLetterErrors`, and
  `Errors` of every run that raised (the SQS event source's runs included).
- `event_sources`: SQS pollers (support.sqs_poller) for the stack's event source mappings, run by
  `run_pending` until nothing is left, so a record sent to a queue reaches its handler.
- When a function has a DeadLetterConfig, a failed event goes there as-is, with the attributes
  RequestID (String), ErrorCode (Number) and ErrorMessage (String, first 1 KB): "Dead-letter
  queues" in the same guide.
- An event that expires before any attempt: the guide documents no record for that case; this
  sends condition EventAgeExceeded with approximateInvokeCount 0 and no response fields, which
  the record model accepts.

- A client's asynchronous invoke over Lambda's 1 MB payload quota is refused with
  RequestTooLargeException (support.aws_limits); Lambda's own deliveries to a destination are not
  checked (the guide documents no limit for a Lambda destination).

What it does not model: throttling and its back-off, duplicate deliveries.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import os
import traceback
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from moto.awslambda.exceptions import LambdaClientError

from stacks.settings.common import APP_NAME
from support.aws_limits import check_async_invoke_payload
from support.sqs_poller import SqsPoller

DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE_SECONDS = 6 * 60 * 60
# Seconds to wait before the second and the third attempt.
RETRY_DELAYS_SECONDS = (60, 120)
DLQ_ERROR_MESSAGE_BYTES = 1024


@dataclass(frozen=True)
class Run:
    """One attempt: which function ran, with what, and how it ended."""

    function_name: str
    qualifier: str
    request_id: str
    attempt: int
    at: datetime
    event: Any
    result: Any = None
    error: BaseException | None = None


@dataclass
class _Event:
    function_name: str
    qualifier: str
    payload: str
    request_id: str
    accepted_at: datetime
    queued_for: timedelta


@dataclass
class FakeLambdaContext:
    """The attributes of the runtime's context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 256
    log_group_name: str = f"/{APP_NAME}/test"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class LambdaAsync:
    lambda_client: Any
    sqs_client: Any
    # Function name -> dead-letter target ARN (moto does not keep DeadLetterConfig).
    dead_letter_targets: Mapping[str, str] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    runs: list[Run] = field(default_factory=list)
    # Decides whether Lambda accepts an asynchronous invoke (function, payload text): return an error to refuse it.
    refuse: Callable[[str, Any], LambdaClientError | None] = lambda function, payload: None
    event_sources: list[SqsPoller] = field(default_factory=list)
    # (function name, metric name) -> count, for Lambda's metrics that say something was lost.
    metrics: Counter[tuple[str, str]] = field(default_factory=Counter)
    _queue: deque[_Event] = field(default_factory=deque)

    def __post_init__(self) -> None:
        for poller in self.event_sources:
            poller.invoke = self._mapping_invoker(poller)

    # -- accepting ------------------------------------------------------------------------------

    def invoke_async(
        self,
        function: str,
        payload: Any,
        *,
        qualifier: str | None = None,
        queued_for_seconds: int = 0,
        from_lambda: bool = False,
    ) -> str:
        """Queue an event as `Invoke --invocation-type Event` does; returns its request id.

        `queued_for_seconds` models a backlog: the first attempt starts that long after acceptance.
        `from_lambda`: Lambda itself delivers (a destination record), not a client.
        """
        name, parsed_qualifier = _split_function(function)
        qualifier = qualifier or parsed_qualifier or "$LATEST"
        body = payload if isinstance(payload, str) else json.dumps(payload)
        if not from_lambda:
            check_async_invoke_payload(body)
        refusal = self.refuse(function, body)
        if refusal is not None:
            raise refusal
        request_id = str(uuid.uuid4())
        self._queue.append(_Event(name, qualifier, body, request_id, self.now, timedelta(seconds=queued_for_seconds)))
        return request_id

    # -- processing -----------------------------------------------------------------------------

    def run_pending(self) -> None:
        while True:
            while self._queue:
                self._process(self._queue.popleft())
            if not any(poller.poll().batches for poller in self.event_sources) and not self._queue:
                return

    def lost(self, function_name: str) -> Counter[str]:
        """The loss metrics of one function (AsyncEventsDropped excluded: it counts kept failures too)."""
        return Counter(
            {
                metric: n
                for (name, metric), n in self.metrics.items()
                if name == function_name and metric != "AsyncEventsDropped"
            }
        )

    def _mapping_invoker(self, poller: SqsPoller) -> Callable[[Any], Any]:
        invoke = poller.invoke

        def run(event: Any) -> Any:
            started = Run(poller.function.name, "$LATEST", str(uuid.uuid4()), 1, self.now, event)
            try:
                result = invoke(json.loads(json.dumps(event)))
            except Exception as error:
                self.runs.append(dataclasses.replace(started, error=error))
                self.metrics[(poller.function.name, "Errors")] += 1
                raise
            self.runs.append(dataclasses.replace(started, result=result))
            return result

        return run

    def runs_of(self, function_name: str) -> list[Run]:
        return [run for run in self.runs if run.function_name == function_name]

    def _process(self, event: _Event) -> None:
        config = self._event_invoke_config(event.function_name, event.qualifier)
        max_retries = config.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)
        max_age = timedelta(seconds=config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_SECONDS))
        attempt_at = event.accepted_at + event.queued_for
        last: Run | None = None
        condition = "RetriesExhausted"
        for attempt in range(1, max_retries + 2):
            if attempt > 1:
                attempt_at += timedelta(seconds=RETRY_DELAYS_SECONDS[attempt - 2])
            if attempt_at - event.accepted_at > max_age:
                condition = "EventAgeExceeded"
                break
            self.now = max(self.now, attempt_at)
            last = self._run(event, attempt)
            if last.error is None:
                condition = "Success"
                break
        record = self._record(event, condition, last)
        outcome = "OnSuccess" if condition == "Success" else "OnFailure"
        if condition != "Success":
            self.metrics[(event.function_name, "AsyncEventsDropped")] += 1
        destination = config.get("DestinationConfig", {}).get(outcome, {})
        if destination.get("Destination"):
            self._deliver(event, destination["Destination"], record)
        if condition != "Success" and event.function_name in self.dead_letter_targets:
            try:
                self._dead_letter(event, last)
            except ClientError:
                self.metrics[(event.function_name, "DeadLetterErrors")] += 1

    def _event_invoke_config(self, function_name: str, qualifier: str) -> dict[str, Any]:
        # Asked for the qualifier as Lambda would; moto keeps one config per function and ignores it.
        try:
            return self.lambda_client.get_function_event_invoke_config(FunctionName=function_name, Qualifier=qualifier)
        except self.lambda_client.exceptions.ResourceNotFoundException:
            return {}

    def _run(self, event: _Event, attempt: int) -> Run:
        configuration = self.lambda_client.get_function_configuration(
            FunctionName=event.function_name, Qualifier=event.qualifier
        )
        invoked_arn = _function_arn(configuration["FunctionArn"], event.qualifier)
        context = FakeLambdaContext(
            function_name=event.function_name,
            function_version=configuration["Version"],
            invoked_function_arn=invoked_arn,
            aws_request_id=event.request_id,
        )
        module_name, _, attribute = configuration["Handler"].rpartition(".")
        with _environment(configuration.get("Environment", {}).get("Variables", {})):
            # Imported with the function's environment in force, as Lambda's init phase does.
            handler = getattr(importlib.import_module(module_name), attribute)
            started = Run(event.function_name, event.qualifier, event.request_id, attempt, self.now, None)
            try:
                # The runtime parses the event (an event it cannot parse is a function error, as
                # the runtime's Runtime.UnmarshalError is), and marshals the result through JSON.
                payload = json.loads(event.payload)
                started = dataclasses.replace(started, event=payload)
                result = json.loads(json.dumps(handler(copy.deepcopy(payload), context)))
            except Exception as error:  # the runtime turns any exception into a function error
                run = dataclasses.replace(started, error=error)
                self.metrics[(event.function_name, "Errors")] += 1
            else:
                run = dataclasses.replace(started, result=result)
        self.runs.append(run)
        return run

    def _record(self, event: _Event, condition: str, last: Run | None) -> dict[str, Any]:
        configuration = self.lambda_client.get_function_configuration(
            FunctionName=event.function_name, Qualifier=event.qualifier
        )
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": _timestamp(self.now),
            "requestContext": {
                "requestId": event.request_id,
                "functionArn": _function_arn(configuration["FunctionArn"], event.qualifier),
                "condition": condition,
                "approximateInvokeCount": sum(1 for run in self.runs if run.request_id == event.request_id),
            },
            # The payload's text, spliced in verbatim where the record is written (see _record_text).
            "requestPayload": _Verbatim(event.payload),
        }
        if last is not None:
            response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": configuration["Version"]}
            if last.error is not None:
                response_context["functionError"] = "Unhandled"
            record["responseContext"] = response_context
            record["responsePayload"] = last.result if last.error is None else _error_document(last)
        return record

    def _deliver(self, event: _Event, destination_arn: str, record: dict[str, Any]) -> None:
        service = destination_arn.split(":")[2]
        if service == "lambda":
            # A function's event: the runtime parses it, so the payload is read as a JSON value.
            parsed = {**record, "requestPayload": json.loads(event.payload)}
            self.invoke_async(destination_arn, parsed, from_lambda=True)
        elif service == "sqs":
            try:
                self.sqs_client.send_message(
                    QueueUrl=self._queue_url(destination_arn), MessageBody=_record_text(record)
                )
            except ClientError:
                self.metrics[(event.function_name, "DestinationDeliveryFailures")] += 1
        else:
            raise NotImplementedError(f"destination type {service!r} is not modelled by this dispatcher")

    def _dead_letter(self, event: _Event, last: Run | None) -> None:
        message = str(last.error) if last is not None and last.error is not None else "Event age exceeded"
        self.sqs_client.send_message(
            QueueUrl=self._queue_url(self.dead_letter_targets[event.function_name]),
            MessageBody=event.payload,
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": event.request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {
                    "DataType": "String",
                    "StringValue": message.encode()[:DLQ_ERROR_MESSAGE_BYTES].decode(errors="ignore"),
                },
            },
        )

    def _queue_url(self, queue_arn: str) -> str:
        *_, account, name = queue_arn.split(":")
        return self.sqs_client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


@dataclass(frozen=True)
class _Verbatim:
    """JSON text to be written into a record as it is."""

    text: str


def _record_text(record: dict[str, Any]) -> str:
    """The record as JSON text, each _Verbatim member written as its text."""
    placeholders = {
        f"\u0000verbatim{index}": value.text
        for index, value in enumerate(record.values())
        if isinstance(value, _Verbatim)
    }
    marked = {
        name: f"\u0000verbatim{index}" if isinstance(value, _Verbatim) else value
        for index, (name, value) in enumerate(record.items())
    }
    text = json.dumps(marked, ensure_ascii=False)
    for placeholder, verbatim in placeholders.items():
        text = text.replace(json.dumps(placeholder, ensure_ascii=False), verbatim, 1)
    return text


def _split_function(function: str) -> tuple[str, str | None]:
    if function.startswith("arn:"):
        parts = function.split(":")
        return parts[6], parts[7] if len(parts) > 7 else None
    name, _, qualifier = function.partition(":")
    return name, qualifier or None


def _function_arn(configured_arn: str, qualifier: str) -> str:
    # get_function_configuration answers with the version's ARN; the record names what was invoked.
    unqualified = ":".join(configured_arn.split(":")[:7])
    return f"{unqualified}:{qualifier}"


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _error_document(run: Run) -> dict[str, Any]:
    assert run.error is not None
    return {
        "errorMessage": str(run.error),
        "errorType": type(run.error).__name__,
        "requestId": run.request_id,
        "stackTrace": traceback.format_tb(run.error.__traceback__),
    }


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
