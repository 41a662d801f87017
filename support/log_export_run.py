"""Runs the synthesized log export state machine in moto's ASL interpreter, with the real handlers.

`LogExportWorld` deploys the template into moto with the shared resolver (`support.cfn.deploy`: the
buckets, topics, key, roles, the three functions with their template environment, the state machine
with its DefinitionString) and subscribes a queue to the notice topic to read the notices.
`install_recorder` makes Lambda invocations run the handler named in the template in this process
and records Wait states and Retry back-offs instead of sleeping. `mocked_aws` is moto with the Step
Functions interpreter on and AWS's limits enforced (`support.aws_limits`: 256 KiB state input and
output, SNS and SQS message sizes). Used by tests/log_export (and tests/permissions) through their
fixtures, and by bench/log_export.py.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import json
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
import pytest
from moto.awslambda.models import LambdaFunction
from moto.logs import exceptions as logs_exceptions
from moto.logs import models as logs_models
from moto.s3 import models as s3_models
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from support.aws_limits import strict_aws_limits
from support.cfn import ACCOUNT, REGION, deploy, resources_of_type

__all__ = [
    "ACCOUNT",
    "BUCKET",
    "NOTICE_EMAIL",
    "REGION",
    "SMALL_BOUND",
    "TWO_GROUPS",
    "WRITE_TEST_OBJECT",
    "ExportFaults",
    "LogExportWorld",
    "Recorder",
    "RunResult",
    "closed_months",
    "export_prefix",
    "install_export_faults",
    "install_recorder",
    "lambda_context",
    "mocked_aws",
    "outside_the_last_minute_of_a_month",
    "resources_of_type",
    "synth_log_export",
    "the_state_machine",
]
from stacks.settings.common import APP_NAME
from support.lambda_runtime import FakeContext
from support.paths import REPO_ROOT, use_lambda_code
from support.stand_ins import mocked_aws as mocked_moto

WORKLOAD = "log-export"
# The asset root is the functions' import root, as in Lambda.
LAMBDA_ROOT = use_lambda_code(WORKLOAD)

# The bucket the handler tests configure by hand (the runs use the one deployed from the template).
BUCKET = f"{APP_NAME}-test-log-exports"
WRITE_TEST_OBJECT = "aws-logs-write-test"
# The second template of the tests (conftest.py's two_group_template).
TWO_GROUPS = [f"/{APP_NAME}/test/alpha", f"/{APP_NAME}/test/beta"]
SMALL_BOUND = 4


def exported_group() -> str:
    """The first log group cdk.json's settings export (under the `dev` stage)."""
    from stacks.kit_settings import settings_from_context
    from support.synth_cache import cdk_json_context

    return str(settings_from_context(cdk_json_context()).of(WORKLOAD).log_groups[0])


NOTICE_EMAIL = "ops@example.com"


def the_state_machine(template: dict[str, Any]) -> dict[str, Any]:
    (machine,) = resources_of_type(template, "AWS::StepFunctions::StateMachine").values()
    return dict(machine["Properties"])


def lambda_context(function_name: str = "test-function") -> FakeContext:
    """What Powertools' inject_lambda_context reads of Lambda's context object."""
    return FakeContext(
        function_name=function_name,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}",
    )


@dataclass
class Invocation:
    handler: str
    event: Any
    result: Any
    error_type: str | None


@dataclass
class Recorder:
    invocations: list[Invocation] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    retry_sleeps: list[float] = field(default_factory=list)

    def calls(self, handler_suffix: str) -> list[Invocation]:
        return [i for i in self.invocations if i.handler.endswith(handler_suffix)]


class ExportFaults:
    """Makes moto's export tasks behave like real ones: moto never raises LimitExceededException and
    completes every task at once. `queue` holds what the next CreateExportTask calls do ("limit", or
    the status the task ends in); `running_checks` is how many status checks see a task RUNNING before
    it reports its status (an export that takes time)."""

    def __init__(self) -> None:
        self.queue: list[str] = []
        self.create_calls = 0
        self.running_checks = 0
        self.checks: dict[str, int] = {}
        # The data objects each export task wrote (moto names their folder at random): the month's
        # export is the one its completion record names, whatever a failed attempt left beside it.
        self.written: dict[str, list[str]] = {}
        # Faults by destination prefix (`<group>/<YYYY-MM>`): that slot's export fails on every attempt.
        self.by_prefix: dict[str, str] = {}

    def next(self) -> str | None:
        self.create_calls += 1
        return self.queue.pop(0) if self.queue else None


def install_recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Runs Lambda invocations in process and records them, the Wait states and the Retry back-offs."""
    record = Recorder()
    lock = threading.Lock()

    def invoke_in_process(function: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        handler_name = str(function.handler)
        module_name, _, function_name = handler_name.rpartition(".")
        handler = getattr(importlib.import_module(module_name), function_name)
        environment = {**function.environment_vars, "AWS_REGION": function.region}
        with lock, mock.patch.dict("os.environ", environment):
            try:
                result = handler(event, lambda_context(function.function_name))
            except Exception as error:  # what the Python runtime reports for an unhandled exception
                payload = {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error),
                }
                record.invocations.append(Invocation(handler_name, event, None, type(error).__name__))
                return json.dumps(payload), True, ""
        record.invocations.append(Invocation(handler_name, event, result, None))
        return json.dumps(result), False, ""

    def record_wait(self: WaitFunction, env: Any, wait_seconds: float) -> None:
        record.waits.append(wait_seconds)

    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", invoke_in_process)
    monkeypatch.setattr(WaitFunction, "_wait_interval", record_wait)
    # The retrier sleeps through its module's `time`; only that module sees this stand-in.
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=record.retry_sleeps.append))
    return record


def install_export_faults(monkeypatch: pytest.MonkeyPatch) -> ExportFaults:
    faults = ExportFaults()
    original = logs_models.LogsBackend.create_export_task

    def create_export_task(backend: logs_models.LogsBackend, **kwargs: Any) -> str:
        fault = faults.next() or faults.by_prefix.get(kwargs.get("destinationPrefix", ""))
        if fault == "limit":
            raise logs_exceptions.LimitExceededException()
        bucket = s3_models.s3_backends[backend.account_id][backend.partition].buckets.get(kwargs["destination"])
        before = set(bucket.keys) if bucket is not None else set()
        task_id = original(backend, **kwargs)
        if bucket is not None:
            faults.written[task_id] = sorted(k for k in bucket.keys if k not in before and k.endswith(".gz"))
        if fault in {"FAILED", "CANCELLED", "RUNNING"}:
            backend.export_tasks[task_id].status = {"code": fault, "message": f"made {fault} by the test"}
        return task_id

    describe_original = logs_models.LogsBackend.describe_export_tasks

    def describe_export_tasks(backend: logs_models.LogsBackend, task_id: str) -> list[Any]:
        found = describe_original(backend, task_id)
        if task_id and faults.running_checks:
            seen = faults.checks[task_id] = faults.checks.get(task_id, 0) + 1
            if seen <= faults.running_checks:
                return [_with_status(found[0], "RUNNING")]
        return found

    monkeypatch.setattr(logs_models.LogsBackend, "create_export_task", create_export_task)
    monkeypatch.setattr(logs_models.LogsBackend, "describe_export_tasks", describe_export_tasks)
    return faults


def _with_status(task: logs_models.ExportTask, code: str) -> Any:
    shown = SimpleNamespace(**vars(task))
    shown.status = {"code": code, "message": "in progress"}
    shown.to_json = lambda: {**task.to_json(), "status": shown.status}
    return shown


@contextlib.contextmanager
def mocked_aws() -> Iterator[None]:
    """moto with the Step Functions interpreter on, as strict as AWS's documented limits, and
    credentials that can reach nothing real."""
    with mocked_moto(step_functions=True), strict_aws_limits():
        yield


@dataclass
class RunResult:
    status: str
    output: Any
    error: str | None
    cause: str | None
    states: list[str]
    # Lambda invocations the run made, retries included (each is also a billed state transition).
    lambda_attempts: int
    # Size of the execution history as JSON: about what logging at level ALL with data ingests.
    history_bytes: int
    # The largest input or output of any state, in UTF-8 bytes (Step Functions allows 256 KiB).
    largest_state_bytes: int


class LogExportWorld:
    """The template's resources in moto, plus helpers to seed logs and read what a run produced."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.s3 = boto3.client("s3", region_name=REGION)
        self.logs = boto3.client("logs", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self._runs = 0
        self._deploy()

    def _deploy(self) -> None:
        self.deployment = deploy(self.template)
        (bucket_id,) = [
            lid
            for lid, r in resources_of_type(self.template, "AWS::S3::Bucket").items()
            if "LoggingConfiguration" in r["Properties"]  # the export bucket, not its access-log bucket
        ]
        self.bucket = self.deployment.ref(bucket_id)
        (topic_id,) = [lid for lid in resources_of_type(self.template, "AWS::SNS::Topic") if "Notices" in lid]
        self.notice_queue = self.sqs.create_queue(QueueName="notices")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.notice_queue, AttributeNames=["QueueArn"])
        boto3.client("sns", region_name=REGION).subscribe(
            TopicArn=self.deployment.ref(topic_id),
            Protocol="sqs",
            Endpoint=queue_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        (machine_id,) = resources_of_type(self.template, "AWS::StepFunctions::StateMachine")
        self.state_machine_arn = self.deployment.ref(machine_id)
        described = self.sfn.describe_state_machine(stateMachineArn=self.state_machine_arn)
        self.definition = json.loads(described["definition"])

    # --- seeding ---------------------------------------------------------------------------------
    def add_log_group(self, name: str, events_by_month: dict[str, int]) -> None:
        """A log group with `n` events in the middle of each month `YYYY-MM` of `events_by_month`."""
        # The group may be one the template created (a kit function's own log group can be exported).
        if not self.logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]:
            self.logs.create_log_group(logGroupName=name)
        self.logs.create_log_stream(logGroupName=name, logStreamName="stream")
        events = []
        for month, count in sorted(events_by_month.items()):
            year, number = map(int, month.split("-"))
            base = int(datetime(year, number, 15, tzinfo=UTC).timestamp() * 1000)
            events += [{"timestamp": base + i, "message": f"{name} {month} event {i}"} for i in range(count)]
        # PutLogEvents refuses events older than 14 days; months ago is the point here, so the
        # events go into moto's backend directly.
        group = logs_models.logs_backends[ACCOUNT][REGION].groups[name]
        group.put_log_events("stream", events)

    # --- running ---------------------------------------------------------------------------------
    def run(self, timeout: float = 30, execution_input: str = "{}") -> RunResult:
        self._runs += 1
        execution_arn = self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=f"run-{self._runs}", input=execution_input
        )["executionArn"]
        deadline = time.monotonic() + timeout
        while (described := self.sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                self.sfn.stop_execution(executionArn=execution_arn)
                raise AssertionError(f"the run did not end within {timeout} s")
            time.sleep(0.02)
        history = self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        states = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
        state_data = [
            details[field]
            for e in history
            for details in (e.get("stateEnteredEventDetails"), e.get("stateExitedEventDetails"))
            if details
            for field in ("input", "output")
            if field in details
        ]
        return RunResult(
            status=described["status"],
            output=json.loads(described["output"]) if described.get("output") else None,
            error=described.get("error"),
            cause=described.get("cause"),
            states=states,
            lambda_attempts=sum(e["type"] == "LambdaFunctionScheduled" for e in history),
            history_bytes=len(json.dumps(history, default=str)),
            largest_state_bytes=max(len(data.encode()) for data in state_data),
        )

    # --- reading ---------------------------------------------------------------------------------
    def object_keys(self) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def exported_lines(self, prefix: str) -> list[str]:
        lines = []
        for key in self.object_keys():
            if key.startswith(prefix + "/") and key.endswith(".gz"):
                body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                lines += gzip.decompress(body).decode().splitlines()
        return lines

    def task_messages(self, keys: list[str]) -> list[str]:
        """The messages in the data objects `keys` (each line is '<ISO timestamp> <message>'), sorted."""
        lines = []
        for key in keys:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            lines += gzip.decompress(body).decode().splitlines()
        return sorted(line.split(" ", 1)[1] for line in lines)

    def export_tasks(self) -> list[dict[str, Any]]:
        return list(self.logs.describe_export_tasks()["exportTasks"])

    def notices(self) -> list[str]:
        messages = []
        while batch := self.sqs.receive_message(QueueUrl=self.notice_queue, MaxNumberOfMessages=10).get("Messages"):
            for message in batch:
                messages.append(message["Body"])
                self.sqs.delete_message(QueueUrl=self.notice_queue, ReceiptHandle=message["ReceiptHandle"])
        return messages


def outside_the_last_minute_of_a_month() -> None:
    """Return at once, or at the start of the next month if this one ends within a minute.

    A test reads the calendar month from the clock three ways (itself, moto's execution start time,
    the export handler); across the turn of a month they would disagree, so no test starts just before it.
    """
    now = datetime.now(UTC)
    next_month = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    remaining = (next_month - now).total_seconds()
    if remaining < 60:
        time.sleep(remaining + 1)


def closed_months(months_back: int, now: datetime | None = None) -> list[str]:
    """The months a run started now considers, oldest first, computed independently of the handlers."""
    now = now or datetime.now(UTC)
    index = now.year * 12 + now.month - 1
    return [f"{(index - back) // 12:04d}-{(index - back) % 12 + 1:02d}" for back in range(months_back, 0, -1)]


def export_prefix(log_group: str, month: str) -> str:
    return f"{log_group.lstrip('/')}/{month}"


def synth_log_export(outdir: Path, overrides: dict[str, Any] | None = None, *, nag: bool = False) -> dict[str, Any]:
    """The log export stack alone, synthesized from cdk.json's settings (plus `-c`-style overrides);
    with `nag`, cdk-nag's findings make the synth raise."""
    import aws_cdk as cdk

    from stacks.kit_settings import settings_from_context
    from stacks.log_export import LogExportStack
    from stacks.shared.kit_keys import use_profile
    from stacks.shared.nag import add_nag_checks

    app = cdk.App(
        outdir=str(outdir),
        context={**json.loads((REPO_ROOT / "cdk.json").read_text())["context"], **(overrides or {})},
        builtin_cloud_formation_validation=False,
    )
    settings = settings_from_context(app.node.get_all_context())
    use_profile(app, settings.common.profile)
    stack = LogExportStack(
        app, f"{settings.common.name_prefix}-{WORKLOAD}", common=settings.common, settings=settings.of(WORKLOAD)
    )
    if nag:
        add_nag_checks(app, profile=settings.common.profile)
    return dict(app.synth().get_stack_by_name(stack.stack_name).template)
