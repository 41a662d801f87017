"""The environment both ETL functions share, named by the Lambda's contract."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3

from .contract import contract
from .settings import DurableEtlSettings


def etl_environment(settings: DurableEtlSettings, *, source: s3.IBucket, table: dynamodb.ITable) -> dict[str, str]:
    """Variables `lwk_durable_etl.config.load_config` reads, from settings and the two data stores."""
    return {
        contract.SOURCE_BUCKET: source.bucket_name,
        contract.TARGET_TABLE: table.table_name,
        contract.BATCH_SIZE.name: str(settings.default_batch_size),
        contract.RATE_LIMIT_WAIT_SECONDS.name: str(settings.rate_limit_wait_seconds),
        contract.OFF_PEAK_HOUR.name: str(settings.off_peak_hour),
        contract.OFF_PEAK_TIME_ZONE: settings.time_zone,
        contract.MAP_CONCURRENCY.name: str(settings.map_concurrency),
        contract.EXTRACT_RECORDS_PER_STEP.name: str(settings.extract_records_per_step),
        contract.SHARD_KILOBYTES.name: str(settings.shard_kilobytes),
        contract.FAN_OUT_WIDTH.name: str(settings.fan_out_width),
        contract.WRITE_UNITS_PER_SECOND.name: str(settings.write_units_per_second),
    }
