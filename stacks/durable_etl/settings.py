"""Settings of the durable ETL workload (`kit.durableEtl`); bounds shared with the Lambda's contract."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from stacks.settings.common import CommonSettings
from stacks.settings.reader import SettingsReader

from .contract import contract
from .schedule_days import first_day

# The first day EventBridge's cron year field names (1970-2199).
EARLIEST_DAY = datetime.date(1970, 1, 1)
# The off-peak wait lasts up to a day (23 h 59 min plus a daylight-saving hour).
LONGEST_OFF_PEAK_WAIT_HOURS = 25

# Quotas the concurrency settings are checked against at synth time, each with its source.
# Lambda quotas page (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): "Concurrent
# executions: 1,000" per Region by default (adjustable); Lambda keeps 100 of them unreserved.
DEFAULT_ACCOUNT_CONCURRENCY = 1000
UNRESERVED_CONCURRENCY = 100
# DynamoDB "Service, account, and table quotas", throughput for on-demand tables: 40,000 write
# request units per table by default (adjustable).
DEFAULT_TABLE_WRITE_UNITS_QUOTA = 40_000
# Same guide, "Partitions and data distribution" / partition key design: one partition key value
# takes at most 1,000 write request units per second.
WRITE_UNITS_PER_PARTITION_KEY = 1000
# A durable execution holds at most 3,000 operations (Lambda developer guide, "Monitoring durable
# functions", DurableExecutionOperations); a step result and the checkpoint it is sent in hold at
# most 256 KB (durable execution SDK).
MAX_OPERATIONS_PER_EXECUTION = 3000
# The most a coordinator, group or unit execution can hold, from the contract's constants: four
# fanned-out phases of up to FAN_OUT_PER_EXECUTION items, each up to UNIT_ATTEMPTS invokes and the
# waits between them, plus its own steps; an inline (one-unit) run holds a transform and a load unit.
OPERATIONS_PER_FAN_OUT_ITEM = 2 * contract.UNIT_ATTEMPTS - 1
COORDINATOR_OWN_OPERATIONS = 40


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
    shard_kilobytes: int
    fan_out_width: int
    write_units_per_second: int
    account_concurrency: int
    table_write_units_quota: int
    reject_alarm_share: float = 0.05


def _bounded(reader: SettingsReader, key: str, bound: object, *, default: int) -> int:
    # The Lambda checks the same bound on its environment variable (contract.Bound).
    return reader.integer(key, minimum=bound.minimum, maximum=bound.maximum, default=default)  # type: ignore[attr-defined]


def read_durable_etl(reader: SettingsReader, common: CommonSettings) -> DurableEtlSettings:
    schedule = reader.child("schedule")
    quotas = reader.child("accountQuotas")
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
        extract_records_per_step=_bounded(
            reader, "extractRecordsPerStep", contract.EXTRACT_RECORDS_PER_STEP, default=250_000
        ),
        # How long a run's staged batches and rejects stay under `_etl/` in the source bucket.
        work_retention_days=reader.integer("workRetentionDays", minimum=1, maximum=3650, default=30),
        # Source data per extract slice and per shard; a shard's gather step reads about this much.
        shard_kilobytes=_bounded(reader, "shardKilobytes", contract.SHARD_KILOBYTES, default=64 * 1024),
        # A run that rejects more than this share of what it read alarms (stacks/durable_etl/reject_alarm.py).
        reject_alarm_share=reader.number("rejectAlarmShare", minimum=0, maximum=1, default=0.05),
        fan_out_width=_bounded(reader, "fanOutWidth", contract.FAN_OUT_WIDTH, default=16),
        # A new on-demand table serves 4,000 write request units per second from the start.
        write_units_per_second=_bounded(reader, "writeUnitsPerSecond", contract.WRITE_UNITS_PER_SECOND, default=4000),
        account_concurrency=quotas.integer(
            "lambdaConcurrentExecutions", minimum=1, maximum=10_000_000, default=DEFAULT_ACCOUNT_CONCURRENCY
        ),
        table_write_units_quota=quotas.integer(
            "dynamodbTableWriteUnits", minimum=1, maximum=10_000_000, default=DEFAULT_TABLE_WRITE_UNITS_QUOTA
        ),
    )
    _check_schedule_fires(schedule, settings)
    schedule.done()
    quotas.done()
    _check_quotas(reader, settings)
    shortest = -(-settings.rate_limit_wait_seconds // 3600) + LONGEST_OFF_PEAK_WAIT_HOURS
    if settings.execution_timeout_hours < shortest:
        raise reader.fail(
            "executionTimeoutHours",
            settings.execution_timeout_hours,
            f"enough: at least {shortest} hours cover the rate-limit wait and up to a day waiting "
            "for the off-peak hour",
        )
    return settings


def _check_schedule_fires(reader: SettingsReader, settings: DurableEtlSettings) -> None:
    """Refuse a cron expression that names no day that exists (February 30 or 31, the 31st of a
    30-day month, February 29 in years that are not leap years): Scheduler accepts it, and the ETL
    would never run. Every year of its year field counts, past ones too, so that synth does not
    depend on the day it runs."""
    expression = settings.schedule_expression
    if not expression.startswith("cron("):
        return  # rate(...) always fires; at(...) names a real moment (the reader checks it)
    if first_day(expression, EARLIEST_DAY) is None:
        raise reader.fail(
            "expression",
            expression,
            "a schedule that can fire: no day of its years matches its day-of-month, month and day-of-week together",
        )


def _check_quotas(reader: SettingsReader, settings: DurableEtlSettings) -> None:
    """Refuse, at synth time, concurrency the account's quotas cannot carry (see the constants above)."""
    # Running at once: the coordinator, and fanOutWidth units (a suspended group execution runs nothing).
    available = settings.account_concurrency - UNRESERVED_CONCURRENCY
    if settings.fan_out_width + 1 > available:
        raise reader.fail(
            "fanOutWidth",
            settings.fan_out_width,
            f"at most {available - 1}: the coordinator and {settings.fan_out_width} units would need "
            f"{settings.fan_out_width + 1} concurrent executions, and accountQuotas.lambdaConcurrentExecutions "
            f"{settings.account_concurrency} keeps {UNRESERVED_CONCURRENCY} unreserved",
        )
    ceiling = min(settings.table_write_units_quota, contract.KEY_SPREAD * WRITE_UNITS_PER_PARTITION_KEY)
    if settings.write_units_per_second > ceiling:
        raise reader.fail(
            "writeUnitsPerSecond",
            settings.write_units_per_second,
            f"at most {ceiling}: the table quota accountQuotas.dynamodbTableWriteUnits is "
            f"{settings.table_write_units_quota} and {contract.KEY_SPREAD} partition keys per dataset take "
            f"{WRITE_UNITS_PER_PARTITION_KEY} each",
        )
    fan_out = 4 * contract.FAN_OUT_PER_EXECUTION * OPERATIONS_PER_FAN_OUT_ITEM + COORDINATOR_OWN_OPERATIONS
    inline = 2 * (contract.UNIT_BATCHES + 10) + COORDINATOR_OWN_OPERATIONS
    if max(fan_out, inline) > MAX_OPERATIONS_PER_EXECUTION:  # only an edited contract gets here
        raise reader.fail(
            "fanOutWidth",
            settings.fan_out_width,
            f"usable: the contract lets one execution reach {max(fan_out, inline)} operations, more than a "
            f"durable execution's {MAX_OPERATIONS_PER_EXECUTION} (FAN_OUT_PER_EXECUTION or UNIT_BATCHES too large)",
        )
