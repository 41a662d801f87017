"""No payloads in logs (issue 12): a secret planted in request payloads, response payloads and error
messages never reaches what any destinations function or the replay command writes, unless
kit.destinations.logPayloads turns payload logging on."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from lwk_destinations import contract
from lwk_destinations.config import load_config
from lwk_destinations.errors import ConfigError
from lwk_destinations.ops.replay import main

from tests.destinations.conftest import DeployedStack
from tests.destinations.lambda_async import FakeLambdaContext, LambdaAsync

SECRET = "s3cr3t-card-4111-1111-1111-1111"


def _log_lines(output: str) -> list[dict[str, Any]]:
    # Log lines only: the failure handler's metric lines (embedded metric format) carry `_aws` instead.
    return [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws":' not in line]


def _failure_record(deployed: DeployedStack, payload: Any, error_message: str) -> dict[str, Any]:
    return {
        "version": "1.0",
        "timestamp": "2026-11-27T09:03:00.000Z",
        "requestContext": {
            "requestId": "0f0e0d0c-0000-4000-8000-000000000002",
            "functionArn": deployed.worker_alias_arn,
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "1", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": error_message, "errorType": "JobFailedError", "stackTrace": [SECRET]},
    }


def test_a_secret_in_any_payload_never_reaches_the_logs(
    deployed: DeployedStack,
    async_invoke_through_dispatcher: LambdaAsync,
    capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lambda_async = deployed.lambda_async
    # A success (request and response payloads carry it), a failure kept in the queue, one offloaded,
    # a failure record whose error message and stack trace carry it, a malformed record, a bad request.
    lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": True, "card": SECRET})
    lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": False, "card": SECRET})
    lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": False, "card": SECRET, "blob": "x" * 300_000})
    lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": SECRET})
    for body in (
        json.dumps(_failure_record(deployed, {"card": SECRET}, f"could not charge {SECRET}"), ensure_ascii=False),
        f'{{"card": "{SECRET}"',
    ):
        deployed.sqs.send_message(QueueUrl=deployed.records_queue_url, MessageBody=body)
    lambda_async.invoke_async(deployed.alias_arn("SuccessHandler"), {"version": "1.0", "requestPayload": SECRET})
    lambda_async.run_pending()
    kept = deployed.visible_count(deployed.failed_queue_url)
    assert kept == 4
    # The replay command: a listing, then a replay (re-invoking the worker with the payloads again).
    assert main(["--queue-url", deployed.failed_queue_url, "--function", deployed.worker_alias_arn,
                 "--wait-seconds", "0", "--dry-run"]) == 0  # fmt: skip
    main(["--queue-url", deployed.failed_queue_url, "--function", deployed.worker_alias_arn, "--wait-seconds", "0"])
    lambda_async.run_pending()

    captured = capsys.readouterr()
    everything = captured.out + captured.err + caplog.text
    assert SECRET not in everything
    # The errors the functions raised (the runtime logs their messages) carry no payload content either.
    assert all(SECRET not in str(run.error) for run in lambda_async.runs if run.error is not None)
    # It did log: every function, each time with the workload's service name.
    lines = _log_lines(captured.out)
    logged_by = {line["function_name"] for line in lines}
    assert logged_by == {deployed.function_name(name) for name in ("Worker", "SuccessHandler", "FailureHandler")}
    assert {line["service"] for line in lines} == {contract.SERVICE_NAME}
    failure_lines = [line for line in lines if line["message"].startswith("asynchronous invocation failed")]
    assert {line["condition"] for line in failure_lines} == {"RetriesExhausted"}
    assert any(line.get("offloaded") for line in failure_lines)  # Powertools leaves out None values
    assert all(line["requestPayloadBytes"] > 0 for line in failure_lines)
    assert "replayed" in captured.out and "kept failure(s) listed" in captured.out


def test_log_payloads_on_puts_the_payloads_in_the_logs(
    monkeypatch: pytest.MonkeyPatch, aws: None, capsys: pytest.CaptureFixture
) -> None:
    # The control: with the opt-in on, the same capture does show the secret.
    monkeypatch.setenv(contract.LOG_PAYLOADS_ENV, "true")
    # Imported afresh (the aws fixture forgot the old module; `from lwk_destinations import handlers`
    # would find the old one as an attribute of the package).
    handlers = importlib.import_module("lwk_destinations.handlers")

    context = FakeLambdaContext("w", "1", "arn:aws:lambda:us-east-1:123456789012:function:w:live", "r-1")
    handlers.worker({"Success": True, "card": SECRET}, context)
    lines = _log_lines(capsys.readouterr().out)
    assert [line["request"]["card"] for line in lines] == [SECRET]

    monkeypatch.setenv(contract.LOG_PAYLOADS_ENV, "false")
    handlers.worker({"Success": True, "card": SECRET}, context)
    assert SECRET not in capsys.readouterr().out


@pytest.mark.parametrize("value", ["yes", "True", "1", ""])
def test_log_payloads_takes_true_or_false_only(value: str) -> None:
    assert load_config({}).log_payloads is False  # unset: off
    with pytest.raises(ConfigError, match=contract.LOG_PAYLOADS_ENV):
        load_config({contract.LOG_PAYLOADS_ENV: value})
