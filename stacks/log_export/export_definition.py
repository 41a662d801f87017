"""The log export state machine's definition (Amazon States Language, JSONPath), as plain data."""

from __future__ import annotations

from typing import Any

from stacks.log_export.settings import LogExportSettings
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
    """The state machine's definition (Amazon States Language, JSONPath), with `${...}` placeholders."""
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
    notify_exported["Catch"] = _ON_ERROR
    return {
        "Comment": "Exports CloudWatch Logs log groups to S3, one closed month per export task",
        "QueryLanguage": "JSONPath",
        "StartAt": "StartRun",
        "States": {
            # The execution input is ignored: the run's state starts here.
            "StartRun": {"Type": "Pass", "Parameters": {"exportsStarted": 0}, "Next": "BucketCheck"},
            # The run's start time fixes which months it considers, however long it runs.
            "BucketCheck": _lambda_task(
                BUCKET_CHECK, {"runStartedAt.$": "$$.Execution.StartTime"}, "$.check", "ResultCheck"
            ),
            "ResultCheck": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.check.action", "StringEquals": "fin", "Next": "AllExported"},
                    {
                        "Variable": "$.exportsStarted",
                        "NumericGreaterThanEquals": settings.max_exports_per_run,
                        "Next": "RunBoundReached",
                    },
                ],
                "Default": "LogsExport",
            },
            "AllExported": {"Type": "Succeed"},
            # What is left waits for the next run: a run never grows past the bound.
            "RunBoundReached": {"Type": "Succeed"},
            "LogsExport": logs_export,
            # Rebuilds the state: the run's count, the export under way, and its status checks so far.
            "CountExport": {
                "Type": "Pass",
                "Parameters": {
                    "exportsStarted.$": "States.MathAdd($.exportsStarted, 1)",
                    "export.$": "$.export",
                    "polls": {"count": 1},
                },
                "Next": "WaitForExport",
            },
            "WaitForExport": {"Type": "Wait", "Seconds": settings.poll_interval_seconds, "Next": "ExportStatus"},
            # FAILED and CANCELLED come back as errors (ExportTaskFailed, ExportTaskCancelled): caught,
            # never retried.
            "ExportStatus": _lambda_task(EXPORT_STATUS, {"taskId.$": "$.export.taskId"}, "$.status", "ExportFinished"),
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
                "Next": "NotifyFailure",
            },
            "NotifyExported": notify_exported,
            "NotifyFailure": notify_failure,
            "RunFailed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        },
    }
