"""The destinations workload after a deploy (docs/destinations.md, "Try it after cdk deploy", "Replay kept
failures"): a success and a failure invoked asynchronously, the kept failure replayed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from local.e2e import REPO_ROOT, CheckFailed, Deployment, NotEmulated, WorkflowReport, log_messages, wait_for

WORKLOAD = "destinations"
# What MiniStack (patched, local/emulators.py) does not emulate of this workflow, by the checks' own names.
# A new gap, or one upstream closed, changes this on purpose: the docs' gap table must follow.
EXPECTED_GAPS: list[str] = ["Lambda Destinations routing"]


# A dry run receives the kept message (SQS cannot read otherwise): keep it hidden only briefly.
_DRY_RUN_VISIBILITY_SECONDS = 1


def run(deployment: Deployment, report: WorkflowReport) -> None:
    lambda_, logs, sqs = deployment.client("lambda"), deployment.client("logs"), deployment.client("sqs")
    worker = deployment.output(WORKLOAD, "WorkerAliasArn")
    queue = deployment.output(WORKLOAD, "FailedRequestsQueueUrl")
    function, _, alias = worker.rpartition(":")
    config = lambda_.get_function_event_invoke_config(FunctionName=function, Qualifier=alias)
    on_success = config["DestinationConfig"]["OnSuccess"]["Destination"]
    on_failure = config["DestinationConfig"]["OnFailure"]["Destination"]
    success_group, worker_group = (_log_group(lambda_, arn) for arn in (on_success, worker))
    order = uuid.uuid4().hex[:8]
    with report.check("a success and a failure invoked asynchronously through the worker's live alias (202)"):
        request_ids = []
        for payload in ({"Success": True, "orderId": f"ok-{order}"}, {"Success": False, "orderId": f"ko-{order}"}):
            response = lambda_.invoke(FunctionName=worker, InvocationType="Event", Payload=json.dumps(payload))
            if response["StatusCode"] != 202:
                raise CheckFailed(f"status {response['StatusCode']}")
            # An asynchronous invocation's request id is the one its invocation record carries.
            request_ids.append(response["ResponseMetadata"]["RequestId"])
        failed_request = request_ids[1]
    with report.check("the worker ran both (its log group)"):
        if not wait_for(
            lambda: sum("REPORT RequestId" in m for m in log_messages(logs, worker_group)) >= 2, timeout=60
        ):
            raise CheckFailed(f"fewer than two invocations in {worker_group}")
    try:
        with report.check("the success record reaches the on-success function"):
            if not wait_for(lambda: any("succeeded" in m for m in log_messages(logs, success_group)), timeout=20):
                raise NotEmulated("Lambda Destinations routing from an alias's event-invoke config "
                                  "(OnSuccess / OnFailure records are never sent)")  # fmt: skip
    except NotEmulated:
        # Nothing routes the failure either: hand the failure function the record Lambda would send
        # (the documented invocation-record format) so that keeping and replaying can be checked.
        with report.check("emulator only: the documented failure record sent to the on-failure queue"):
            record = _failure_record(worker, failed_request, {"Success": False, "orderId": f"ko-{order}"})
            # The on-failure destination is the failure-records queue, which the failure handler reads.
            failure_records = sqs.get_queue_url(QueueName=on_failure.rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(QueueUrl=failure_records, MessageBody=json.dumps(record))
    with report.check("the failed request is kept in the failed-requests queue"):
        kept = wait_for(lambda: _queue_depth(sqs, queue) >= 1, timeout=60)
        if not kept:
            raise CheckFailed("the failed-requests queue is empty")
    with report.check("replay --dry-run lists it and removes nothing"):
        depth = _queue_depth(sqs, queue, include_in_flight=True)
        listed = _replay(deployment, queue, worker, dry_run=True)
        # The listing names request ids and sizes, never payload content.
        if f"request={failed_request}" not in listed:
            raise CheckFailed(f"not listed: {listed[-500:]}")
        if _queue_depth(sqs, queue, include_in_flight=True) != depth:
            raise CheckFailed("the dry run changed the queue")
        time.sleep(_DRY_RUN_VISIBILITY_SECONDS + 0.5)  # the listed message becomes receivable again
    reports_before = sum("REPORT RequestId" in m for m in log_messages(logs, worker_group))
    with report.check("replay re-invokes the worker with the kept payload and deletes the message"):
        _replay(deployment, queue, worker, dry_run=False)
        if not wait_for(lambda: sum("REPORT RequestId" in m for m in log_messages(logs, worker_group)) > reports_before,
                        timeout=60):  # fmt: skip
            raise CheckFailed("the worker was not invoked again")
        if _queue_depth(sqs, queue, include_in_flight=True) != 0:
            raise CheckFailed("the kept message is still in the queue")


def _log_group(lambda_: Any, function_arn: str) -> str:
    function, _, qualifier = function_arn.rpartition(":")
    configuration = lambda_.get_function_configuration(FunctionName=function, Qualifier=qualifier)
    return str(configuration["LoggingConfig"]["LogGroup"])


def _failure_record(worker_alias_arn: str, request_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": worker_alias_arn,
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },  # fmt: skip
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "1", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "the job reported failure", "errorType": "JobFailedError"},
    }


def _queue_depth(sqs: Any, queue: str, *, include_in_flight: bool = False) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]) + (int(attributes[names[1]]) if include_in_flight else 0)


def _replay(deployment: Deployment, queue: str, worker: str, *, dry_run: bool) -> str:
    command = [sys.executable, "-m", _replay_module(), "--queue-url", queue, "--function", worker,
               "--visibility-timeout", str(_DRY_RUN_VISIBILITY_SECONDS) if dry_run else "30"]  # fmt: skip
    if dry_run:
        command.append("--dry-run")
    result = subprocess.run(command, cwd=REPO_ROOT, env=deployment.env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise CheckFailed(f"{' '.join(command[1:4])} exited {result.returncode}: {result.stderr[-800:]}")
    return result.stdout + result.stderr


def _replay_module() -> str:
    # The documented command; found by file so that moving it inside lambdas/destinations/ keeps working.
    candidates = sorted((REPO_ROOT / "lambdas" / "destinations").glob("**/replay.py"), key=lambda p: len(p.parts))
    for candidate in candidates:
        if "__main__" in candidate.read_text():
            return ".".join(candidate.relative_to(REPO_ROOT).with_suffix("").parts)
    raise CheckFailed("no replay command under lambdas/destinations/")
