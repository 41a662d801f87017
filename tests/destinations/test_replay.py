"""The replay command against moto: kept failures re-invoked through Lambda's async path and removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from lwk_destinations.kept import KeptFailure
from lwk_destinations.ops.replay import main
from moto.awslambda.exceptions import LambdaClientError

from tests.conftest import REPO_ROOT, cdk_json_context
from tests.destinations.conftest import DeployedStack
from tests.destinations.lambda_async import LambdaAsync

MAX_EVENT_AGE = cdk_json_context()["kit"]["destinations"]["maxEventAgeSeconds"]


class _UpdateInProgress(LambdaClientError):
    code = 409

    def __init__(self) -> None:
        super().__init__("ResourceConflictException", "The operation cannot be performed at this time.")


def _keep_expired_requests(deployed: DeployedStack, payloads: list[dict]) -> None:
    """Kept failures whose payloads would now succeed: events that expired in a backlog."""
    for payload in payloads:
        deployed.lambda_async.invoke_async(deployed.worker_alias_arn, payload, queued_for_seconds=MAX_EVENT_AGE + 1)
    deployed.lambda_async.run_pending()
    assert deployed.visible_count(deployed.failed_queue_url) == len(payloads)
    deployed.lambda_async.runs.clear()


def _replay(deployed: DeployedStack, *extra: str) -> int:
    target = ["--queue-url", deployed.failed_queue_url, "--function", deployed.worker_alias_arn]
    return main([*target, "--wait-seconds", "0", *extra])


def _kept_payloads(deployed: DeployedStack) -> list[dict]:
    return sorted(
        (KeptFailure.from_message_body(m["Body"]).request_payload for m in deployed.drain(deployed.failed_queue_url)),
        key=json.dumps,
    )


def test_kept_failures_are_reinvoked_and_removed(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync, capsys: pytest.CaptureFixture
) -> None:
    payloads = [{"Success": True, "orderId": f"o-{n}"} for n in range(12)]  # more than one SQS batch
    _keep_expired_requests(deployed, payloads)

    assert _replay(deployed) == 0

    assert deployed.visible_count(deployed.failed_queue_url) == 0
    assert "12 replayed and removed; 0 kept" in capsys.readouterr().out
    async_invoke_through_dispatcher.run_pending()
    worker_runs = async_invoke_through_dispatcher.runs_of(deployed.function_name("Worker"))
    assert sorted((run.event for run in worker_runs), key=json.dumps) == sorted(payloads, key=json.dumps)
    assert len(async_invoke_through_dispatcher.runs_of(deployed.function_name("SuccessHandler"))) == len(payloads)


def test_a_replayed_request_that_still_fails_comes_back_as_a_new_kept_failure(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync
) -> None:
    deployed.lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": False, "orderId": "o-1"})
    deployed.lambda_async.run_pending()
    (first,) = deployed.sqs.receive_message(QueueUrl=deployed.failed_queue_url, VisibilityTimeout=0)["Messages"]

    assert _replay(deployed) == 0
    async_invoke_through_dispatcher.run_pending()

    (again,) = deployed.drain(deployed.failed_queue_url)
    assert again["MessageId"] != first["MessageId"]
    assert KeptFailure.from_message_body(again["Body"]).request_payload == {"Success": False, "orderId": "o-1"}


def test_a_refused_reinvoke_keeps_its_message(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync, capsys: pytest.CaptureFixture
) -> None:
    _keep_expired_requests(deployed, [{"Success": True, "orderId": order} for order in ("accepted", "refused")])
    async_invoke_through_dispatcher.refuse = lambda function, payload: (
        _UpdateInProgress() if json.loads(payload).get("orderId") == "refused" else None
    )

    assert _replay(deployed) == 1

    output = capsys.readouterr().out
    assert "re-invoke refused (ResourceConflictException" in output
    assert "1 replayed and removed; 1 kept (re-invoke refused)" in output
    # Released at the end of the run: visible at once for the next one, not after the timeout.
    assert _kept_payloads(deployed) == [{"Success": True, "orderId": "refused"}]


def test_dry_run_lists_and_changes_nothing(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync, capsys: pytest.CaptureFixture
) -> None:
    _keep_expired_requests(deployed, [{"Success": True, "orderId": "o-1"}, {"Success": True, "orderId": "o-2"}])

    assert _replay(deployed, "--dry-run") == 0

    output = capsys.readouterr().out
    assert output.count("EventAgeExceeded  invokes=0") == 2
    # Ids, outcome and sizes: no payload content (issue 12); the payload is in the message itself.
    listing = "\n".join(line for line in output.splitlines() if not line.startswith("{"))  # not the handlers' logs
    assert listing.count("payload=35 bytes") == 2  # the payload's text as the client sent it
    assert "orderId" not in listing and "o-1" not in listing
    assert "2 kept failure(s) listed; dry run" in output
    async_invoke_through_dispatcher.run_pending()
    assert async_invoke_through_dispatcher.runs == []
    assert deployed.visible_count(deployed.failed_queue_url) == 2


def test_limit_replays_only_that_many(deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync) -> None:
    _keep_expired_requests(deployed, [{"Success": True, "orderId": f"o-{n}"} for n in range(3)])

    assert _replay(deployed, "--limit", "2") == 0

    assert deployed.visible_count(deployed.failed_queue_url) == 1


def test_a_message_that_is_not_a_kept_failure_is_reported_and_left(
    deployed: DeployedStack, async_invoke_through_dispatcher: LambdaAsync, capsys: pytest.CaptureFixture
) -> None:
    deployed.sqs.send_message(QueueUrl=deployed.failed_queue_url, MessageBody='{"hello": "world"}')

    assert _replay(deployed) == 1

    assert "unreadable" in capsys.readouterr().out
    assert async_invoke_through_dispatcher.runs == []
    assert deployed.visible_count(deployed.failed_queue_url) == 1


def test_a_missing_queue_stops_the_command_with_a_clear_error(
    deployed: DeployedStack, capsys: pytest.CaptureFixture
) -> None:
    missing = deployed.failed_queue_url.rsplit("/", 1)[0] + "/no-such-queue"

    assert main(["--queue-url", missing, "--function", deployed.worker_alias_arn, "--wait-seconds", "0"]) == 2

    assert "replay stopped: " in capsys.readouterr().err


def test_the_documented_command_runs_from_the_repository_root() -> None:
    # `python -m lambdas.destinations.replay` as the README says, in a fresh interpreter.
    result = subprocess.run(
        [sys.executable, "-m", "lambdas.destinations.replay", "--help"],
        cwd=REPO_ROOT,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--dry-run" in result.stdout and "--queue-url" in result.stdout
