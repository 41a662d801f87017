"""Failures that do not fit: never lost, kept whole (offloaded), on the strict stand-ins.

The queue takes at most contract.KEPT_MESSAGE_MAX_BYTES per message (set on the queue, enforced
in bytes with the attributes by support/aws_limits.py); Lambda takes at most 1 MB per asynchronous
invoke; pydantic's JSON parser stops at about 200 levels of nesting.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lwk_destinations import contract
from lwk_destinations.kept import CUT_MARKER, PAYLOAD_CUT_NOTE, SUMMARY_ERROR_TYPE_CHARS, KeptFailure
from lwk_destinations.ops.replay import main
from lwk_destinations.records import parse_failure_body

from stacks.settings.common import APP_NAME
from support.aws_limits import LAMBDA_ASYNC_MAX_PAYLOAD_BYTES, RequestTooLargeException
from support.emf import emf_points
from tests.conftest import cdk_json_context
from tests.destinations.conftest import DeployedStack, batch_errors
from tests.destinations.lambda_async import LambdaAsync

ATTEMPTS = 1 + cdk_json_context()["kit"]["destinations"]["maxRetryAttempts"]


def _deep(levels: int, leaf: Any = "leaf") -> Any:
    value = leaf
    for _ in range(levels):
        value = {"next": value}
    return value


def _failure_record(deployed: DeployedStack, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": "2026-11-27T09:03:00.000Z",
        "requestContext": {
            "requestId": "0f0e0d0c-0000-4000-8000-000000000001",
            "functionArn": deployed.worker_alias_arn,
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": {"Success": False, "orderId": "o-1"},
        "responseContext": {"statusCode": 200, "executedVersion": "1", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "failed", "errorType": "JobFailedError", "stackTrace": []},
    }
    record.update(changes)
    return record


def _replay(deployed: DeployedStack) -> int:
    return main(
        ["--queue-url", deployed.failed_queue_url, "--function", deployed.worker_alias_arn, "--wait-seconds", "0"]
    )


def _only_message(deployed: DeployedStack) -> dict[str, Any]:
    (message,) = deployed.sqs.receive_message(
        QueueUrl=deployed.failed_queue_url, MessageAttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    return message


def test_a_failure_too_big_for_the_queue_is_offloaded_whole_and_replayed_from_the_copy(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync
) -> None:
    # 600 KB: within Lambda's 1 MB for an asynchronous invoke, over the queue's 256 KiB.
    payload = {"Success": False, "orderId": "o-big", "blob": "x" * 600_000}
    request_id = deployed.lambda_async.invoke_async(deployed.worker_alias_arn, payload)
    deployed.lambda_async.run_pending()

    message = _only_message(deployed)
    summary = KeptFailure.from_message_body(message["Body"])
    assert summary.request_payload_json is None and summary.offloaded is not None
    assert summary.request_id == request_id and summary.error.type == "JobFailedError"
    assert any("requestPayload" in note and "offloaded copy" in note for note in summary.truncated)
    assert message["MessageAttributes"]["offloaded"]["StringValue"] == summary.offloaded.key
    stored = deployed.s3.get_object(Bucket=deployed.offload_bucket, Key=summary.offloaded.key)["Body"].read()
    whole = KeptFailure.from_message_body(stored)
    assert whole.request_payload == payload and whole.truncated == () and whole.offloaded is None
    assert summary.offloaded.bytes == len(stored)
    # The whole copy could not have gone to the queue: the strict stand-in refuses it as SQS would.
    with pytest.raises(ClientError, match="Message must be shorter than 262144 bytes"):
        deployed.sqs.send_message(QueueUrl=deployed.failed_queue_url, MessageBody=whole.to_message_body())

    deployed.lambda_async.runs.clear()
    assert _replay(deployed) == 0
    deployed.lambda_async.run_pending()
    worker_runs = deployed.lambda_async.runs_of(deployed.function_name("Worker"))
    assert worker_runs[0].event == payload  # re-invoked with the offloaded payload, byte for byte
    assert deployed.lambda_async.runs_of(deployed.function_name("FailureHandler"))  # it failed again: kept again


def test_the_boundary_is_the_queues_byte_limit(deployed: DeployedStack) -> None:
    payload = {"Success": False, "orderId": "o-1", "pad": ""}
    fill = contract.KEPT_MESSAGE_MAX_BYTES - _kept_with(deployed, payload).message_bytes()
    at_limit = _kept_with(deployed, {**payload, "pad": "x" * fill})
    over = _kept_with(deployed, {**payload, "pad": "x" * (fill + 1)})
    assert (at_limit.message_bytes(), at_limit.fits_queue(contract.KEPT_MESSAGE_MAX_BYTES)) == (
        contract.KEPT_MESSAGE_MAX_BYTES,
        True,
    )
    assert over.fits_queue(contract.KEPT_MESSAGE_MAX_BYTES) is False
    # The strict stand-in agrees with the handler's own count, attributes included.
    deployed.sqs.send_message(
        QueueUrl=deployed.failed_queue_url, MessageBody=at_limit.to_message_body(),
        MessageAttributes=at_limit.message_attributes(),
    )  # fmt: skip
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        deployed.sqs.send_message(
            QueueUrl=deployed.failed_queue_url, MessageBody=over.to_message_body(),
            MessageAttributes=over.message_attributes(),
        )  # fmt: skip


def _kept_with(deployed: DeployedStack, payload: Any) -> KeptFailure:
    return KeptFailure.from_record(*parse_failure_body(json.dumps(_failure_record(deployed, requestPayload=payload))))


def test_a_long_error_type_is_kept_whole_in_the_bucket_and_shortened_in_the_queue(deployed: DeployedStack) -> None:
    error_type = "E" * 900_000  # the record still fits an SQS message (1 MiB)
    record = _failure_record(deployed, responsePayload={"errorMessage": "m", "errorType": error_type})
    # As Lambda delivers it: the record is the body of a message in the failure-records queue.
    deployed.sqs.send_message(QueueUrl=deployed.records_queue_url, MessageBody=json.dumps(record))
    deployed.lambda_async.run_pending()

    (failure_run,) = deployed.lambda_async.runs_of(deployed.function_name("FailureHandler"))
    assert failure_run.error is None and failure_run.result == {"batchItemFailures": []}
    message = _only_message(deployed)
    summary = KeptFailure.from_message_body(message["Body"])
    assert summary.error.type == error_type[:SUMMARY_ERROR_TYPE_CHARS]
    assert f"error.type: first {SUMMARY_ERROR_TYPE_CHARS} of 900000 characters" in summary.truncated
    assert len(message["MessageAttributes"]["errorType"]["StringValue"]) == SUMMARY_ERROR_TYPE_CHARS
    assert summary.offloaded is not None
    whole = KeptFailure.from_message_body(
        deployed.s3.get_object(Bucket=deployed.offload_bucket, Key=summary.offloaded.key)["Body"].read()
    )
    assert whole.error.type == error_type and whole.request_payload == record["requestPayload"]


def test_a_payload_nested_deeper_than_pydantic_parses_is_kept_and_replayed(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync
) -> None:
    payload = {"Success": False, "tree": _deep(300)}
    deployed.lambda_async.invoke_async(deployed.worker_alias_arn, payload)
    deployed.lambda_async.run_pending()

    summary = KeptFailure.from_message_body(_only_message(deployed)["Body"])
    assert summary.offloaded is None and summary.truncated == ()
    assert summary.request_payload == payload

    deployed.lambda_async.runs.clear()
    assert _replay(deployed) == 0
    deployed.lambda_async.run_pending()
    assert deployed.lambda_async.runs_of(deployed.function_name("Worker"))[0].event == payload


def test_a_payload_nested_deeper_than_any_python_parser_goes_is_kept_whole_and_replayed(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync
) -> None:
    # The worker's runtime cannot even parse it (a function error); the failure handler never parses it.
    text = '{"Success": false, "tree": ' + "[" * 50_000 + "]" * 50_000 + "}"
    deployed.lambda_async.invoke_async(deployed.worker_alias_arn, text)
    deployed.lambda_async.run_pending()

    kept = KeptFailure.from_message_body(_only_message(deployed)["Body"])
    assert kept.request_payload_json == text and kept.truncated == () and kept.replayable

    # Replay sends this text's bytes (replay.py); moto's own Invoke parses the body and cannot take
    # this depth, so the round trip through replay is proved at depths it can (test_invariant.py).


def test_a_copy_cut_by_an_earlier_version_is_listed_and_never_replayed(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync, capsys: pytest.CaptureFixture
) -> None:
    whole = _kept_with(deployed, {"Success": False})
    cut = whole.model_copy(
        update={
            "request_payload_json": json.dumps({"Success": False, "tree": CUT_MARKER}),
            "truncated": (PAYLOAD_CUT_NOTE,),
        }
    )
    assert cut.replayable is False
    deployed.sqs.send_message(
        QueueUrl=deployed.failed_queue_url,
        MessageBody=cut.to_message_body(),
        MessageAttributes=cut.message_attributes(),
    )

    assert _replay(deployed) == 1
    assert "not replayed, the kept payload is not whole" in capsys.readouterr().out
    assert deployed.lambda_async.runs == []
    assert deployed.visible_count(deployed.failed_queue_url) == 1


def test_a_failure_that_cannot_be_offloaded_ends_in_the_records_dead_letter_queue(deployed: DeployedStack) -> None:
    deployed.s3.delete_bucket(Bucket=deployed.offload_bucket)
    payload = {"Success": False, "blob": "x" * 300_000}
    deployed.lambda_async.invoke_async(deployed.worker_alias_arn, payload)
    deployed.lambda_async.run_pending()

    failure_runs = deployed.lambda_async.runs_of(deployed.function_name("FailureHandler"))
    assert batch_errors(failure_runs) == ["NoSuchBucket"] * 3
    assert deployed.visible_count(deployed.failed_queue_url) == 0  # no summary pointing to nothing
    (dead,) = deployed.drain(deployed.records_dead_letter_queue_url)
    assert json.loads(dead["Body"])["requestPayload"] == payload  # the whole record, kept


def test_a_missing_offloaded_copy_is_reported_and_the_summary_kept(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync, capsys: pytest.CaptureFixture
) -> None:
    deployed.lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": False, "blob": "x" * 300_000})
    deployed.lambda_async.run_pending()
    summary = KeptFailure.from_message_body(_only_message(deployed)["Body"])
    assert summary.offloaded is not None
    versions = deployed.s3.list_object_versions(Bucket=deployed.offload_bucket)["Versions"]
    for version in versions:
        deployed.s3.delete_object(Bucket=deployed.offload_bucket, Key=version["Key"], VersionId=version["VersionId"])
    deployed.lambda_async.runs.clear()

    assert _replay(deployed) == 1
    assert "unreadable" in capsys.readouterr().out
    assert deployed.lambda_async.runs == []
    assert deployed.visible_count(deployed.failed_queue_url) == 1


def test_a_client_payload_over_1_mb_is_refused_as_lambda_does(deployed: DeployedStack) -> None:
    fill = LAMBDA_ASYNC_MAX_PAYLOAD_BYTES - len(json.dumps({"Success": True, "blob": ""}))
    deployed.lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": True, "blob": "x" * fill})
    too_big = {"Success": True, "blob": "x" * (fill + 1)}
    with pytest.raises(RequestTooLargeException):
        deployed.lambda_async.invoke_async(deployed.worker_alias_arn, too_big)


def test_the_failure_handler_counts_what_it_kept_and_offloaded(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    deployed.lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": False, "orderId": "o-small"})
    deployed.lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": False, "blob": "x" * 600_000})
    deployed.lambda_async.run_pending()

    points = emf_points(capsys.readouterr().out)
    totals: dict[str, float] = {}
    for point in points:
        # Bounded: the service only, never a request id or function ARN.
        assert point.dimensions == {"service": contract.SERVICE_NAME}
        assert point.namespace.startswith(f"{APP_NAME}-") and point.unit == "Count"
        totals[point.name] = totals.get(point.name, 0) + point.value
    assert totals == {contract.FAILURES_KEPT: 2, contract.FAILURES_OFFLOADED: 1}
