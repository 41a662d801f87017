"""The log export after a deploy (docs/log-export.md, "After cdk deploy"): a run started by hand."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from local.e2e import CheckFailed, Deployment, NotEmulated, WorkflowReport, wait_for

WORKLOAD = "log-export"
# What MiniStack (patched, local/emulators.py) does not emulate of this workflow, by the checks' own names.
# A new gap, or one upstream closed, changes this on purpose: the docs' gap table must follow.
EXPECTED_GAPS: list[str] = ["CloudWatch Logs export tasks"]


def run(deployment: Deployment, report: WorkflowReport) -> None:
    stepfunctions, s3 = deployment.client("stepfunctions"), deployment.client("s3")
    machine = deployment.output(WORKLOAD, "StateMachineArn")
    bucket = deployment.output(WORKLOAD, "ExportBucketName")
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
