"""The function's configuration, read once per invocation from its environment variables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from etl.errors import ConfigurationError

MIN_BATCH_SIZE = 1
MAX_BATCH_SIZE = 5000


@dataclass(frozen=True)
class EtlConfig:
    source_bucket: str
    target_table: str
    default_batch_size: int
    rate_limit_wait_seconds: int
    off_peak_hour: int
    off_peak_time_zone: str
    map_concurrency: int
    # A bound on one extract step's work, so it ends well inside the function's 15 minutes.
    extract_records_per_step: int

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> EtlConfig:
        def text(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ConfigurationError(f"environment variable {name} is not set")
            return value

        def whole(name: str, low: int, high: int) -> int:
            raw = text(name)
            if not re.fullmatch(r"[0-9]+", raw) or not low <= int(raw) <= high:
                raise ConfigurationError(
                    f"environment variable {name}={raw!r} is not a whole number from {low} to {high}"
                )
            return int(raw)

        zone = text("OFF_PEAK_TIME_ZONE")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(
                f"environment variable OFF_PEAK_TIME_ZONE={zone!r} is not an IANA time zone"
            ) from None
        return cls(
            source_bucket=text("SOURCE_BUCKET"),
            target_table=text("TARGET_TABLE"),
            default_batch_size=whole("DEFAULT_BATCH_SIZE", MIN_BATCH_SIZE, MAX_BATCH_SIZE),
            rate_limit_wait_seconds=whole("RATE_LIMIT_WAIT_SECONDS", 1, 86400),
            off_peak_hour=whole("OFF_PEAK_HOUR", 0, 23),
            off_peak_time_zone=zone,
            map_concurrency=whole("MAP_CONCURRENCY", 1, 50),
            extract_records_per_step=whole("EXTRACT_RECORDS_PER_STEP", 1000, 10_000_000),
        )
