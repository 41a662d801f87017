"""The AWS calls: CloudWatch Logs export tasks and the bucket's completion records."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from .contract import COMPLETION_RECORD, LIMIT_EXCEEDED, month_prefix
from .errors import (
    ExportRejected,
    ExportTaskNotFound,
    LimitExceededException,
    LogGroupNotFound,
)
from .inputs import ExportRequest
from .planning import ExportTask, Slot

# botocore counts LimitExceededException as throttling and retries it by itself: the export task
# would then wait a few seconds inside one Lambda invocation instead of the state machine's back-off.
SINGLE_ATTEMPT = Config(retries={"total_max_attempts": 1})


def logs_client(*, retries: bool = True) -> BaseClient:
    return boto3.client("logs") if retries else boto3.client("logs", config=SINGLE_ATTEMPT)


def s3_client() -> BaseClient:
    return boto3.client("s3")


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _task(raw: dict[str, Any]) -> ExportTask:
    status = raw.get("status", {})
    return ExportTask(
        task_id=raw["taskId"],
        log_group=raw.get("logGroupName", ""),
        destination=raw.get("destination", ""),
        destination_prefix=raw.get("destinationPrefix", ""),
        status=status.get("code", ""),
        status_message=status.get("message", ""),
        from_ms=int(raw.get("from", 0)),
        to_ms=int(raw.get("to", 0)),
    )


def list_export_tasks(logs: BaseClient) -> list[ExportTask]:
    """Every export task CloudWatch Logs still lists for this account and region."""
    tasks: list[ExportTask] = []
    for page in logs.get_paginator("describe_export_tasks").paginate():
        tasks.extend(_task(raw) for raw in page.get("exportTasks", []))
    return tasks


def describe_export_task(logs: BaseClient, task_id: str) -> ExportTask:
    try:
        found = logs.describe_export_tasks(taskId=task_id).get("exportTasks", [])
    except ClientError as error:
        if _error_code(error) == "ResourceNotFoundException":
            raise ExportTaskNotFound(f"no export task has the id {task_id!r}") from None
        raise
    if not found:
        raise ExportTaskNotFound(f"no export task has the id {task_id!r}")
    return _task(found[0])


def start_export(logs: BaseClient, bucket: str, request: ExportRequest) -> tuple[str, int, int]:
    """Create the export task for one log group and month; returns (task id, from ms, to ms)."""
    from_ms, to_ms = request.month.time_range_ms()
    prefix = month_prefix(request.log_group, str(request.month))
    try:
        response = logs.create_export_task(
            taskName=f"lwk-{request.month}-{prefix.replace('/', '-')}"[:512],
            logGroupName=request.log_group,
            fromTime=from_ms,
            to=to_ms,
            destination=bucket,
            destinationPrefix=prefix,
        )
    except ClientError as error:
        code, message = _error_code(error), error.response.get("Error", {}).get("Message", "")
        if code == LIMIT_EXCEEDED:
            raise LimitExceededException(
                f"CloudWatch Logs runs another export task in this account (one at a time): {message}"
            ) from None
        if code == "ResourceNotFoundException":
            raise LogGroupNotFound(
                f"log group {request.log_group!r} does not exist in this account and region"
            ) from None
        if code in {"InvalidParameterException", "AccessDeniedException", "InvalidOperationException"}:
            raise ExportRejected(
                f"CloudWatch Logs refused to export {request.log_group!r} {request.month} "
                f"to s3://{bucket}/{prefix}/: {code}: {message}"
            ) from None
        raise
    return response["taskId"], from_ms, to_ms


def is_recorded(s3: BaseClient, bucket: str, slot: Slot) -> bool:
    key = f"{slot.prefix}/{COMPLETION_RECORD}"
    # ListBucket, not GetObject: the functions may see which keys exist but never read exported logs.
    response = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    return any(item["Key"] == key for item in response.get("Contents", []))


def write_completion_record(s3: BaseClient, bucket: str, slot: Slot, task: ExportTask) -> str:
    key = f"{slot.prefix}/{COMPLETION_RECORD}"
    record = {
        "logGroup": slot.log_group,
        "month": str(slot.month),
        "taskId": task.task_id,
        "from": task.from_ms,
        "to": task.to_ms,
        "status": task.status,
    }
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(record, indent=2).encode(), ContentType="application/json")
    return key
