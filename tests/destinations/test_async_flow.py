"""The asynchronous path end to end: the synthesized stack in moto, Lambda's async behaviour from the
dispatcher (tests/destinations/lambda_async.py), and the real worker and destination handlers."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from lwk_destinations.kept import KeptFailure

from stacks.settings.common import APP_NAME
from tests.conftest import cdk_json_context
from tests.destinations.conftest import DeployedStack, batch_errors

SETTINGS = cdk_json_context()["kit"]["destinations"]


def _structured_logs(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_a_success_goes_to_the_success_handler_only(deployed: DeployedStack, capsys: pytest.CaptureFixture) -> None:
    lambda_async = deployed.lambda_async
    payload = {"Success": True, "orderId": "o-7"}

    request_id = lambda_async.invoke_async(deployed.worker_alias_arn, payload)
    lambda_async.run_pending()

    worker_runs = lambda_async.runs_of(deployed.function_name("Worker"))
    assert [(run.attempt, run.result) for run in worker_runs] == [(1, {"statusCode": 200, "body": payload})]
    (success_run,) = lambda_async.runs_of(deployed.function_name("SuccessHandler"))
    assert success_run.error is None
    assert success_run.event["requestContext"] == {
        "requestId": request_id,
        "functionArn": deployed.worker_alias_arn,
        "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert success_run.event["requestPayload"] == payload
    assert success_run.event["responseContext"] == {"statusCode": 200, "executedVersion": "1"}
    assert success_run.result["requestId"] == request_id
    assert lambda_async.runs_of(deployed.function_name("FailureHandler")) == []
    assert deployed.visible_count(deployed.failed_queue_url) == 0
    logged = [entry for entry in _structured_logs(capsys.readouterr().out) if entry["message"].endswith("succeeded")]
    success_log = next(entry for entry in logged if "summary" in entry)
    assert success_log["summary"]["requestId"] == request_id
    assert success_log["requestPayloadBytes"] == len(json.dumps(payload, separators=(",", ":")))
    assert success_log["service"] == f"{APP_NAME}-destinations"
    assert "record" not in success_log and "o-7" not in json.dumps(logged)  # ids and sizes, no payload


def test_a_failure_is_retried_as_configured_then_kept_with_its_payload(deployed: DeployedStack) -> None:
    lambda_async = deployed.lambda_async
    payload = {"Success": False, "orderId": "o-8", "lines": [1, 2]}

    request_id = lambda_async.invoke_async(deployed.worker_alias_arn, payload)
    lambda_async.run_pending()

    worker_runs = lambda_async.runs_of(deployed.function_name("Worker"))
    attempts = 1 + SETTINGS["maxRetryAttempts"]
    assert [run.attempt for run in worker_runs] == list(range(1, attempts + 1))
    assert all(type(run.error).__name__ == "JobFailedError" for run in worker_runs)
    # One minute before the second attempt, two before the third.
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(worker_runs)]
    assert gaps == [timedelta(minutes=1), timedelta(minutes=2)][: attempts - 1]
    assert lambda_async.runs_of(deployed.function_name("SuccessHandler")) == []
    (message,) = deployed.drain(deployed.failed_queue_url)
    kept = KeptFailure.from_message_body(message["Body"])
    assert kept.request_payload == payload
    assert (kept.request_id, kept.condition) == (request_id, "RetriesExhausted")
    assert kept.approximate_invoke_count == attempts
    assert (kept.error.type, kept.error.function_error) == ("JobFailedError", "Unhandled")
    assert kept.function_arn == deployed.worker_alias_arn
    assert message["MessageAttributes"]["errorType"]["StringValue"] == "JobFailedError"


def _reconfigure_worker(deployed: DeployedStack, **settings: int) -> None:
    """Change the worker alias's async settings, as `aws lambda put-function-event-invoke-config` does."""
    name = deployed.function_name("Worker")
    config = deployed.lambda_client.get_function_event_invoke_config(FunctionName=name, Qualifier="live")
    # moto appends a second config on put and keeps answering with the first: delete it first.
    deployed.lambda_client.delete_function_event_invoke_config(FunctionName=name, Qualifier="live")
    deployed.lambda_client.put_function_event_invoke_config(
        FunctionName=name, Qualifier="live", DestinationConfig=config["DestinationConfig"], **settings
    )


def test_the_configured_retry_count_is_read_from_the_alias_config(deployed: DeployedStack) -> None:
    _reconfigure_worker(deployed, MaximumRetryAttempts=0)

    deployed.lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": False})
    deployed.lambda_async.run_pending()

    assert len(deployed.lambda_async.runs_of(deployed.function_name("Worker"))) == 1
    (message,) = deployed.drain(deployed.failed_queue_url)
    assert KeptFailure.from_message_body(message["Body"]).approximate_invoke_count == 1


def test_an_event_older_than_the_maximum_age_is_never_run_and_yields_event_age_exceeded(
    deployed: DeployedStack,
) -> None:
    payload = {"Success": True, "orderId": "o-9"}

    # A backlog: the first attempt would start a second after the event's maximum age.
    deployed.lambda_async.invoke_async(
        deployed.worker_alias_arn, payload, queued_for_seconds=SETTINGS["maxEventAgeSeconds"] + 1
    )
    deployed.lambda_async.run_pending()

    assert deployed.lambda_async.runs_of(deployed.function_name("Worker")) == []
    (failure_run,) = deployed.lambda_async.runs_of(deployed.function_name("FailureHandler"))
    (record,) = (json.loads(message["body"]) for message in failure_run.event["Records"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    (message,) = deployed.drain(deployed.failed_queue_url)
    kept = KeptFailure.from_message_body(message["Body"])
    assert (kept.condition, kept.error.type, kept.request_payload) == ("EventAgeExceeded", "EventAgeExceeded", payload)


def test_retries_stop_when_the_next_one_would_exceed_the_maximum_age(deployed: DeployedStack) -> None:
    # 100 s: the second attempt (at 60 s) runs, the third (at 180 s) would be too late.
    _reconfigure_worker(deployed, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=100)

    deployed.lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": False})
    deployed.lambda_async.run_pending()

    assert len(deployed.lambda_async.runs_of(deployed.function_name("Worker"))) == 2
    (message,) = deployed.drain(deployed.failed_queue_url)
    kept = KeptFailure.from_message_body(message["Body"])
    assert (kept.condition, kept.approximate_invoke_count, kept.error.type) == ("EventAgeExceeded", 2, "JobFailedError")


MALFORMED = {"version": "1.0", "requestContext": {"condition": "RetriesExhausted"}, "requestPayload": {"x": 1}}


def test_a_malformed_success_record_ends_in_the_dead_letter_queue_not_dropped(deployed: DeployedStack) -> None:
    handler, malformed = "SuccessHandler", MALFORMED
    request_id = deployed.lambda_async.invoke_async(deployed.alias_arn(handler), malformed)
    deployed.lambda_async.run_pending()

    runs = deployed.lambda_async.runs_of(deployed.function_name(handler))
    assert [type(run.error).__name__ for run in runs] == ["MalformedRecordError"] * 3  # 1 + Lambda's default 2
    (dead,) = deployed.drain(deployed.dead_letter_queue_url)
    assert json.loads(dead["Body"]) == malformed
    assert dead["MessageAttributes"]["RequestID"]["StringValue"] == request_id
    assert "not a valid" in dead["MessageAttributes"]["ErrorMessage"]["StringValue"]
    assert deployed.visible_count(deployed.failed_queue_url) == 0


@pytest.mark.parametrize("body", [json.dumps(MALFORMED), "{not json", '{"requestPayload": [1, 2}'])
def test_a_malformed_failure_record_ends_in_the_records_dead_letter_queue_as_it_was(
    deployed: DeployedStack, body: str
) -> None:
    deployed.sqs.send_message(QueueUrl=deployed.records_queue_url, MessageBody=body)
    deployed.lambda_async.run_pending()

    runs = deployed.lambda_async.runs_of(deployed.function_name("FailureHandler"))
    # Received 3 times (the queue's maxReceiveCount), then moved, whole, to the dead-letter queue.
    assert batch_errors(runs) == ["MalformedRecordError"] * 3
    (dead,) = deployed.drain(deployed.records_dead_letter_queue_url)
    assert dead["Body"] == body
    assert deployed.visible_count(deployed.failed_queue_url) == 0
    assert deployed.lambda_async.lost(deployed.function_name("FailureHandler")) == {"Errors": 3}
