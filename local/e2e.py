"""`make e2e-local`: run every workflow through the deployed resources, as the docs tell a user to.

Resources are found the way a user finds them: stacks through CloudFormation (`lwk-<stage>-<workload>`),
then their outputs and resource listings; nothing here knows a handler or module path. Each
workflow reports its checks. Where the emulator lacks a feature, the check that needs it reports
`not emulated: <feature>`, recognised by that feature's own symptom (anything else is a failure),
and the workflow goes on with what can still be checked. Works unchanged against AWS, where no gap
should appear.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from stacks.shared.contracts import load_contract

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("durable-etl", "log-export", "destinations", "custom-runtime")
# Valid and invalid records in both source formats: two rejects, three rows.
JSONL_RECORDS = [
    {"id": "j-1", "name": "Ada", "amount": 12.5, "updatedAt": "2026-11-01T10:00:00Z"},
    {"id": "j-2", "name": "Grace", "amount": "not a number"},
    {"id": "j-3", "name": "Edsger", "amount": 7},
]
CSV_ROWS = [["id", "name", "amount"], ["c-1", "Barbara", "3.25"], ["c-2", "", "1"]]
VALID_IDS = {"j-1", "j-3", "c-1"}
REJECTED = 2
# How long past its scheduled end an asynchronous execution may sit in a wait before that is a gap.
_GRACE = timedelta(seconds=10)
# Long enough for a run that waits for the off-peak hour `make deploy-local` set (at most 5 minutes).
_RUN_TIMEOUT = timedelta(minutes=7)
# A dry run receives the kept message (SQS cannot read otherwise): keep it hidden only briefly.
_DRY_RUN_VISIBILITY_SECONDS = 1


class CheckFailed(AssertionError):
    """A check of a workflow did not hold."""


class NotEmulated(Exception):
    """The emulator lacks the feature a check needs; the message names the feature."""


@dataclass
class WorkflowReport:
    workflow: str
    passed: list[str] = field(default_factory=list)
    not_emulated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def outcome(self) -> str:
        if self.failed:
            return "FAILED"
        return "passed, with gaps" if self.not_emulated else "passed"

    def say(self, kind: str, text: str) -> None:
        print(f"[{self.workflow}] {kind}: {text}", flush=True)

    @contextmanager
    def check(self, name: str) -> Iterator[None]:
        try:
            yield
        except NotEmulated as gap:
            self.not_emulated.append(str(gap))
            self.say("not emulated", str(gap))
            raise
        except (CheckFailed, ClientError, subprocess.SubprocessError, KeyError, ValueError) as error:
            self.failed.append(f"{name}: {error}")
            self.say("FAILED", f"{name}: {error}")
            raise CheckFailed(name) from error
        else:
            self.passed.append(name)
            self.say("ok", name)


@dataclass
class E2eReport:
    workflows: list[WorkflowReport]

    @property
    def passed(self) -> bool:
        return all(not w.failed for w in self.workflows)

    def as_dict(self) -> dict[str, Any]:
        return {
            w.workflow: {
                "outcome": w.outcome, "seconds": w.seconds, "passed": w.passed,
                "notEmulated": w.not_emulated, "failed": w.failed,
            }
            for w in self.workflows
        }  # fmt: skip


@contextmanager
def environ_as(env: dict[str, str]) -> Iterator[None]:
    """This process's environment replaced by `env` for a moment.

    botocore reads AWS_PROFILE, AWS_CONFIG_FILE and friends from the process environment when a
    session or client is made; made inside this, they see the local deploy's settings, never the
    user's shell (a profile that does not exist here, a config file's endpoint or retry settings).
    """
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def client_for(env: dict[str, str], service: str, **config: Any) -> Any:
    """A boto3 client on the local deploy's environment only (fake credentials, the emulator's endpoint)."""
    with environ_as(env):
        return boto3.session.Session().client(
            service, endpoint_url=env.get("AWS_ENDPOINT_URL"), config=Config(retries={"max_attempts": 3}, **config)
        )


class Deployment:
    """The kit's stacks as CloudFormation reports them, with boto3 clients on the given environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.cloudformation = self.client("cloudformation")
        self.stacks = self._find_stacks()

    def client(self, service: str, **config: Any) -> Any:
        return client_for(self.env, service, **config)

    def _find_stacks(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for page in self.cloudformation.get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                name = stack["StackName"]
                for workload in WORKLOADS:
                    if name.startswith("lwk-") and name.endswith(f"-{workload}"):
                        found[workload] = stack
        return found

    def output(self, workload: str, key: str) -> str:
        for item in self.stacks[workload].get("Outputs", []):
            if item["OutputKey"] == key:
                return str(item["OutputValue"])
        raise CheckFailed(f"stack {self.stacks[workload]['StackName']} has no output {key}")

    def resources(self, workload: str, resource_type: str) -> list[dict[str, Any]]:
        paginator = self.cloudformation.get_paginator("list_stack_resources")
        return [
            r
            for page in paginator.paginate(StackName=self.stacks[workload]["StackName"])
            for r in page["StackResourceSummaries"]
            if r["ResourceType"] == resource_type
        ]


def wait_for(condition: Callable[[], Any], *, timeout: float, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def log_messages(logs: Any, group: str) -> list[str]:
    try:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
        return [event["message"] for page in pages for event in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []


# ---------------------------------------------------------------------------------------------------
# Durable ETL (docs/durable-etl.md, "Run it after cdk deploy")
# ---------------------------------------------------------------------------------------------------


def durable_etl(deployment: Deployment, report: WorkflowReport) -> None:
    s3, lambda_ = deployment.client("s3"), deployment.client("lambda")
    bucket = deployment.output("durable-etl", "SourceBucketName")
    table = deployment.output("durable-etl", "TargetTableName")
    function = deployment.output("durable-etl", "FunctionName")
    # A dataset of its own per run: rows and rejects of an earlier e2e run cannot be counted again.
    dataset = f"e2e-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:4]}"
    with report.check("dataset uploaded under <datasetId>/ (.jsonl and .csv)"):
        s3.put_object(Bucket=bucket, Key=f"{dataset}/part-1.jsonl",
                      Body="".join(json.dumps(r) + "\n" for r in JSONL_RECORDS).encode())  # fmt: skip
        text = io.StringIO()
        csv.writer(text).writerows(CSV_ROWS)
        s3.put_object(Bucket=bucket, Key=f"{dataset}/part-2.csv", Body=text.getvalue().encode())
    name = dataset
    payload = json.dumps({"datasetId": dataset, "batchSize": 2})
    with report.check("asynchronous start through the live alias, with an execution name (202)"):
        response = lambda_.invoke(FunctionName=function, Qualifier="live", InvocationType="Event",
                                  DurableExecutionName=name, Payload=payload)  # fmt: skip
        if response["StatusCode"] != 202:
            raise CheckFailed(f"status {response['StatusCode']}")
    execution = _find_execution(lambda_, function, name, report)
    arn = execution["DurableExecutionArn"]
    try:
        status = _follow(lambda_, arn, report, asynchronous=True)
    except NotEmulated:
        # What can still be checked: the same run, started the way the emulator can finish it.
        lambda_.stop_durable_execution(DurableExecutionArn=arn)
        with report.check("emulator only: synchronous start through the live alias (AWS allows it only "
                          "for an execution timeout up to 15 minutes)"):  # fmt: skip
            response = lambda_.invoke(FunctionName=function, Qualifier="live", Payload=payload)
            arn = response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-durable-execution-arn", "")
            if not arn:
                raise CheckFailed("the response names no durable execution") from None
        status = _follow(lambda_, arn, report, asynchronous=False)
    _check_run(deployment, lambda_, s3, arn, status, bucket, table, dataset, report)


def _find_execution(lambda_: Any, function: str, name: str, report: WorkflowReport) -> dict[str, Any]:
    def listed(qualifier: str) -> list[dict[str, Any]]:
        return list(
            lambda_.list_durable_executions_by_function(FunctionName=function, Qualifier=qualifier)["DurableExecutions"]
        )

    version = lambda_.get_alias(FunctionName=function, Name="live")["FunctionVersion"]
    executions = wait_for(lambda: listed("live") or listed(version), timeout=15)
    if not executions:
        with report.check("a durable execution was started"):
            raise CheckFailed("none listed for the live alias or its version")
    try:
        with report.check("the execution is listed by the live alias"):
            if not listed("live"):
                raise NotEmulated("ListDurableExecutionsByFunction with an alias qualifier (executions are "
                                  "listed under the alias's version only)")  # fmt: skip
    except NotEmulated:
        pass
    named = [e for e in executions if e.get("DurableExecutionName") == name]
    try:
        with report.check("the execution carries its name"):
            if not named:
                raise NotEmulated("DurableExecutionName (the execution gets a generated name)")
    except NotEmulated:
        pass
    return dict((named or sorted(executions, key=lambda e: e["StartTimestamp"]))[-1])


def _follow(lambda_: Any, arn: str, report: WorkflowReport, *, asynchronous: bool) -> str:
    """Wait for the execution to end; an asynchronous one that never leaves a due wait is a gap."""

    def state() -> tuple[str, list[dict[str, Any]]]:
        status = lambda_.get_durable_execution(DurableExecutionArn=arn)["Status"]
        events = lambda_.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        return status, events

    deadline = datetime.now(UTC) + _RUN_TIMEOUT
    status, events = state()
    while status == "RUNNING" and datetime.now(UTC) < deadline:
        last = events[-1] if events else {}
        if last.get("EventType") == "WaitStarted":
            details = last.get("WaitStartedDetails", {})
            due = (
                details.get("ScheduledEndTimestamp")
                or last["EventTimestamp"] + timedelta(seconds=details.get("Duration", 0))
            ).astimezone(UTC)
            if due > deadline:
                with report.check("the run ends within the e2e's time"):
                    raise CheckFailed(f"it waits at {last.get('Name')!r} until {due:%H:%M} UTC (the off-peak hour "
                                      "`make deploy-local` set is past: deploy again to run the e2e now)")  # fmt: skip
            if asynchronous and datetime.now(UTC) > due + _GRACE:
                with report.check("an asynchronous execution resumes after its wait"):
                    raise NotEmulated(f"resuming an asynchronously invoked durable execution after a wait "
                                      f"(stuck at wait {last.get('Name')!r})")  # fmt: skip
        time.sleep(1)
        status, events = state()
    return status


def _check_run(deployment: Deployment, lambda_: Any, s3: Any, arn: str, status: str, bucket: str, table: str,
               dataset: str, report: WorkflowReport) -> None:  # fmt: skip
    with report.check("the execution SUCCEEDED"):
        if status != "SUCCEEDED":
            details = lambda_.get_durable_execution(DurableExecutionArn=arn)
            raise CheckFailed(f"status {status}: {details.get('Error')}")
    with report.check("history: extract, rate-limit wait, transform, off-peak, load, verify"):
        events = lambda_.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        names = {e.get("Name") for e in events}
        missing = [n for n in ("extract", "rate-limit", "transform", "off-peak-delay", "load", "verify")
                   if n not in names]  # fmt: skip
        if missing:
            raise CheckFailed(f"no {missing} in the history")
    with report.check(f"result: {len(VALID_IDS)} records loaded, {REJECTED} rejected"):
        result = json.loads(lambda_.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)["Result"])
        loaded = result.get("recordsLoaded")
        if loaded != len(VALID_IDS):
            raise CheckFailed(f"result {result}")
    with report.check(f"{REJECTED} rejects kept under _etl/{dataset}/.../rejects/"):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"_etl/{dataset}/")
        keys = [o["Key"] for page in pages for o in page.get("Contents", []) if "/rejects/" in o["Key"]]
        bodies = [s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() for key in keys]
        rejects = [line for body in bodies for line in body.splitlines() if line.strip()]
        if len(rejects) != REJECTED:
            raise CheckFailed(f"{len(rejects)} rejects in {keys}")
    with report.check(f"rows in the table: {sorted(VALID_IDS)}"):
        dynamodb = deployment.client("dynamodb")
        # A dataset's rows sit under 64 partition keys (docs/durable-etl.md, "Table design"): one Query each.
        contract = load_contract("durable-etl")
        items = [
            item
            for key in contract.table_partition_keys(dataset)
            for item in dynamodb.query(TableName=table, KeyConditionExpression="datasetKey = :k",
                                       ExpressionAttributeValues={":k": {"S": key}})["Items"]
        ]  # fmt: skip
        ids = {item["id"]["S"] for item in items}
        if ids != VALID_IDS:
            raise CheckFailed(f"table holds {sorted(ids)}")


# ---------------------------------------------------------------------------------------------------
# Log export (docs/log-export.md, "After cdk deploy")
# ---------------------------------------------------------------------------------------------------


def log_export(deployment: Deployment, report: WorkflowReport) -> None:
    stepfunctions, s3 = deployment.client("stepfunctions"), deployment.client("s3")
    machine = deployment.output("log-export", "StateMachineArn")
    bucket = deployment.output("log-export", "ExportBucketName")
    with report.check("a run starts by hand (StartExecution, input ignored)"):
        run = stepfunctions.start_execution(
            stateMachineArn=machine, name=f"manual-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}",
            input="{}",
        )["executionArn"]  # fmt: skip

    def finished() -> dict[str, Any] | None:
        described = stepfunctions.describe_execution(executionArn=run)
        return described if described["status"] != "RUNNING" else None

    described = wait_for(finished, timeout=180) or stepfunctions.describe_execution(executionArn=run)
    history = stepfunctions.get_execution_history(executionArn=run, maxResults=1000)["events"]
    if (
        described["status"] == "FAILED"
        and "ExportTasks" in str(described.get("cause"))
        and "Unknown action" in str(described.get("cause"))
    ):
        with report.check("the run fails the kit's way: failure notice published, then the Fail state"):
            states = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
            notified = any(
                e["type"] == "TaskSucceeded" and "sns:publish" in json.dumps(e, default=str) for e in history
            )
            if not notified or "NotifyFailure" not in states:
                raise CheckFailed(f"states {states}")
        with report.check("exported objects under <log group path>/<yyyy-mm>/"):
            raise NotEmulated("CloudWatch Logs export tasks (CreateExportTask / DescribeExportTasks)")
    with report.check("the run SUCCEEDED"):
        if described["status"] != "SUCCEEDED":
            raise CheckFailed(f"{described['status']}: {described.get('error')} {described.get('cause')}")
    with report.check("exported objects and _export-completed.json markers in the export bucket"):
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", [])]  # fmt: skip
        if not any(k.endswith("_export-completed.json") for k in keys):
            raise CheckFailed(f"keys {keys[:10]}")


# ---------------------------------------------------------------------------------------------------
# Destinations (docs/destinations.md, "Try it after cdk deploy", "Replay kept failures")
# ---------------------------------------------------------------------------------------------------


def destinations(deployment: Deployment, report: WorkflowReport) -> None:
    lambda_, logs, sqs = deployment.client("lambda"), deployment.client("logs"), deployment.client("sqs")
    worker = deployment.output("destinations", "WorkerAliasArn")
    queue = deployment.output("destinations", "FailedRequestsQueueUrl")
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


# ---------------------------------------------------------------------------------------------------
# Custom runtime (docs/custom-runtime.md, "After cdk deploy")
# ---------------------------------------------------------------------------------------------------


def custom_runtime(deployment: Deployment, report: WorkflowReport) -> None:
    lambda_ = deployment.client("lambda", read_timeout=60)
    alias = deployment.output("custom-runtime", "LiveAliasArn")
    function, _, qualifier = alias.rpartition(":")
    handler = lambda_.get_function_configuration(FunctionName=function, Qualifier=qualifier)["Handler"]

    def invoke(event: dict[str, Any]) -> tuple[str | None, Any]:
        response = lambda_.invoke(FunctionName=alias, Payload=json.dumps(event))
        return response.get("FunctionError"), json.loads(response["Payload"].read() or b"null")

    if handler.startswith("greeting."):
        with report.check("greeting.handler answers a good event"):
            error, answer = invoke({"name": "Ada"})
            if error or "Ada" not in json.dumps(answer):
                raise CheckFailed(f"{error} {answer}")
        with report.check("bad input: FunctionError Unhandled, errorType Function.HandlerError"):
            error, answer = invoke({"nom": "Ada"})
            if error != "Unhandled" or answer.get("errorType") != "Function.HandlerError":
                raise CheckFailed(f"{error} {answer}")
        with report.check("the runtime loop survives the error: the next event is answered"):
            error, answer = invoke({"name": "Grace"})
            if error or "Grace" not in json.dumps(answer):
                raise CheckFailed(f"{error} {answer}")
    else:
        for event in ({"hello": "world"}, {"again": [1, 2, 3]}):
            with report.check(f"{handler} answers with the event: {json.dumps(event)}"):
                error, answer = invoke(event)
                if error or answer != event:
                    raise CheckFailed(f"{error} {answer}")


CHECKS: dict[str, Callable[[Deployment, WorkflowReport], None]] = {
    "durable-etl": durable_etl,
    "log-export": log_export,
    "destinations": destinations,
    "custom-runtime": custom_runtime,
}


def _dashboard_shows_functions(deployment: Deployment, workload: str) -> None:
    """The stack's dashboard (named like the stack) exists and names each of the stack's functions."""
    name = deployment.stacks[workload]["StackName"]
    body = json.loads(deployment.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    shown = json.dumps(body["widgets"])
    functions = [r["PhysicalResourceId"] for r in deployment.resources(workload, "AWS::Lambda::Function")]
    missing = [f for f in functions if f'"{f}"' not in shown]
    if not functions or missing:
        raise CheckFailed(f"dashboard {name} misses functions {missing} of {functions}")


def run_all(env: dict[str, str], emulator_name: str) -> E2eReport:
    deployment = Deployment(env)
    reports = []
    for workload, check in CHECKS.items():
        report = WorkflowReport(workload)
        reports.append(report)
        started = time.monotonic()
        if workload not in deployment.stacks:
            report.failed.append("stack not deployed")
            report.say("FAILED", "no stack lwk-<stage>-" + workload)
            continue
        try:
            with report.check("dashboard deployed, showing every function of the stack"):
                _dashboard_shows_functions(deployment, workload)
        except (CheckFailed, NotEmulated):
            pass  # recorded by the check; the workflow's own checks still run
        try:
            check(deployment, report)
        except (CheckFailed, NotEmulated):
            pass  # recorded by the check; the other workflows still run
        report.seconds = round(time.monotonic() - started, 1)
    print(f"\ne2e against {emulator_name}:")
    for report in reports:
        gaps = f"; not emulated: {', '.join(report.not_emulated)}" if report.not_emulated else ""
        print(f"  {report.workflow}: {report.outcome} ({len(report.passed)} checks, {report.seconds:.1f} s){gaps}")
    return E2eReport(reports)
