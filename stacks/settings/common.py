"""Settings every workload shares: stage, tags, log retention, where alarms go, the security profile."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .reader import SettingsReader

# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# The kit's short name, the first part of every stack, log group and state machine name. A fork
# renames it with `make rename APP=<name>` (docs/forking.md), which changes every spelling of it.
APP_NAME = "lwk"

# AWS's tag rules (the same on every resource the kit creates): keys of 1-128 and values of 0-256
# letters, digits, spaces and _ . : / = + - @; neither may start with "aws:" in any case (reserved
# for AWS); at most 50 tags on a resource, one of which is the kit's own `stage`.
_NOT_RESERVED = r"(?![aA][wW][sS]:)"
TAG_KEY_PATTERN = _NOT_RESERVED + r"[\w .:/=+@-]{1,128}"
TAG_VALUE_PATTERN = _NOT_RESERVED + r"[\w .:/=+@-]{0,256}"
KIT_TAG_KEYS = ("stage",)
MAX_USER_TAGS = 50 - len(KIT_TAG_KEYS)
TAG_TEXT = "{} to {} letters, digits, spaces or _ . : / = + - @, not starting with aws: (reserved for AWS)"

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
    # The keys of the registered workloads (stacks/workloads.py), for settings that name another
    # workload's resources; the settings reader fills it in, constructs built alone may leave it empty.
    workloads: tuple[str, ...] = ()

    @property
    def hardened(self) -> bool:
        return self.profile == HARDENED

    @property
    def name_prefix(self) -> str:
        """`lwk-dev`: stack names and named resources start with it."""
        return f"{APP_NAME}-{self.stage}"

    @property
    def metrics_namespace(self) -> str:
        """`lwk-dev`: the CloudWatch namespace of every business metric the kit's functions emit."""
        return self.name_prefix

    @property
    def log_group_prefix(self) -> str:
        """`/lwk/dev`: the kit's log groups live under it."""
        return f"/{APP_NAME}/{self.stage}"

    def workload_named_by(self, resource_name: str) -> str | None:
        """The workload key in a kit log group name (`/lwk/dev/<key>/...`), or None for a name outside the kit's."""
        prefix = self.log_group_prefix + "/"
        return resource_name[len(prefix) :].split("/")[0] if resource_name.startswith(prefix) else None


def read_common(reader: SettingsReader, *, workloads: tuple[str, ...] = ()) -> CommonSettings:
    return CommonSettings(
        workloads=workloads,
        stage=reader.string(
            "stage", pattern=STAGE_PATTERN, meaning="1 to 15 lowercase letters, digits or '-', starting with a letter"
        ),
        tags=_tags(reader),
        # 60: the longest month plus the log export's first run (the 2nd) and its retry run (the 9th), with
        # room for the runs themselves (a workload's settings may refuse less for a group it exports).
        log_retention_days=reader.choice("logRetentionDays", allowed=LOG_RETENTION_DAYS, default=60),
        alarm_email=reader.optional_string("alarmEmail", pattern=EMAIL_PATTERN, meaning="an e-mail address"),
        profile=reader.choice("profile", allowed=PROFILES, default=DEFAULT),
    )


def _tags(reader: SettingsReader) -> dict[str, str]:
    tags = reader.string_map(
        "tags",
        key_pattern=r"(?s).*",
        value_pattern=r"(?s).*",
        meaning=f"an object of up to {MAX_USER_TAGS} tags, tag key -> tag value",
        max_items=MAX_USER_TAGS,
        default={},
    )
    # Each entry on its own, so that the error names the one tag AWS would refuse.
    for key, value in tags.items():
        if not re.fullmatch(TAG_KEY_PATTERN, key):
            raise reader.fail("tags", key, f"a tag key: {TAG_TEXT.format(1, 128)}")
        if not re.fullmatch(TAG_VALUE_PATTERN, value):
            raise reader.fail("tags", value, f"a tag value (of {key!r}): {TAG_TEXT.format(0, 256)}")
        if key in KIT_TAG_KEYS:
            raise reader.fail("tags", key, f"free to set: the kit sets the {key!r} tag from kit.{key}")
    return tags
