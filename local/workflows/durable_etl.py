"""The durable ETL after a deploy (docs/durable-etl.md, "Run it after cdk deploy"): one `.jsonl` and one
`.csv` upload, an asynchronous start through the `live` alias, rows in the table and rejects counted."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from local.e2e import CheckFailed, Deployment, NotEmulated, WorkflowReport, wait_for
from stacks.shared.contracts import load_contract

WORKLOAD = "durable-etl"
# What MiniStack (patched, local/emulators.py) does not emulate of this workflow, by the checks' own names.
# A new gap, or one upstream closed, changes this on purpose: the docs' gap table must follow.
EXPECTED_GAPS: list[str] = [
    "ListDurableExecutionsByFunction with an alias qualifier",
    "DurableExecutionName",
    "resuming an asynchronously invoked durable execution after a wait",
]


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


def run(deployment: Deployment, report: WorkflowReport) -> None:
    s3, lambda_ = deployment.client("s3"), deployment.client("lambda")
    bucket = deployment.output(WORKLOAD, "SourceBucketName")
    table = deployment.output(WORKLOAD, "TargetTableName")
    function = deployment.output(WORKLOAD, "FunctionName")
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


# A run started within these minutes of a local deploy loads at once, or at the top of the next hour.
OFF_PEAK_LEAD_MINUTES = 5


def local_settings(now: datetime | None = None) -> list[str]:
    """The rate-limit wait cut to 2 s and the off-peak hour the UTC hour five minutes from now, so that
    a run started by the e2e loads within minutes, never tonight."""
    soon = (now or datetime.now(UTC)) + timedelta(minutes=OFF_PEAK_LEAD_MINUTES)
    return [
        "kit.durableEtl.rateLimitWaitSeconds=2",
        f"kit.durableEtl.offPeakHour={soon.hour}",
        "kit.durableEtl.timeZone=UTC",
    ]
