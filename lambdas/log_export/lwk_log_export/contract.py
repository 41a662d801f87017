"""What the log export stack and its handlers must agree on, written once. Standard library only:
`stacks/log_export/` imports this module too (the runtime never imports the stacks).

Bucket layout: a log group's exports go under `<log group without its leading '/'>/<YYYY-MM>/`.
CloudWatch Logs writes `<prefix>/aws-logs-write-test` when it checks the bucket, then the data under
`<prefix>/<task id>/<stream>/000000.gz`. A month counts as exported only once the completion record
`<prefix>/_export-completed.json` exists: an empty month leaves no data at all, and a failed export
can leave some, so neither the data nor the write test says whether the month is done. The leading
underscore makes Athena and Hive-style readers skip the record.
"""

from __future__ import annotations

# Powertools' service name: every log line of the three functions carries it.
SERVICE_NAME = "lwk-log-export"

# Business metrics (Powertools Metrics, embedded metric format, namespace POWERTOOLS_METRICS_NAMESPACE),
# each with the dimensions `service` and LOG_GROUP_DIMENSION: a configured log group name, so at most
# MAX_LOG_GROUPS values. EXPORTS_STARTED when a task is created, EXPORTS_DONE when a completed one is
# recorded, EXPORTS_FAILED when one ended FAILED or CANCELLED; MONTHS_BEHIND, at the end of every run,
# the months of each group the run leaves unexported.
EXPORTS_STARTED = "ExportsStarted"
EXPORTS_DONE = "ExportsDone"
EXPORTS_FAILED = "ExportsFailed"
MONTHS_BEHIND = "MonthsBehind"
LOG_GROUP_DIMENSION = "logGroup"

# The Lambda handler strings: the package is the asset root's only package.
PACKAGE = "lwk_log_export"
BUCKET_CHECK_HANDLER = f"{PACKAGE}.handlers.bucket_check"
LOGS_EXPORT_HANDLER = f"{PACKAGE}.handlers.logs_export"
EXPORT_STATUS_HANDLER = f"{PACKAGE}.handlers.export_status"

# Environment variables the stack sets and config.load_config reads.
BUCKET_VARIABLE = "EXPORT_BUCKET"
LOG_GROUPS_VARIABLE = "LOG_GROUPS"  # a JSON list of log group names
MONTHS_BACK_VARIABLE = "MONTHS_BACK"

# How many closed months before the run's own month a run considers.
MONTHS_BACK_MIN = 1
MONTHS_BACK_MAX = 24
MAX_LOG_GROUPS = 20
# A run walks the (log group, month) slots once, in order: at most this many, so it always ends.
MAX_SLOTS = MAX_LOG_GROUPS * MONTHS_BACK_MAX
# BucketCheck's `after` before the first slot of a run.
NO_SLOT_YET = -1
# A CloudWatch Logs log group name: 1 to 512 of these characters (CreateLogGroup's API reference).
LOG_GROUP_CHARACTER = r"[\.\-_/#A-Za-z0-9]"
LOG_GROUP_MAX_LENGTH = 512

# Lambda's quota on a function's environment variables: "4 KB, total for all variables" (Lambda
# quotas page). LOG_GROUPS carries every configured name, so the names together must fit.
ENVIRONMENT_MAX_BYTES = 4096
BUCKET_NAME_MAX_LENGTH = 63  # S3 bucket naming rules

# CloudWatch Logs time starts at the epoch: no month before this one can be exported.
FIRST_EXPORTABLE_YEAR = 1970

WRITE_TEST_OBJECT = "aws-logs-write-test"
COMPLETION_RECORD = "_export-completed.json"

# The error type LogsExport's Retry matches: the handler re-raises CloudWatch Logs' error under it.
LIMIT_EXCEEDED = "LimitExceededException"


def export_prefix(log_group: str) -> str:
    """The key prefix of every export of `log_group`."""
    # A key starting with '/' makes an empty first "folder" in every S3 tool: drop it.
    return log_group.lstrip("/")


def month_prefix(log_group: str, month: str) -> str:
    """The key prefix of one month (`YYYY-MM`) of `log_group`."""
    return f"{export_prefix(log_group)}/{month}"
