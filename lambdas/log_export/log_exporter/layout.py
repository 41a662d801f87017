"""Where an export lands in the bucket: `<log group without its leading '/'>/<YYYY-MM>/`.

CloudWatch Logs writes `<prefix>/aws-logs-write-test` when it checks the bucket, then the data under
`<prefix>/<task id>/<stream>/000000.gz`. A month counts as exported only once the completion record
`<prefix>/_export-completed.json` exists: an empty month leaves no data at all, and a failed export
can leave some, so neither the data nor the write test says whether the month is done. The leading
underscore makes Athena and Hive-style readers skip the record.
"""

from __future__ import annotations

from .months import Month

WRITE_TEST_OBJECT = "aws-logs-write-test"
COMPLETION_RECORD = "_export-completed.json"


def group_prefix(log_group: str) -> str:
    # A key starting with '/' makes an empty first "folder" in every S3 tool: drop it.
    return log_group.lstrip("/")


def destination_prefix(log_group: str, month: Month) -> str:
    return f"{group_prefix(log_group)}/{month}"


def completion_record_key(log_group: str, month: Month) -> str:
    return f"{destination_prefix(log_group, month)}/{COMPLETION_RECORD}"
