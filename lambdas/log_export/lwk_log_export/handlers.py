"""Lambda entry points of the log export state machine: parse the input, call the logic, shape the output.

bucket_check  -> {"action": "export", "logGroup", "month", "slot", ...} or {"action": "fin", ...}
logs_export   -> {"taskId", "logGroup", "month", "destination", "from", "to"}
export_status -> {"code": "PENDING" | "RUNNING" | "PENDING_CANCEL" | "COMPLETED"}; raises on FAILED / CANCELLED

The logs carry task ids, log group names (configured), months, counts and outcomes: never event content.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from . import aws, contract
from .config import load_config
from .contract import SERVICE_NAME
from .errors import ExportTaskCancelled, ExportTaskFailed
from .inputs import ExportRequest, run_months, slot_cursor, task_id
from .metrics import count
from .planning import CANCELLED, FAILED, Slot, plan_exports

logger = Logger(service=SERVICE_NAME)


@logger.inject_lambda_context(clear_state=True)
def bucket_check(event: Any, context: Any) -> dict[str, Any]:
    """Records completed exports, then names the next (log group, month) after the slot `after` to
    export, or says `fin`."""
    config = load_config(os.environ)
    months = run_months(event, months_back=config.months_back, now=datetime.now(UTC))
    after = slot_cursor(event)
    s3 = aws.s3_client()
    recorded = {
        slot.prefix
        for slot in (Slot(group, month) for group in config.log_groups for month in months)
        if aws.is_recorded(s3, config.bucket, slot)
    }
    plan = plan_exports(
        config.log_groups,
        months,
        bucket=config.bucket,
        recorded_prefixes=recorded,
        tasks=aws.list_export_tasks(aws.logs_client()),
    )
    for slot, task in plan.to_record:
        key = aws.write_completion_record(s3, config.bucket, slot, task)
        logger.info("recorded completed export", extra={"taskId": task.task_id, "key": key})
        count(contract.EXPORTS_DONE, slot.log_group)
    # Slots at or before `after` were tried in this run already (a failed one is retried by the next run).
    ahead = [(index, slot) for index, slot in plan.pending if index > after]
    summary = {
        "remaining": len(ahead),
        "leftForNextRun": len(plan.pending) - len(ahead),
        "underWay": len(plan.under_way),
        "recorded": len(plan.to_record),
    }
    logger.info("bucket check", extra={**summary, "after": after, "months": [str(m) for m in months]})
    if not ahead:
        # The run's end: what it leaves behind per group, zeros included, so the alarm always has data.
        for group in config.log_groups:
            count(contract.MONTHS_BEHIND, group, sum(slot.log_group == group for _, slot in plan.pending))
        return {"action": "fin", **summary}
    index, following = ahead[0]
    return {
        "action": "export",
        "logGroup": following.log_group,
        "month": str(following.month),
        "slot": index,
        **summary,
    }


@logger.inject_lambda_context(clear_state=True)
def logs_export(event: Any, context: Any) -> dict[str, Any]:
    """Starts the CloudWatch Logs export task of one closed month of one configured log group."""
    config = load_config(os.environ)
    request = ExportRequest.parse(event, configured_groups=config.log_groups, now=datetime.now(UTC))
    task_id, from_ms, to_ms = aws.start_export(aws.logs_client(retries=False), config.bucket, request)
    prefix = Slot(request.log_group, request.month).prefix
    count(contract.EXPORTS_STARTED, request.log_group)
    logger.info(
        "export task created", extra={"taskId": task_id, "logGroup": request.log_group, "month": str(request.month)}
    )
    return {
        "taskId": task_id,
        "logGroup": request.log_group,
        "month": str(request.month),
        "destination": f"s3://{config.bucket}/{prefix}/",
        "from": from_ms,
        "to": to_ms,
    }


@logger.inject_lambda_context(clear_state=True)
def export_status(event: Any, context: Any) -> dict[str, str]:
    """Reports an export task's status; a task that ended FAILED or CANCELLED raises, naming the status."""
    task = aws.describe_export_task(aws.logs_client(), task_id(event))
    where = f"export task {task.task_id} of {task.log_group} to s3://{task.destination}/{task.destination_prefix}/"
    logger.info("export task status", extra={"taskId": task.task_id, "status": task.status})
    if task.status in (FAILED, CANCELLED):
        # Bounded: the state machine only asks about tasks LogsExport started for a configured group.
        count(contract.EXPORTS_FAILED, task.log_group)
    if task.status == FAILED:
        raise ExportTaskFailed(f"{where} ended FAILED: {task.status_message}")
    if task.status == CANCELLED:
        raise ExportTaskCancelled(f"{where} ended CANCELLED: {task.status_message}")
    return {"code": task.status}
