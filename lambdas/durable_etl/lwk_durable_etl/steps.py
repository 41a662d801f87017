"""The bodies of the durable steps. Each reads and writes S3/DynamoDB and returns counts only.

No step result ever carries records: a checkpoint holds at most 256 KB, so records travel
through S3 objects whose keys are derived from the run and a slice, shard or batch number
(layout.py), and the results say how many there were. Every step can run again (a retry, a
replay of an attempt that was cut off, or a re-run of the same run id) and then writes the same
objects and items again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from aws_durable_execution_sdk_python.types import StepContext
from boto3.dynamodb.types import TypeSerializer

from .config import EtlConfig
from .contract import TABLE_PARTITION_KEY, table_partition_key
from .dynamodb_limits import ItemLimitError, check_item
from .errors import EmptyDatasetError, SourceChangedError, VerificationError
from .event import EtlRequest
from .layout import RunLayout
from .off_peak import seconds_until_off_peak
from .schema import DATASET_ATTRIBUTE, ID_ATTRIBUTE, RUN_ATTRIBUTE, SOURCE_ATTRIBUTE, InvalidRecord, normalise
from .sharding import Plan, Unit, plan_run, shard_of, units_for
from .sources import list_source_objects, parse_json_object, read_records
from .staging import BatchWriter, delete_prefix, get_json, list_keys, put_json, put_lines, read_lines
from .table import count_run_items, write_items

_serializer = TypeSerializer()


def utc_now() -> datetime:
    """The step's clock, one name so tests can pin the moment the off-peak wait is computed from."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Run:
    """What every step of one run needs: settings, the request, where its work lives, clients."""

    config: EtlConfig
    request: EtlRequest
    layout: RunLayout
    s3: Any
    dynamodb: Any

    @property
    def bucket(self) -> str:
        return self.config.source_bucket


# region plan


def plan(run: Run, step: StepContext) -> dict[str, int]:
    """List the dataset and cut it into slices and shards (plan.json); a re-run of the same run id
    keeps its plan, and refuses a dataset that changed since."""
    objects, ignored = list_source_objects(run.s3, run.bucket, run.layout.source_prefix)
    fresh = plan_run(objects, ignored, shard_bytes=run.config.shard_kilobytes * 1024)
    stored = get_json(run.s3, run.bucket, run.layout.plan_key)
    if stored is None:
        put_json(run.s3, run.bucket, run.layout.plan_key, fresh.to_dict())
        chosen = fresh
    else:
        chosen = Plan.from_dict(stored)
        if chosen.objects != fresh.objects:
            raise SourceChangedError(
                f"the objects under s3://{run.bucket}/{run.layout.source_prefix} changed since run "
                f"{run.layout.run_id} planned them; start a new run (leave out runId)"
            )
        step.logger.info("Resuming run %s with its plan", run.layout.run_id)
    if ignored:
        step.logger.warning("Ignored %d objects that are neither .jsonl nor .csv", ignored)
    return chosen.summary()


def load_plan(run: Run) -> Plan:
    stored = get_json(run.s3, run.bucket, run.layout.plan_key)
    if stored is None:
        raise SourceChangedError(f"run {run.layout.run_id} of dataset {run.request.dataset_id!r} has no plan")
    return Plan.from_dict(stored)


def discard_run(run: Run, step: StepContext) -> int:
    """Remove every version of everything the run wrote: a run that fails on bad input leaves nothing."""
    removed = delete_prefix(run.s3, run.bucket, run.layout.run_prefix)
    step.logger.warning("The run failed on bad input; removed the %d objects it had written", removed)
    return removed


# endregion
# region extract: one slice of source objects, records routed to their shards


@dataclass(frozen=True)
class ExtractProgress:
    """How far a slice's extraction got: the result of each extract step (a few hundred bytes)."""

    parts: int = 0
    next_key: str | None = None  # the object to go on with; None: start from the slice's first one
    next_record: int = 0  # records of next_key already extracted
    records: int = 0
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ExtractProgress:
        return cls(**values)


def extract_part(run: Run, slice_index: int, progress: ExtractProgress, step: StepContext) -> dict[str, Any]:
    """Parse the slice's objects from where the last part stopped, routing each record to its shard
    (scatter/shard-S/slice-L-part-P.jsonl). Stops after `extract_records_per_step` records so that a
    step ends well within the function timeout; the next part goes on from the returned position."""
    plan_ = load_plan(run)
    first, last = plan_.slices[slice_index]
    objects = plan_.objects[first:last]
    keys = [source.key for source in objects]
    start = 0
    if progress.next_key is not None:
        if progress.next_key not in keys:
            raise SourceChangedError(f"s3://{run.bucket}/{progress.next_key} is not in the run's plan any more")
        start = keys.index(progress.next_key)
    part = progress.parts + 1
    routed: dict[int, list[dict[str, Any]]] = defaultdict(list)
    records, part_records = progress.records, 0

    def finish(next_key: str | None, next_record: int, done: bool) -> dict[str, Any]:
        with BatchWriter(run.s3, run.bucket) as writer:
            for shard, entries in routed.items():
                writer.write(run.layout.scatter_key(shard, slice_index, part), entries)
        return ExtractProgress(parts=part, next_key=next_key, next_record=next_record, records=records,
                               done=done).to_dict()  # fmt: skip

    for source in objects[start:]:
        consumed = progress.next_record if source.key == progress.next_key else 0
        try:
            for record in read_records(run.s3, run.bucket, source, skip=consumed):
                entry: dict[str, Any] = {"source": source.key, "line": record.line, **record.payload}
                if record.record_id is not None:
                    entry["rid"] = record.record_id
                routed[shard_of(record.record_id, f"{source.key}:{record.line}", plan_.shards)].append(entry)
                consumed += 1
                records += 1
                part_records += 1
                if part_records >= run.config.extract_records_per_step:
                    step.logger.info("Extract of slice %d stopped after %d records (part %d)", slice_index,
                                     part_records, part)  # fmt: skip
                    return finish(source.key, consumed, done=False)
        except run.s3.exceptions.NoSuchKey:
            raise SourceChangedError(
                f"s3://{run.bucket}/{source.key} disappeared while this run extracted it"
            ) from None
    return finish(None, 0, done=True)


# endregion
# region gather: one shard's records in source order, duplicates marked, in batches


def gather_shard(run: Run, shard: int, step: StepContext) -> dict[str, int]:
    """Read the shard's scattered records in source order (slice, part, line), mark an id seen
    before as a duplicate (every record of an id is routed to the same shard), and write batches
    of batchSize to shards/S/extracted/."""
    seen: set[str] = set()
    records = duplicates = batches = 0
    buffer: list[dict[str, Any]] = []
    with BatchWriter(run.s3, run.bucket) as writer:
        for key in list_keys(run.s3, run.bucket, run.layout.scatter_prefix(shard)):
            for entry in read_lines(run.s3, run.bucket, key):
                record_id = entry.pop("rid", None)
                if record_id is not None:
                    if record_id in seen:
                        entry["duplicate"] = True
                        duplicates += 1
                    else:
                        seen.add(record_id)
                buffer.append(entry)
                records += 1
                if len(buffer) == run.request.batch_size:
                    writer.write(run.layout.extracted_key(shard, batches), buffer)
                    batches, buffer = batches + 1, []
        if buffer:
            writer.write(run.layout.extracted_key(shard, batches), buffer)
            batches += 1
    return {"shard": shard, "records": records, "duplicates": duplicates, "batches": batches}


def plan_units(run: Run, shards: int, unit_batches: int, step: StepContext) -> dict[str, int]:
    """From every shard's gather result, the transform/load units (units.json): at most
    `unit_batches` batches each, so that no unit's execution grows with the dataset."""
    found = [get_json(run.s3, run.bucket, run.layout.done_key("gather", shard)) for shard in range(shards)]
    missing = [shard for shard, result in enumerate(found) if result is None]
    if missing:
        raise VerificationError(f"shards {missing[:5]} of run {run.layout.run_id} have no gather result")
    gathered: list[dict[str, int]] = [result for result in found if result is not None]
    units = units_for([g["batches"] for g in gathered], unit_batches=unit_batches)
    put_json(run.s3, run.bucket, run.layout.units_key, [[u.shard, u.first, u.last] for u in units])
    records = sum(g["records"] for g in gathered)
    if records == 0:
        raise EmptyDatasetError(f"the objects under s3://{run.bucket}/{run.layout.source_prefix} hold no records")
    return {"units": len(units), "records": records, "duplicates": sum(g["duplicates"] for g in gathered),
            "batches": sum(g["batches"] for g in gathered)}  # fmt: skip


def load_unit(run: Run, index: int) -> Unit:
    units = get_json(run.s3, run.bucket, run.layout.units_key)
    if units is None or not 0 <= index < len(units):
        raise VerificationError(f"run {run.layout.run_id} has no unit {index}")
    return Unit(*units[index])


# endregion
# region transform


def _trimmed(value: Any) -> Any:
    """Numbers with trailing zeros folded into the exponent (-1E+40, not a 41-digit coefficient).

    DynamoDB trims them itself ("Leading and trailing zeroes are trimmed"), so such a number is one
    significant digit it can store; boto3's serializer, working to 38 digits, would refuse the long
    form as rounded. The value is unchanged.
    """
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, dict, list)):
        return value
    if isinstance(value, dict):
        return {name: _trimmed(member) for name, member in value.items()}
    if isinstance(value, list):
        return [_trimmed(member) for member in value]
    number = Decimal(value)
    if not number.is_finite() or number.is_zero():
        return value
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    kept = len(digits)
    while kept > 1 and digits[kept - 1] == 0:
        kept -= 1
    return Decimal((sign, digits[:kept], exponent + len(digits) - kept))


def _to_item(record: dict[str, Any], run: Run, source: str) -> dict[str, Any]:
    attributes = {
        **{name: _trimmed(value) for name, value in record.items()},
        TABLE_PARTITION_KEY: table_partition_key(run.request.dataset_id, record[ID_ATTRIBUTE]),
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
        check_item(item, partition_key=TABLE_PARTITION_KEY, sort_key=ID_ATTRIBUTE)
    except ItemLimitError as limit:
        raise InvalidRecord(str(limit)) from None
    return item


def transform_batch(run: Run, shard: int, batch: int, step: StepContext) -> dict[str, int]:
    """Validate and normalise one batch: good records to transformed/, rejects with reasons to rejects/."""
    kept, rejected = [], []
    for entry in read_lines(run.s3, run.bucket, run.layout.extracted_key(shard, batch)):
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
        put_lines(run.s3, run.bucket, run.layout.transformed_key(shard, batch), kept)
    if rejected:
        put_lines(run.s3, run.bucket, run.layout.rejects_key(shard, batch), rejected)
        step.logger.info("Shard %d batch %d: %d records rejected", shard, batch, len(rejected))
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


def load_batch(run: Run, shard: int, batch: int, items_per_second: float, step: StepContext) -> dict[str, int]:
    """Write one transformed batch into the table (idempotent: keys are (datasetKey, id))."""
    items = [line["Item"] for line in read_lines(run.s3, run.bucket, run.layout.transformed_key(shard, batch))]
    written = write_items(run.dynamodb, run.config.target_table, items, items_per_second=items_per_second)
    if step.attempt > 1:
        step.logger.info("Shard %d batch %d written again on attempt %d: same keys, same items", shard, batch,
                         step.attempt)  # fmt: skip
    return {"batch": batch, "loaded": written}


def _loaded_ids(run: Run, shard: int, batch: int) -> tuple[int, list[str]]:
    lines = read_lines(run.s3, run.bucket, run.layout.transformed_key(shard, batch))
    ids = [line["Item"]["id"]["S"] for line in lines]
    return count_run_items(run.dynamodb, run.config.target_table, run.request.dataset_id, run.layout.run_id, ids)


def verify_unit(run: Run, unit: Unit, batches: Sequence[int], transformed: int) -> dict[str, int]:
    """Count, for every record the unit transformed, whether the table holds it from this run; any
    difference fails the unit, naming its shard, its batches and the missing ids."""
    with ThreadPoolExecutor(max_workers=run.config.map_concurrency, thread_name_prefix="etl-verify") as pool:
        counted = list(pool.map(partial(_loaded_ids, run, unit.shard), batches))
    loaded = sum(found for found, _ in counted)
    missing = [rid for _, absent in counted for rid in absent]
    if loaded != transformed:
        sample = ", ".join(repr(rid) for rid in missing[:5])
        raise VerificationError(
            f"table {run.config.target_table} holds {loaded} items of dataset {run.request.dataset_id!r} from run "
            f"{run.layout.run_id} (shard {unit.shard}, batches {unit.first}-{unit.last - 1}), but {transformed} "
            f"records were transformed; missing or overwritten: {sample}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        )
    return {"loaded": loaded}


# endregion
