"""Settings of the durable ETL workload (`kit.durableEtl`); bounds shared with the Lambda's contract."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.settings.reader import SettingsReader

from .contract import contract

# The off-peak wait lasts up to a day (23 h 59 min plus a daylight-saving hour).
LONGEST_OFF_PEAK_WAIT_HOURS = 25


@dataclass(frozen=True)
class DurableEtlSettings:
    execution_timeout_hours: int
    retention_days: int
    default_batch_size: int
    rate_limit_wait_seconds: int
    off_peak_hour: int
    time_zone: str
    map_concurrency: int
    schedule_enabled: bool
    schedule_expression: str
    schedule_dataset_id: str
    memory_mb: int
    extract_records_per_step: int
    work_retention_days: int


def _bounded(reader: SettingsReader, key: str, bound: object, *, default: int) -> int:
    # The Lambda checks the same bound on its environment variable (contract.Bound).
    return reader.integer(key, minimum=bound.minimum, maximum=bound.maximum, default=default)  # type: ignore[attr-defined]


def read_durable_etl(reader: SettingsReader) -> DurableEtlSettings:
    schedule = reader.child("schedule")
    settings = DurableEtlSettings(
        # Must cover the rate-limit wait plus up to a day of waiting for the off-peak hour.
        execution_timeout_hours=reader.integer("executionTimeoutHours", minimum=1, maximum=8760, default=48),
        retention_days=reader.integer("retentionDays", minimum=1, maximum=90, default=14),
        default_batch_size=_bounded(reader, "batchSize", contract.BATCH_SIZE, default=1000),
        rate_limit_wait_seconds=_bounded(reader, "rateLimitWaitSeconds", contract.RATE_LIMIT_WAIT_SECONDS, default=300),
        off_peak_hour=_bounded(reader, "offPeakHour", contract.OFF_PEAK_HOUR, default=2),
        time_zone=reader.time_zone("timeZone", default="UTC"),
        map_concurrency=_bounded(reader, "mapConcurrency", contract.MAP_CONCURRENCY, default=4),
        schedule_enabled=schedule.boolean("enabled", default=False),
        schedule_expression=schedule.schedule_expression("expression", one_time=True, default="cron(0 22 * * ? *)"),
        schedule_dataset_id=schedule.string(
            "datasetId",
            pattern=contract.DATASET_ID_PATTERN,
            meaning="a dataset id: letters, digits, '.', '_' or '-', at most 128",
            default="daily",
        ),
        # Parsing and the extract step's set of seen ids (about 100 MB per million records) need room.
        memory_mb=reader.integer("memoryMb", minimum=256, maximum=10240, default=1024),
        # One extract step stops after this many records, so that it ends well within 15 minutes.
        extract_records_per_step=_bounded(reader, "extractRecordsPerStep", contract.EXTRACT_RECORDS_PER_STEP, default=250_000),
        # How long a run's staged batches and rejects stay under `_etl/` in the source bucket.
        work_retention_days=reader.integer("workRetentionDays", minimum=1, maximum=3650, default=30),
    )
    schedule.done()
    shortest = -(-settings.rate_limit_wait_seconds // 3600) + LONGEST_OFF_PEAK_WAIT_HOURS
    if settings.execution_timeout_hours < shortest:
        raise reader.fail(
            "executionTimeoutHours",
            settings.execution_timeout_hours,
            f"enough: at least {shortest} hours cover the rate-limit wait and up to a day waiting "
            "for the off-peak hour",
        )
    return settings
