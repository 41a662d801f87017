"""The functions' configuration, set by the stack as environment variables and checked on each call."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ConfigurationError

BUCKET_VARIABLE = "EXPORT_BUCKET"
LOG_GROUPS_VARIABLE = "LOG_GROUPS"
MONTHS_BACK_VARIABLE = "MONTHS_BACK"


@dataclass(frozen=True)
class ExporterConfig:
    bucket: str
    log_groups: tuple[str, ...]
    months_back: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ExporterConfig:
        environ = os.environ if environ is None else environ
        bucket = environ.get(BUCKET_VARIABLE, "")
        if not bucket:
            raise ConfigurationError(f"{BUCKET_VARIABLE} is not set: the stack names the export bucket there")
        raw_groups = environ.get(LOG_GROUPS_VARIABLE, "")
        try:
            log_groups = json.loads(raw_groups)
        except ValueError:
            log_groups = None
        if not isinstance(log_groups, list) or not log_groups or not all(isinstance(g, str) and g for g in log_groups):
            raise ConfigurationError(f"{LOG_GROUPS_VARIABLE}: {raw_groups!r} is not a JSON list of log group names")
        raw_months = environ.get(MONTHS_BACK_VARIABLE, "")
        if not re.fullmatch(r"[0-9]+", raw_months) or not 1 <= int(raw_months) <= 24:
            raise ConfigurationError(f"{MONTHS_BACK_VARIABLE}: {raw_months!r} is not a whole number from 1 to 24")
        return cls(bucket=bucket, log_groups=tuple(log_groups), months_back=int(raw_months))
