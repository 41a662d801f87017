"""The durable ETL's contract with its stack: environment variable names, their bounds, shared names.

Standard library only: the stack (stacks/durable_etl/) imports this file too, so that the settings,
the function's environment and `config.load_config` agree on every name and range.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

SERVICE_NAME = "lwk-durable-etl"
# The handler string Lambda calls (module path inside the asset root lambdas/durable_etl/).
HANDLER = "lwk_durable_etl.handlers.handler"

# Business metrics (Powertools Metrics, embedded metric format, namespace POWERTOOLS_METRICS_NAMESPACE),
# written once per run by its `metrics` step. Dimensions: `service` always; `reason` (one of
# REJECT_REASONS, never the free-text reason of a record) on RECORDS_REJECTED's per-reason line.
METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"  # checked at the start of a run, not at its end
RECORDS_READ = "RecordsRead"
RECORDS_LOADED = "RecordsLoaded"
RECORDS_REJECTED = "RecordsRejected"
REJECTED_PERCENT = "RejectedPercent"
REASON_DIMENSION = "reason"
# A duplicate id, or anything else a record can break (schema, JSON, DynamoDB limits).
REJECT_REASONS = ("duplicate", "invalid")

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

# --- scale-out: one run fans out over shards as child durable executions -------------------------
# The worker function that runs one unit of work (an extract slice, a shard's gather, a transform or
# load unit) as its own durable execution, started by the coordinator through `context.invoke`.
SHARD_HANDLER = "lwk_durable_etl.handlers.shard"
# The coordinator's variable holding the worker's `live` alias ARN (the target of context.invoke).
SHARD_FUNCTION = "SHARD_FUNCTION"
# Source kilobytes per extract slice and per shard: a shard's gather step reads about this much.
SHARD_KILOBYTES = Bound("SHARD_KILOBYTES", 16, 4 * 1024 * 1024)
# Child executions running at once, across the whole run.
FAN_OUT_WIDTH = Bound("FAN_OUT_WIDTH", 1, 900)
# Items per second the run's load steps may write together (each item of up to 1 KB is one write
# request unit on an on-demand table); every load step takes its share.
WRITE_UNITS_PER_SECOND = Bound("WRITE_UNITS_PER_SECOND", 25, 40_000)

# Batches per transform or load unit: one step each in one child execution, so that no execution
# nears the 3,000 operations one durable execution may hold, whatever the dataset's size.
UNIT_BATCHES = 1000
# Child invocations one execution makes per phase: a phase of more units is cut into this many
# ranges, each a group execution that does the same (a tree of groups). Small, so that the
# coordinator's operations and largest result stay flat as the dataset grows (4 phases x 16 items x
# up to 5 operations each: 3 attempts, 2 back-off waits); a group costs one execution per 16 units.
FAN_OUT_PER_EXECUTION = 16
# A unit whose child execution fails for a reason that may pass is invoked again, alone.
UNIT_ATTEMPTS = 3

# --- the target table's key: writes spread over KEY_SPREAD partition keys per dataset ------------
TABLE_PARTITION_KEY = "datasetKey"
TABLE_SORT_KEY = "id"
# A single partition key value takes at most 1,000 write units per second (DynamoDB developer guide,
# "Designing partition keys to distribute your workload"); 64 keys per dataset allow 64,000, more
# than the default on-demand table quota of 40,000.
KEY_SPREAD = 64


def table_partition_key(dataset_id: str, record_id: str) -> str:
    """`<datasetId>#<nn>`: the partition key of one record, from its id (same id, same key)."""
    digest = hashlib.sha256(record_id.encode()).digest()
    return f"{dataset_id}#{int.from_bytes(digest[:4], 'big') % KEY_SPREAD:02d}"


def table_partition_keys(dataset_id: str) -> list[str]:
    """Every partition key of a dataset: query each for all of its rows."""
    return [f"{dataset_id}#{part:02d}" for part in range(KEY_SPREAD)]
