"""Settings of the log export workload (`kit.logExport`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from stacks.settings.common import APP_NAME, EMAIL_PATTERN
from stacks.settings.reader import SettingsReader
from stacks.shared.contracts import load_contract

contract = load_contract("log-export")

LOG_GROUP_PATTERN = f"{contract.LOG_GROUP_CHARACTER}{{1,{contract.LOG_GROUP_MAX_LENGTH}}}"
# `{stage}` in a log group name stands for kit.stage, so the default follows `-c kit.stage=prod`.
STAGE_PLACEHOLDER = "{stage}"


@dataclass(frozen=True)
class LogExportSettings:
    log_groups: tuple[str, ...]
    months_back: int
    max_exports_per_run: int
    retry_interval_seconds: int
    retry_max_attempts: int
    retry_backoff_rate: float
    poll_interval_seconds: int
    max_polls: int
    archive_after_days: int
    schedule_enabled: bool
    schedule_expression: str
    notification_email: str | None


def read_log_export(reader: SettingsReader, *, stage: str) -> LogExportSettings:
    retry = reader.child("retry")
    schedule = reader.child("schedule")
    settings = LogExportSettings(
        log_groups=_log_groups(reader, stage),
        months_back=reader.integer(
            "monthsBack", minimum=contract.MONTHS_BACK_MIN, maximum=contract.MONTHS_BACK_MAX, default=3
        ),
        max_exports_per_run=reader.integer("maxExportsPerRun", minimum=1, maximum=480, default=24),
        # Only one export task may run per account at a time: LimitExceededException is retried.
        retry_interval_seconds=retry.integer("intervalSeconds", minimum=1, maximum=3600, default=60),
        retry_max_attempts=retry.integer("maxAttempts", minimum=0, maximum=10, default=5),
        retry_backoff_rate=retry.number("backoffRate", minimum=1, maximum=10, default=10),
        poll_interval_seconds=reader.integer("pollIntervalSeconds", minimum=5, maximum=3600, default=30),
        max_polls=reader.integer("maxPolls", minimum=1, maximum=1000, default=120),
        archive_after_days=reader.integer("archiveAfterDays", minimum=30, maximum=3650, default=90),
        schedule_enabled=schedule.boolean("enabled", default=True),
        schedule_expression=schedule.schedule_expression("expression", one_time=False, default="cron(0 3 2 * ? *)"),
        notification_email=reader.optional_string(
            "notificationEmail", pattern=EMAIL_PATTERN, meaning="an e-mail address"
        ),
    )
    retry.done()
    schedule.done()
    _refuse_shared_prefixes(reader, settings.log_groups)
    return settings


def _log_groups(reader: SettingsReader, stage: str) -> tuple[str, ...]:
    written = reader.string_list(
        "logGroups",
        pattern=rf"(?:{contract.LOG_GROUP_CHARACTER}|{re.escape(STAGE_PLACEHOLDER)})+",
        meaning="CloudWatch Logs log group names ({stage} stands for kit.stage)",
        min_items=1,
        max_items=contract.MAX_LOG_GROUPS,
        default=[f"/{APP_NAME}/{STAGE_PLACEHOLDER}/destinations/worker"],
    )
    groups = tuple(group.replace(STAGE_PLACEHOLDER, stage) for group in written)
    for group in groups:
        if not re.fullmatch(LOG_GROUP_PATTERN, group):
            raise reader.fail(
                "logGroups",
                list(written),
                f"a list of log group names ({group!r} is longer than {contract.LOG_GROUP_MAX_LENGTH})",
            )
    environment_bytes = (
        len(contract.BUCKET_VARIABLE) + contract.BUCKET_NAME_MAX_LENGTH
        + len(contract.LOG_GROUPS_VARIABLE) + len(json.dumps(list(groups)).encode())
        + len(contract.MONTHS_BACK_VARIABLE) + 2
    )  # fmt: skip
    if environment_bytes > contract.ENVIRONMENT_MAX_BYTES:
        raise reader.fail(
            "logGroups",
            list(written),
            f"log groups whose names fit in Lambda's {contract.ENVIRONMENT_MAX_BYTES} bytes of environment "
            f"variables with the bucket name (these need {environment_bytes})",
        )
    if len(set(groups)) != len(groups):
        raise reader.fail("logGroups", list(written), f"a list of distinct log groups once {{stage}} is {stage!r}")
    return groups


def _refuse_shared_prefixes(reader: SettingsReader, log_groups: tuple[str, ...]) -> None:
    # "/app" and "app" are two log groups but would export into the same S3 prefix.
    seen: dict[str, str] = {}
    for group in log_groups:
        if not contract.export_prefix(group):
            raise reader.fail("logGroups", list(log_groups), f"a list of log group names ({group!r} is only slashes)")
        other = seen.setdefault(contract.export_prefix(group), group)
        if other != group:
            raise reader.fail(
                "logGroups",
                list(log_groups),
                f"a list of log groups with distinct S3 prefixes ({other!r} and {group!r} both export to "
                f"{contract.export_prefix(group)!r}/)",
            )
