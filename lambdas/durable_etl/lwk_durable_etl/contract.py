"""The durable ETL's contract with its stack: environment variable names, their bounds, shared names.

Standard library only: the stack (stacks/durable_etl/) imports this file too, so that the settings,
the function's environment and `config.load_config` agree on every name and range.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICE_NAME = "lwk-durable-etl"
# The handler string Lambda calls (module path inside the asset root lambdas/durable_etl/).
HANDLER = "lwk_durable_etl.handlers.handler"

# A run keeps its staged batches and rejects under this prefix of the source bucket; dataset ids
# cannot start with '_', so nothing collides with a dataset.
WORK_PREFIX = "_etl/"
# A dataset id is one S3 "folder" name, starting with a letter or digit (clear of WORK_PREFIX).
DATASET_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"


@dataclass(frozen=True)
class Bound:
    """An environment variable that holds a whole number from `minimum` to `maximum`."""

    name: str
    minimum: int
    maximum: int


SOURCE_BUCKET = "SOURCE_BUCKET"
TARGET_TABLE = "TARGET_TABLE"
OFF_PEAK_TIME_ZONE = "OFF_PEAK_TIME_ZONE"
BATCH_SIZE = Bound("DEFAULT_BATCH_SIZE", 1, 5000)
RATE_LIMIT_WAIT_SECONDS = Bound("RATE_LIMIT_WAIT_SECONDS", 1, 86400)
OFF_PEAK_HOUR = Bound("OFF_PEAK_HOUR", 0, 23)
MAP_CONCURRENCY = Bound("MAP_CONCURRENCY", 1, 50)
# A bound on one extract step's work, so that it ends well inside the function's 15 minutes.
EXTRACT_RECORDS_PER_STEP = Bound("EXTRACT_RECORDS_PER_STEP", 1000, 10_000_000)
