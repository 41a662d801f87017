"""Typed errors. Lambda reports an unhandled exception's class name as `errorType`, which is what the
state machine's Retry and Catch match, so every class name here is part of the workflow's contract."""

from __future__ import annotations


class LogExportError(Exception):
    """Base of every error the log export handlers raise on purpose."""


class InvalidRequest(LogExportError, ValueError):
    """The handler's input lacks a field or has one of the wrong type or shape."""


class MonthNotClosed(LogExportError, ValueError):
    """The month asked for is the current one or lies in the future: its logs are still being written."""


class LogGroupNotConfigured(LogExportError, ValueError):
    """The log group is not among the ones this deployment exports (and may not be exported)."""


class LogGroupNotFound(LogExportError, LookupError):
    """CloudWatch Logs has no log group of that name in this account and region."""


class LimitExceededException(LogExportError):
    """CloudWatch Logs already runs an export task in this account: it allows one at a time."""


class ExportRejected(LogExportError):
    """CloudWatch Logs refused to create the export task (e.g. the bucket or its policy is wrong)."""


class ExportTaskNotFound(LogExportError, LookupError):
    """No export task has the id given."""


class ExportTaskFailed(LogExportError):
    """The export task ended with status FAILED."""


class ExportTaskCancelled(LogExportError):
    """The export task ended with status CANCELLED."""


class ConfigError(LogExportError):
    """The function's environment does not hold a valid configuration (a deployment fault)."""


def describe(value: object) -> str:
    """A refused input value by its type and size only, for error messages: Lambda writes an unhandled
    error's message to the function's log, and the value's content may be anything."""
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return f"an object of {len(value)} keys"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    return f"a value of type {type(value).__name__}"
