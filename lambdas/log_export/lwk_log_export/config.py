"""The functions' configuration: environment variables the stack sets (contract.py), checked on each call."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .contract import (
    BUCKET_VARIABLE,
    LOG_GROUPS_VARIABLE,
    MAX_LOG_GROUPS,
    MONTHS_BACK_MAX,
    MONTHS_BACK_MIN,
    MONTHS_BACK_VARIABLE,
)
from .errors import ConfigError


@dataclass(frozen=True)
class Config:
    bucket: str
    log_groups: tuple[str, ...]
    months_back: int


def load_config(environ: Mapping[str, str]) -> Config:
    """The configuration in `environ`; raises ConfigError naming the first variable that is wrong."""
    bucket = environ.get(BUCKET_VARIABLE, "")
    if not bucket:
        raise ConfigError(f"{BUCKET_VARIABLE} is not set: the stack names the export bucket there")
    raw_groups = environ.get(LOG_GROUPS_VARIABLE, "")
    try:
        log_groups = json.loads(raw_groups)
    except ValueError:
        log_groups = None
    if (
        not isinstance(log_groups, list)
        or not 1 <= len(log_groups) <= MAX_LOG_GROUPS
        or not all(isinstance(g, str) and g for g in log_groups)
    ):
        raise ConfigError(
            f"{LOG_GROUPS_VARIABLE}: {raw_groups!r} is not a JSON list of 1 to {MAX_LOG_GROUPS} log group names"
        )
    raw_months = environ.get(MONTHS_BACK_VARIABLE, "")
    if not re.fullmatch(r"[0-9]{1,2}", raw_months) or not MONTHS_BACK_MIN <= int(raw_months) <= MONTHS_BACK_MAX:
        raise ConfigError(
            f"{MONTHS_BACK_VARIABLE}: {raw_months!r} is not a whole number from {MONTHS_BACK_MIN} to {MONTHS_BACK_MAX}"
        )
    return Config(bucket=bucket, log_groups=tuple(log_groups), months_back=int(raw_months))
