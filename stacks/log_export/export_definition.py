"""The log export state machine's definition (Amazon States Language, JSONPath), as plain data."""

from __future__ import annotations

import math
from typing import Any

from stacks.log_export import export_timing as timing
from stacks.log_export.settings import LogExportSettings, run_bounds
from stacks.shared.contracts import load_contract

contract = load_contract("log-export")

# Placeholders of the definition, filled by CloudFormation (DefinitionSubstitutions). A Resource that
# is one whole placeholder keeps the definition a plain string that cfn-lint and asl-validator can read.
BUCKET_CHECK = "BucketCheckArn"
LOGS_EXPORT = "LogsExportArn"
EXPORT_STATUS = "ExportStatusArn"
NOTICE_TOPIC = "NoticeTopicArn"
SNS_PUBLISH = "SnsPublish"

# Lambda's own transient faults, retried as AWS recommends for every Lambda task.
_LAMBDA_SERVICE_RETRY = {
    "ErrorEquals": [
        "Lambda.ClientExecutionTimeoutException",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ],
    "IntervalSeconds": 2,
    "MaxAttempts": 6,
    "BackoffRate": 2,
}
_ON_ERROR = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}]
# The state each slot that could not be exported passes once (an alarm counts its entries).
EXPORT_FAILED_STATE = "ExportFailed"
_ON_SLOT_ERROR = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": EXPORT_FAILED_STATE}]
# The error a run ends with when it tried every slot and some failed.
EXPORTS_FAILED = "ExportsFailed"


def _lambda_task(function: str, parameters: dict[str, str], result_path: str, next_state: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": f"${{{function}}}",
        "Parameters": parameters,
        "ResultPath": result_path,
        "Retry": [_LAMBDA_SERVICE_RETRY],
        "Catch": _ON_ERROR,
        "Next": next_state,
    }


def _notice(subject: str, message: str, next_state: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": f"${{{SNS_PUBLISH}}}",
        "Parameters": {"TopicArn": f"${{{NOTICE_TOPIC}}}", "Subject": subject, "Message.$": message},
        "ResultPath": None,
        "Next": next_state,
    }


def export_definition(settings: LogExportSettings) -> dict[str, Any]:
    """The state machine's definition (Amazon States Language, JSONPath), with `${...}` placeholders.

    A run walks the (log group, month) slots once, in order: `check.slot` is the last slot it tried,
    and BucketCheck only names a slot after it. A slot whose export fails (a missing log group, a
    refused or failed export, one still running, the back-off used up) is reported by a notice and
    counted in `failures`; the run goes on with the next slot and ends failed (`ExportsFailed`) once
    every slot was tried, so the failed-runs alarm fires and the next run tries that slot again.
    """
    logs_export = _lambda_task(
        LOGS_EXPORT, {"logGroup.$": "$.check.logGroup", "month.$": "$.check.month"}, "$.export", "CountExport"
    )
    # CloudWatch Logs runs one export task per account at a time; another one (a run started by hand,
    # another tool) makes CreateExportTask fail with LimitExceededException until it has ended.
    logs_export["Retry"].append(
        {
            "ErrorEquals": [contract.LIMIT_EXCEEDED],
            "IntervalSeconds": settings.retry_interval_seconds,
            "MaxAttempts": settings.retry_max_attempts,
            "BackoffRate": settings.retry_backoff_rate,
        }
    )
    # One slot's trouble is that slot's: it is counted and reported, and the run moves on.
    logs_export["Catch"] = _ON_SLOT_ERROR
    export_status = _lambda_task(EXPORT_STATUS, {"taskId.$": "$.export.taskId"}, "$.status", "ExportFinished")
    export_status["Catch"] = _ON_SLOT_ERROR
    notify_failure = _notice(
        "Log export: run failed",
        "States.Format('Log export run {} failed with {}: {}', $$.Execution.Name, $.error.Error, $.error.Cause)",
        "RunFailed",
    )
    # If even the notice fails, the run still fails with the error that led here.
    notify_failure["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notifyError", "Next": "RunFailed"}]
    notify_exported = _notice(
        "Log export: month exported",
        "States.Format('Exported {} {} to {} (export task {}); exports started in this run: {}.', "
        "$.export.logGroup, $.export.month, $.export.destination, $.export.taskId, $.exportsStarted)",
        "BucketCheck",
    )
    # The export is done (the next check records it): a notice that cannot be sent is one more failure.
    notify_exported["Catch"] = _ON_SLOT_ERROR
    notify_export_failed = _notice(
        "Log export: a month could not be exported",
        "States.Format('Log export run {} could not export {} {}: {}: {}. The run goes on with the other log "
        "groups and months; the next run tries this one again.', $$.Execution.Name, $.check.logGroup, "
        "$.check.month, $.error.Error, $.error.Cause)",
        "BucketCheck",
    )
    # The failure is already counted (the run will end failed and alarm): go on even without the notice.
    notify_export_failed["Catch"] = [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.notifyError", "Next": "BucketCheck"}
    ]
    no_failures = {"Variable": "$.failures", "NumericEquals": 0}
    return {
        "Comment": "Exports CloudWatch Logs log groups to S3, one closed month per export task",
        "QueryLanguage": "JSONPath",
        # The longest a run can take by its own bounds (export_timing.run_seconds): a run past it is
        # stuck; Step Functions stops it as timed out and the TimedOutRuns alarm fires.
        "TimeoutSeconds": math.ceil(timing.run_seconds(run_bounds(settings))),
        "StartAt": "StartRun",
        "States": {
            # The execution input is ignored: the run's state starts here, before the first slot.
            "StartRun": {
                "Type": "Pass",
                "Parameters": {"exportsStarted": 0, "failures": 0, "check": {"slot": contract.NO_SLOT_YET}},
                "Next": "BucketCheck",
            },
            # The run's start time fixes which months it considers, however long it runs.
            "BucketCheck": _lambda_task(
                BUCKET_CHECK,
                {"runStartedAt.$": "$$.Execution.StartTime", "after.$": "$.check.slot"},
                "$.check",
                "ResultCheck",
            ),
            "ResultCheck": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [{"Variable": "$.check.action", "StringEquals": "fin"}, no_failures],
                        "Next": "AllExported",
                    },
                    {"Variable": "$.check.action", "StringEquals": "fin", "Next": "ExportsFailed"},
                    {
                        "And": [
                            {
                                "Variable": "$.exportsStarted",
                                "NumericGreaterThanEquals": settings.max_exports_per_run,
                            },
                            no_failures,
                        ],
                        "Next": "RunBoundReached",
                    },
                    {
                        "Variable": "$.exportsStarted",
                        "NumericGreaterThanEquals": settings.max_exports_per_run,
                        "Next": "ExportsFailed",
                    },
                ],
                "Default": "LogsExport",
            },
            "AllExported": {"Type": "Succeed"},
            # What is left waits for the next run: a run never grows past the bound.
            "RunBoundReached": {"Type": "Succeed"},
            "LogsExport": logs_export,
            # Rebuilds the state: the run's counts, its place, the export under way and its checks so far.
            "CountExport": {
                "Type": "Pass",
                "Parameters": {
                    "exportsStarted.$": "States.MathAdd($.exportsStarted, 1)",
                    "failures.$": "$.failures",
                    "check.$": "$.check",
                    "export.$": "$.export",
                    "polls": {"count": 1},
                },
                "Next": "WaitForExport",
            },
            "WaitForExport": {"Type": "Wait", "Seconds": settings.poll_interval_seconds, "Next": "ExportStatus"},
            # FAILED and CANCELLED come back as errors (ExportTaskFailed, ExportTaskCancelled): caught,
            # never retried in this run.
            "ExportStatus": export_status,
            "ExportFinished": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.status.code", "StringEquals": "COMPLETED", "Next": "NotifyExported"},
                    {
                        "Variable": "$.polls.count",
                        "NumericGreaterThanEquals": settings.max_polls,
                        "Next": "ExportStillRunning",
                    },
                ],
                "Default": "CountPoll",
            },
            "CountPoll": {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd($.polls.count, 1)"},
                "ResultPath": "$.polls",
                "Next": "WaitForExport",
            },
            "ExportStillRunning": {
                "Type": "Pass",
                "Parameters": {
                    "Error": "ExportStillRunning",
                    "Cause.$": (
                        "States.Format('Export task {} of {} {} was still running after {} status checks "
                        f"{settings.poll_interval_seconds} s apart; the next run records it once it has "
                        "completed and does not start it again meanwhile.', "
                        "$.export.taskId, $.export.logGroup, $.export.month, $.polls.count)"
                    ),
                },
                "ResultPath": "$.error",
                "Next": EXPORT_FAILED_STATE,
            },
            "NotifyExported": notify_exported,
            # Counts the slot's failure and keeps only what the rest of the run needs (no list grows).
            EXPORT_FAILED_STATE: {
                "Type": "Pass",
                "Parameters": {
                    "exportsStarted.$": "$.exportsStarted",
                    "failures.$": "States.MathAdd($.failures, 1)",
                    "check.$": "$.check",
                    "error.$": "$.error",
                },
                "Next": "NotifyExportFailed",
            },
            "NotifyExportFailed": notify_export_failed,
            "ExportsFailed": {
                "Type": "Fail",
                "Error": EXPORTS_FAILED,
                "Cause": "At least one log group and month could not be exported in this run; a notice names "
                "each one and its error, the execution history has them too, and the next run tries them again.",
            },
            "NotifyFailure": notify_failure,
            "RunFailed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        },
    }
