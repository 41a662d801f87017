"""Settings every workload shares: stage, tags, log retention, where alarms go, the security profile."""

from __future__ import annotations

from dataclasses import dataclass

from .reader import SettingsReader

# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)

# The kit's short name, the first part of every stack, log group and state machine name. A fork
# renames it here (and in the log group names under cdk.json's kit.logExport.logGroups).
APP_NAME = "lwk"

EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
STAGE_PATTERN = r"[a-z][a-z0-9-]{0,14}"

# `default`: AWS-owned keys where AWS offers them. `hardened`: customer-managed KMS keys everywhere
# they apply and cdk-nag's NIST 800-53 rev 5 pack on every synth (docs/security.md).
DEFAULT = "default"
HARDENED = "hardened"
PROFILES = (DEFAULT, HARDENED)


@dataclass(frozen=True)
class CommonSettings:
    # Short lowercase name that prefixes stack names and resource names: dev, prod, pr-42.
    stage: str
    tags: dict[str, str]
    log_retention_days: int
    # Alarms publish to an SNS topic per stack; with an address it is subscribed by e-mail.
    alarm_email: str | None
    profile: str = DEFAULT

    @property
    def hardened(self) -> bool:
        return self.profile == HARDENED

    @property
    def name_prefix(self) -> str:
        """`lwk-dev`: stack names and named resources start with it."""
        return f"{APP_NAME}-{self.stage}"

    @property
    def log_group_prefix(self) -> str:
        """`/lwk/dev`: the kit's log groups live under it."""
        return f"/{APP_NAME}/{self.stage}"


def read_common(reader: SettingsReader) -> CommonSettings:
    return CommonSettings(
        stage=reader.string(
            "stage", pattern=STAGE_PATTERN, meaning="1 to 15 lowercase letters, digits or '-', starting with a letter"
        ),
        tags=reader.string_map(
            "tags", pattern=r"[\w .:/=+@-]{1,128}", meaning="an object of tag names to tag values", default={}
        ),
        log_retention_days=reader.choice("logRetentionDays", allowed=LOG_RETENTION_DAYS, default=30),
        alarm_email=reader.optional_string("alarmEmail", pattern=EMAIL_PATTERN, meaning="an e-mail address"),
        profile=reader.choice("profile", allowed=PROFILES, default=DEFAULT),
    )
