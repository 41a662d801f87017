"""Settings of the log export workload (`kit.logExport`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from stacks.log_export import export_timing as timing
from stacks.settings.common import APP_NAME, EMAIL_PATTERN, LOG_RETENTION_DAYS, CommonSettings
from stacks.settings.reader import SettingsError, SettingsReader, shorten, show
from stacks.shared.contracts import load_contract

contract = load_contract("log-export")

LOG_GROUP_PATTERN = f"{contract.LOG_GROUP_CHARACTER}{{1,{contract.LOG_GROUP_MAX_LENGTH}}}"
# `{stage}` in a log group name stands for kit.stage, so the default follows `-c kit.stage=prod`.
STAGE_PLACEHOLDER = "{stage}"
# Its own status handler's log group: something to export in any fork (cdk.json names a sample's).
DEFAULT_LOG_GROUPS = [f"/{APP_NAME}/{STAGE_PLACEHOLDER}/log-export/export-status"]


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


def read_log_export(reader: SettingsReader, common: CommonSettings) -> LogExportSettings:
    retry = reader.child("retry")
    schedule = reader.child("schedule")
    settings = LogExportSettings(
        log_groups=_log_groups(reader, common),
        months_back=reader.integer(
            "monthsBack", minimum=contract.MONTHS_BACK_MIN, maximum=contract.MONTHS_BACK_MAX, default=3
        ),
        max_exports_per_run=reader.integer("maxExportsPerRun", minimum=1, maximum=480, default=24),
        # Only one export task may run per account at a time: LimitExceededException is retried.
        retry_interval_seconds=retry.integer("intervalSeconds", minimum=1, maximum=3600, default=60),
        retry_max_attempts=retry.integer("maxAttempts", minimum=0, maximum=10, default=5),
        retry_backoff_rate=retry.number("backoffRate", minimum=1, maximum=10, default=2),
        poll_interval_seconds=reader.integer("pollIntervalSeconds", minimum=5, maximum=3600, default=30),
        max_polls=reader.integer("maxPolls", minimum=1, maximum=1000, default=120),
        archive_after_days=reader.integer("archiveAfterDays", minimum=30, maximum=3650, default=90),
        schedule_enabled=schedule.boolean("enabled", default=True),
        schedule_expression=schedule.schedule_expression("expression", one_time=False, default=DEFAULT_SCHEDULE),
        notification_email=reader.optional_string(
            "notificationEmail", pattern=EMAIL_PATTERN, meaning="an e-mail address"
        ),
    )
    retry.done()
    schedule.done()
    _refuse_shared_prefixes(reader, settings.log_groups)
    _refuse_bucket_policy_over_quota(reader, settings.log_groups)
    _refuse_runs_that_never_end(reader, settings)
    if settings.schedule_enabled:  # a disabled rule starts nothing: its expression is checked by the grammar only
        _refuse_schedules_that_lose_months(reader, settings)
    _refuse_short_retention(common, settings)
    return settings


# The first run of a month's export on the 2nd, one retry on the 9th (a week to fix what the failure
# notice names): with monthsBack >= 1 each month gets both runs, and 60 days of retention cover them.
DEFAULT_SCHEDULE = "cron(0 3 2,9 * ? *)"


def run_bounds(settings: LogExportSettings) -> timing.RunBounds:
    return timing.RunBounds(
        slots=len(settings.log_groups) * settings.months_back,
        retry_interval_seconds=settings.retry_interval_seconds,
        retry_max_attempts=settings.retry_max_attempts,
        retry_backoff_rate=settings.retry_backoff_rate,
        poll_interval_seconds=settings.poll_interval_seconds,
        max_polls=settings.max_polls,
    )


def _days(seconds: float) -> str:
    return f"{seconds / timing.DAY:,.1f} days"


def _refuse_runs_that_never_end(reader: SettingsReader, settings: LogExportSettings) -> None:
    # 3600 s x 10^n over 10 retries is 127 years of back-off: a run could never finish.
    longest = timing.run_seconds(run_bounds(settings))
    if longest > timing.MAX_EXECUTION_SECONDS:
        back_off = timing.limit_back_off_seconds(run_bounds(settings))
        raise reader.child("retry").fail(
            "maxAttempts",
            settings.retry_max_attempts,
            f"a number of retries a run can finish with ({settings.retry_interval_seconds} s x "
            f"{show(settings.retry_backoff_rate)}^n "
            f"backs off {_days(back_off)} per export, and a run of {run_bounds(settings).slots} slots could "
            f"take {_days(longest)}, past Step Functions' 1-year maximum execution time)",
        )


def _refuse_schedules_that_lose_months(reader: SettingsReader, settings: LogExportSettings) -> None:
    schedule, expression = reader.child("schedule"), settings.schedule_expression
    try:
        never = timing.never_fires(expression)
        if not never:
            timing.retention_needed_seconds(expression, settings.months_back, run_bounds(settings))
    except ValueError as problem:
        raise schedule.fail(
            "expression",
            expression,
            f"a schedule that gives every month a run and a retry run with monthsBack {settings.months_back} "
            f"({problem})",
        ) from None
    if never:
        raise schedule.fail("expression", expression, "a schedule that ever starts a run (it names no real day)")


def owned_exported_groups(common: CommonSettings, log_groups: tuple[str, ...]) -> list[str]:
    """The exported log groups the kit itself creates (its functions' groups, under /<app>/<stage>/)."""
    return [group for group in log_groups if group.startswith(common.log_group_prefix + "/")]


def retention_needed_days(common: CommonSettings, settings: LogExportSettings) -> tuple[float, str]:
    """How many days an exported group must keep its events, and which month needs them."""
    bounds = run_bounds(settings)
    if settings.schedule_enabled:
        seconds, month = timing.retention_needed_seconds(settings.schedule_expression, settings.months_back, bounds)
        return seconds / timing.DAY, f"the second run that considers {month} ends"
    # Runs only by hand: at least the longest month and one run, so a run right after it closes finds it.
    return (31 * timing.DAY + timing.run_seconds(bounds) + timing.SLACK_SECONDS) / timing.DAY, "a run by hand ends"


def _refuse_short_retention(common: CommonSettings, settings: LogExportSettings) -> None:
    owned = owned_exported_groups(common, settings.log_groups)
    if not owned:
        return
    needed, until = retention_needed_days(common, settings)
    if common.log_retention_days >= needed:
        return
    enough = [days for days in LOG_RETENTION_DAYS if days >= needed]
    raise SettingsError(
        f"kit.logRetentionDays: {common.log_retention_days} is not long enough for the log export of "
        f"{owned[0]}{f' and {len(owned) - 1} more' if len(owned) > 1 else ''}: its events must be kept until "
        f"{until}, {needed:,.1f} days after the month starts with schedule {settings.schedule_expression}"
        + (f"; use {enough[0]} or more" if enough else "")
    )


def _log_groups(reader: SettingsReader, common: CommonSettings) -> tuple[str, ...]:
    written = reader.string_list(
        "logGroups",
        pattern=rf"(?:{contract.LOG_GROUP_CHARACTER}|{re.escape(STAGE_PLACEHOLDER)})+",
        meaning="CloudWatch Logs log group names ({stage} stands for kit.stage)",
        min_items=1,
        max_items=contract.MAX_LOG_GROUPS,
        default=DEFAULT_LOG_GROUPS,
    )
    groups = tuple(group.replace(STAGE_PLACEHOLDER, common.stage) for group in written)
    for group in groups:
        owner = common.workload_named_by(group)
        if common.workloads and owner is not None and owner not in common.workloads:
            # A removed workload's log group: every run would fail on it (LogGroupNotFound) after a green synth.
            raise reader.fail(
                "logGroups",
                list(written),
                f"a list of log groups that exist ({shorten(group)!r} belongs to workload {shorten(owner)!r}, which is not "
                f"registered in stacks/workloads.py: drop it or register the workload)",
            )
        if not re.fullmatch(LOG_GROUP_PATTERN, group):
            raise reader.fail(
                "logGroups",
                list(written),
                f"a list of log group names ({shorten(group)!r} is longer than {contract.LOG_GROUP_MAX_LENGTH})",
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
        raise reader.fail(
            "logGroups", list(written), f"a list of distinct log groups once {{stage}} is {common.stage!r}"
        )
    return groups


# S3 limits a bucket policy to 20 KB (S3 user guide, "Bucket policies"). The export bucket's holds one
# statement per log group: measured here with the longest partition, region and bucket name.
BUCKET_POLICY_MAX_BYTES = 20 * 1024
_WORST_ARN_BASE = "arn:aws-iso-b:logs:ap-southeast-5:123456789012:log-group:"
_WORST_BUCKET_ARN = "arn:aws-iso-b:s3:::" + "x" * contract.BUCKET_NAME_MAX_LENGTH


def export_bucket_policy_bytes(log_groups: tuple[str, ...]) -> int:
    """The size of the export bucket's policy (stacks/log_export/export_bucket.py) at its largest."""
    sources = [form for group in log_groups for form in (_WORST_ARN_BASE + group, _WORST_ARN_BASE + group + ":*")]
    principal = {"Service": "logs.ap-southeast-5.amazonaws.com"}
    statements: list[dict[str, object]] = [
        {"Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}, "Effect": "Deny",
         "Principal": {"AWS": "*"}, "Resource": [_WORST_BUCKET_ARN, _WORST_BUCKET_ARN + "/*"]},
        {"Action": "s3:GetBucketAcl", "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"},
         "ArnLike": {"aws:SourceArn": sources}}, "Effect": "Allow", "Principal": principal,
         "Resource": _WORST_BUCKET_ARN, "Sid": "CloudWatchLogsAclCheck"},
    ]  # fmt: skip
    for index, group in enumerate(log_groups):
        statements.append(
            {
                "Action": "s3:PutObject",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": sources[2 * index : 2 * index + 2]},
                    "StringEquals": {"aws:SourceAccount": "123456789012", "s3:x-amz-acl": "bucket-owner-full-control"},
                },
                "Effect": "Allow",
                "Principal": principal,
                "Resource": f"{_WORST_BUCKET_ARN}/{contract.export_prefix(group)}/*",
                "Sid": f"CloudWatchLogsExportWrite{index}",
            }  # fmt: skip
        )
    return len(json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")).encode())


def _refuse_bucket_policy_over_quota(reader: SettingsReader, log_groups: tuple[str, ...]) -> None:
    size = export_bucket_policy_bytes(log_groups)
    if size > BUCKET_POLICY_MAX_BYTES:
        raise reader.fail(
            "logGroups",
            list(log_groups),
            f"log groups whose per-group export statements fit in S3's {BUCKET_POLICY_MAX_BYTES} bytes of bucket "
            f"policy (these need up to {size})",
        )


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
