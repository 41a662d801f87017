"""A log group with the kit's retention, deleted with its stack, KMS-encrypted under `hardened`."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.settings import CommonSettings
from stacks.settings.common import LOG_RETENTION_DAYS
from stacks.shared.kit_keys import KitKeys, profile_of

# The settings speak in days; aws-cdk-lib's enum in names. Same order as LOG_RETENTION_DAYS.
_RETENTION_BY_DAYS = dict(
    zip(
        LOG_RETENTION_DAYS,
        (
            logs.RetentionDays.ONE_DAY, logs.RetentionDays.THREE_DAYS, logs.RetentionDays.FIVE_DAYS,
            logs.RetentionDays.ONE_WEEK, logs.RetentionDays.TWO_WEEKS, logs.RetentionDays.ONE_MONTH,
            logs.RetentionDays.TWO_MONTHS, logs.RetentionDays.THREE_MONTHS, logs.RetentionDays.FOUR_MONTHS,
            logs.RetentionDays.FIVE_MONTHS, logs.RetentionDays.SIX_MONTHS, logs.RetentionDays.ONE_YEAR,
            logs.RetentionDays.THIRTEEN_MONTHS, logs.RetentionDays.EIGHTEEN_MONTHS, logs.RetentionDays.TWO_YEARS,
            logs.RetentionDays.THREE_YEARS, logs.RetentionDays.FIVE_YEARS, logs.RetentionDays.SIX_YEARS,
            logs.RetentionDays.SEVEN_YEARS, logs.RetentionDays.EIGHT_YEARS, logs.RetentionDays.NINE_YEARS,
            logs.RetentionDays.TEN_YEARS,
        ),
        strict=True,
    )
)  # fmt: skip


def log_retention(days: int) -> logs.RetentionDays:
    return _RETENTION_BY_DAYS[days]


class KitLogGroup(logs.LogGroup):
    """A log group named `log_group_name`, kept `common.log_retention_days`, deleted with the stack
    (export it first, with the log export workload, to keep it).

    Under the hardened profile it is encrypted with the stack's logs key (KitKeys), whose policy lets
    CloudWatch Logs use the key for this log group only. A LogGroup itself, not a wrapper, so that
    its logical id is what a plain LogGroup at the same place would have.
    """

    def __init__(self, scope: Construct, construct_id: str, *, common: CommonSettings, log_group_name: str) -> None:
        if common.profile != profile_of(scope):
            # The keys follow the profile the app published (use_profile); settings that say otherwise
            # never went through the app: refuse rather than encrypt differently than asked.
            raise ValueError(f"common.profile is {common.profile!r} but the app was built for {profile_of(scope)!r}")
        keys = KitKeys.of(scope)
        super().__init__(
            scope,
            construct_id,
            log_group_name=log_group_name,
            retention=log_retention(common.log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
            encryption_key=keys.logs_key_for(log_group_name) if keys else None,
        )
