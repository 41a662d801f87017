"""The bodies of the durable steps. Each reads and writes S3/DynamoDB and returns counts only.

No step result ever carries records: a checkpoint holds at most 256 KB, so records travel
through S3 objects whose keys are derived from the run and a batch number (layout.py), and the
results say how many there were. Every step can run again (a retry, or a replay of an attempt
that was cut off) and then writes the same objects and items again.
"""

from __future__ import annotations

from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from boto3.dynamodb.types import TypeSerializer

from aws_durable_execution_sdk_python.types import StepContext
from .config import EtlConfig
from .dynamodb_limits import ItemLimitError, check_item
from .errors import EmptyDatasetError, EtlInputError, SourceChangedError, TooManyBatchesError, VerificationError
from .event import EtlRequest
from .layout import RunLayout
from .off_peak import seconds_until_off_peak
from .schema import DATASET_ATTRIBUTE, ID_ATTRIBUTE, RUN_ATTRIBUTE, SOURCE_ATTRIBUTE, InvalidRecord, normalise
from .sources import list_source_objects, parse_json_object, read_records
from .staging import BatchWriter, delete_prefix, get_id_set, put_id_set, put_lines, read_lines
from .table import count_run_items, write_items

# One durable execution may hold 3,000 operations; each batch costs one transform and one load
# step. 1,400 batches leave room for the extract parts, the waits and the verify step.
MAX_BATCHES = 1400

_serializer = TypeSerializer()


def utc_now() -> datetime:
    """The step's clock, one name so tests can pin the moment the off-peak wait is computed from."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Run:
    """What every step of one execution needs: settings, the request, where its work lives, clients."""

    config: EtlConfig
    request: EtlRequest
    layout: RunLayout
    s3: Any
    dynamodb: Any

    @property
    def bucket(self) -> str:
        return self.config.source_bucket


# region extract


@dataclass(frozen=True)
class ExtractProgress:
    """How far extraction got: the result of each extract step (a few hundred bytes at most)."""

    parts: int = 0
    next_key: str | None = None  # the object to go on with; None: start from the first one
    next_record: int = 0  # records of next_key already in a batch
    objects: int = 0
    ignored_objects: int = 0
    records: int = 0
    duplicates: int = 0
    batches: int = 0
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ExtractProgress:
        return cls(**values)


def extract_part(run: Run, progress: ExtractProgress, step: StepContext) -> dict[str, Any]:
    """List and parse the source objects, writing batches of batchSize records to the work prefix.

    Stops at a batch boundary once it has extracted `extract_records_per_step` records, so that a
    step ends well within the function timeout; the next part goes on from the returned position.
    On bad input it removes everything the run has written, so a failed run leaves nothing behind.
    """
    try:
        return _extract_part(run, progress, step).to_dict()
    except EtlInputError:
        removed = delete_prefix(run.s3, run.bucket, run.layout.run_prefix)
        step.logger.warning("Extraction failed on bad input; removed the %d objects this run had written", removed)
        raise


def _extract_part(run: Run, progress: ExtractProgress, step: StepContext) -> ExtractProgress:
    layout, batch_size = run.layout, run.request.batch_size
    objects, ignored = list_source_objects(run.s3, run.bucket, layout.source_prefix)
    keys = [source.key for source in objects]
    first = 0
    if progress.next_key is not None:
        first = bisect_left(keys, progress.next_key)
        if first == len(keys) or keys[first] != progress.next_key:
            raise SourceChangedError(f"s3://{run.bucket}/{progress.next_key} disappeared while this run extracted it")
    seen_ids = get_id_set(run.s3, run.bucket, layout.seen_ids_key(progress.parts)) if progress.parts else set()
    records, duplicates, batches = progress.records, progress.duplicates, progress.batches
    part_records, buffer = 0, []
    with BatchWriter(run.s3, run.bucket) as writer:
        for source in objects[first:]:
            consumed = progress.next_record if source.key == progress.next_key else 0
            for record in read_records(run.s3, run.bucket, source, skip=consumed):
                entry: dict[str, Any] = {"source": source.key, "line": record.line, **record.payload}
                if record.record_id is not None:
                    if record.record_id in seen_ids:
                        entry["duplicate"] = True
                        duplicates += 1
                    else:
                        seen_ids.add(record.record_id)
                buffer.append(entry)
                consumed += 1
                records += 1
                part_records += 1
                if len(buffer) < batch_size:
                    continue
                _check_batch_count(batches, batch_size)
                writer.write(layout.extracted_key(batches), buffer)
                batches, buffer = batches + 1, []
                if part_records >= run.config.extract_records_per_step:
                    put_id_set(run.s3, run.bucket, layout.seen_ids_key(progress.parts + 1), seen_ids)
                    step.logger.info("Extract part %d stopped after %d records", progress.parts + 1, part_records)
                    return ExtractProgress(
                        parts=progress.parts + 1, next_key=source.key, next_record=consumed, objects=len(objects),
                        ignored_objects=ignored, records=records, duplicates=duplicates, batches=batches,
                    )  # fmt: skip
        if buffer:
            _check_batch_count(batches, batch_size)
            writer.write(layout.extracted_key(batches), buffer)
            batches += 1
    if records == 0:
        raise EmptyDatasetError(
            f"the {len(objects)} objects under s3://{run.bucket}/{layout.source_prefix} hold no records"
        )
    if ignored:
        step.logger.warning("Ignored %d objects that are neither .jsonl nor .csv", ignored)
    return ExtractProgress(
        parts=progress.parts + 1, objects=len(objects), ignored_objects=ignored, records=records,
        duplicates=duplicates, batches=batches, done=True,
    )  # fmt: skip


def _check_batch_count(batches: int, batch_size: int) -> None:
    if batches >= MAX_BATCHES:
        raise TooManyBatchesError(
            f"the dataset needs more than {MAX_BATCHES} batches of {batch_size} records, more than one execution "
            f"can checkpoint; run it with a larger batchSize (up to 5000 records per batch)"
        )


# endregion
# region transform


def _to_item(record: dict[str, Any], run: Run, source: str) -> dict[str, Any]:
    attributes = {
        **record,
        DATASET_ATTRIBUTE: run.request.dataset_id,
        RUN_ATTRIBUTE: run.layout.run_id,
        SOURCE_ATTRIBUTE: source,
    }
    item = {}
    for name, value in attributes.items():
        try:
            item[name] = _serializer.serialize(value)
        except ArithmeticError:
            # boto3's serializer traps what DynamoDB's number type cannot hold, without saying which.
            raise InvalidRecord(
                f"{name} holds a number DynamoDB cannot store: more than 38 significant digits, "
                "or a magnitude outside 1E-130 .. 9.99E+125"
            ) from None
        except TypeError as error:
            raise InvalidRecord(f"{name} cannot be stored in DynamoDB ({error})") from None
    try:
        check_item(item, partition_key=DATASET_ATTRIBUTE, sort_key=ID_ATTRIBUTE)
    except ItemLimitError as limit:
        raise InvalidRecord(str(limit)) from None
    return item


def transform_batch(run: Run, batch: int, step: StepContext) -> dict[str, int]:
    """Validate and normalise one batch: good records to transformed/, rejects with reasons to rejects/."""
    kept, rejected = [], []
    for entry in read_lines(run.s3, run.bucket, run.layout.extracted_key(batch)):
        from_csv = "fields" in entry
        try:
            record = entry["fields"] if from_csv else parse_json_object(entry["text"], parse_float=Decimal)
            if entry.get("duplicate"):
                record_id = str(record.get("id")).strip()
                raise InvalidRecord(f"duplicate id {record_id!r}: an earlier record of the dataset has it")
            normal = normalise(record, from_csv=from_csv)
            kept.append({"Item": _to_item(normal, run, f"{entry['source']}:{entry['line']}")})
        except InvalidRecord as reason:
            rejected.append(
                {"source": entry["source"], "line": entry["line"], "reason": str(reason),
                 "record": entry["fields"] if from_csv else entry["text"]}
            )  # fmt: skip
    if kept:
        put_lines(run.s3, run.bucket, run.layout.transformed_key(batch), kept)
    if rejected:
        put_lines(run.s3, run.bucket, run.layout.rejects_key(batch), rejected)
        step.logger.info("Batch %d: %d records rejected", batch, len(rejected))
    return {"batch": batch, "kept": len(kept), "rejected": len(rejected)}


# endregion
# region off-peak, load, verify


def off_peak_delay(config: EtlConfig, step: StepContext) -> dict[str, Any]:
    """Seconds until the off-peak hour, computed once: replays reuse this checkpointed value."""
    now = utc_now()
    seconds = seconds_until_off_peak(now, hour=config.off_peak_hour, zone=ZoneInfo(config.off_peak_time_zone))
    resume_at = datetime.fromtimestamp(now.timestamp() + seconds, UTC).isoformat(timespec="seconds")
    step.logger.info("Loading at %02d:00 %s: waiting %d s", config.off_peak_hour, config.off_peak_time_zone, seconds)
    return {"waitSeconds": seconds, "resumeAt": resume_at}


def load_batch(run: Run, batch: int, step: StepContext) -> dict[str, int]:
    """Write one transformed batch into the table (idempotent: keys are (datasetId, id))."""
    items = [line["Item"] for line in read_lines(run.s3, run.bucket, run.layout.transformed_key(batch))]
    written = write_items(run.dynamodb, run.config.target_table, items)
    if step.attempt > 1:
        step.logger.info("Batch %d written again on attempt %d: same keys, same items", batch, step.attempt)
    return {"batch": batch, "loaded": written}


def _loaded_ids(run: Run, batch: int) -> tuple[int, list[str]]:
    ids = [line["Item"]["id"]["S"] for line in read_lines(run.s3, run.bucket, run.layout.transformed_key(batch))]
    return count_run_items(run.dynamodb, run.config.target_table, run.request.dataset_id, run.layout.run_id, ids)


def verify(
    run: Run, *, batches: list[int], extracted: int, rejected: int, transformed: int, total_batches: int
) -> dict[str, Any]:
    """Count, for every transformed record, whether the table holds it from this run; any
    difference from the transformed count fails the execution, naming missing ids."""
    with ThreadPoolExecutor(max_workers=run.config.map_concurrency, thread_name_prefix="etl-verify") as pool:
        counted = list(pool.map(partial(_loaded_ids, run), batches))
    loaded = sum(found for found, _ in counted)
    missing = [rid for _, absent in counted for rid in absent]
    if loaded != transformed:
        sample = ", ".join(repr(rid) for rid in missing[:5])
        raise VerificationError(
            f"table {run.config.target_table} holds {loaded} items of dataset {run.request.dataset_id!r} from run "
            f"{run.layout.run_id}, but {transformed} records were transformed; missing or overwritten: {sample}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        )
    return {
        "datasetId": run.request.dataset_id,
        "recordsExtracted": extracted,
        "recordsRejected": rejected,
        "recordsLoaded": loaded,
        "batches": total_batches,
        "runId": run.layout.run_id,
        "rejectsPrefix": f"s3://{run.bucket}/{run.layout.rejects_prefix}",
    }


# endregion
