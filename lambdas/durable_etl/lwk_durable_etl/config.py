"""The function's configuration, read once per invocation from its environment variables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import contract
from .errors import ConfigurationError


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
    shard_kilobytes: int
    fan_out_width: int
    write_units_per_second: int
    # The worker's alias ARN; only the coordinator has it (a worker never starts executions itself).
    shard_function: str | None
    # Where the run's business metrics go (lwk_durable_etl.metrics); a run without it fails before
    # any operation, not after it loaded everything.
    metrics_namespace: str = ""


def _text(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _whole(env: Mapping[str, str], bound: contract.Bound) -> int:
    raw = _text(env, bound.name)
    if not re.fullmatch(r"[0-9]+", raw) or not bound.minimum <= int(raw) <= bound.maximum:
        raise ConfigurationError(
            f"environment variable {bound.name}={raw!r} is not a whole number from {bound.minimum} to {bound.maximum}"
        )
    return int(raw)


def load_config(env: Mapping[str, str]) -> EtlConfig:
    """The configuration from the function's environment, or ConfigurationError naming the variable."""
    zone = _text(env, contract.OFF_PEAK_TIME_ZONE)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"environment variable {contract.OFF_PEAK_TIME_ZONE}={zone!r} is not an IANA time zone"
        ) from None
    return EtlConfig(
        source_bucket=_text(env, contract.SOURCE_BUCKET),
        target_table=_text(env, contract.TARGET_TABLE),
        default_batch_size=_whole(env, contract.BATCH_SIZE),
        rate_limit_wait_seconds=_whole(env, contract.RATE_LIMIT_WAIT_SECONDS),
        off_peak_hour=_whole(env, contract.OFF_PEAK_HOUR),
        off_peak_time_zone=zone,
        map_concurrency=_whole(env, contract.MAP_CONCURRENCY),
        extract_records_per_step=_whole(env, contract.EXTRACT_RECORDS_PER_STEP),
        shard_kilobytes=_whole(env, contract.SHARD_KILOBYTES),
        fan_out_width=_whole(env, contract.FAN_OUT_WIDTH),
        write_units_per_second=_whole(env, contract.WRITE_UNITS_PER_SECOND),
        shard_function=env.get(contract.SHARD_FUNCTION, "").strip() or None,
        metrics_namespace=_text(env, contract.METRICS_NAMESPACE),
    )
