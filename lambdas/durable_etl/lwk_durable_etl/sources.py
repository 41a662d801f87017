"""Source objects under `s3://<bucket>/<datasetId>/`: which ones count, and their records.

JSON Lines objects give one JSON object per non-blank line; CSV objects give one record per row
under a header row. A record is kept as the source wrote it (the JSON text, or the CSV row as a
dict of strings) so that the transform step sees the original types and no precision is lost.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .dynamodb_limits import MAX_ITEM_BYTES
from .errors import EmptyDatasetError, UnparseableRecordError

FORMATS = {".jsonl": "jsonl", ".csv": "csv"}
# The csv module refuses a field longer than csv.field_size_limit() (131,072 characters by default).
# Raised to what a DynamoDB item can hold: a character takes at least one byte, so a longer cell could
# never be stored; a cell up to this long is parsed, and its record rejected if the item is too big.
# A longer cell stops the parser, which cannot resume mid-row: UnparseableRecordError names it.
MAX_CSV_FIELD = MAX_ITEM_BYTES
csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_FIELD))


@dataclass(frozen=True)
class SourceObject:
    key: str
    format: str
    size: int = 0
    etag: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "format": self.format, "size": self.size, "etag": self.etag}


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record with its place in the source: `payload` is {"text": ...} or {"fields": {...}}."""

    line: int
    record_id: str | None
    payload: dict[str, Any]


def source_format(key: str) -> str | None:
    suffix = key[key.rfind(".") :].lower() if "." in key.rsplit("/", 1)[-1] else ""
    return FORMATS.get(suffix)


def list_source_objects(s3: Any, bucket: str, prefix: str) -> tuple[list[SourceObject], int]:
    """The dataset's .jsonl/.csv objects in key order, and how many other objects were ignored."""
    found, ignored = [], 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            fmt = source_format(entry["Key"])
            if fmt is None:
                ignored += not entry["Key"].endswith("/")
            else:
                found.append(SourceObject(key=entry["Key"], format=fmt, size=entry["Size"], etag=entry["ETag"]))
    if not found:
        raise EmptyDatasetError(f"s3://{bucket}/{prefix} holds no .jsonl or .csv object to extract")
    return sorted(found, key=lambda o: o.key), ignored


def _comparable_id(value: Any) -> str | None:
    # The id as the transform step will store it (trimmed), so duplicates are found the same way.
    return (value.strip() or None) if isinstance(value, str) else None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json_object(text: str, **options: Any) -> dict[str, Any]:
    """A JSON Lines record: strict JSON (no NaN/Infinity) that is an object."""
    value = json.loads(text, parse_constant=_reject_constant, **options)
    if not isinstance(value, dict):
        raise TypeError(f"a JSON Lines record must be a JSON object, not {type(value).__name__}")
    return value


def _jsonl_records(lines: Iterable[str], where: str, skip: int) -> Iterator[SourceRecord]:
    seen = 0
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        seen += 1
        if seen <= skip:
            continue
        try:
            value = parse_json_object(text)
        except (ValueError, TypeError) as error:
            raise UnparseableRecordError(f"{where} line {number}: {error}") from None
        yield SourceRecord(number, _comparable_id(value.get("id")), {"text": text})


def _csv_records(lines: Iterable[str], where: str, skip: int) -> Iterator[SourceRecord]:
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return  # an empty object: no header, no records
        header = [name.strip() for name in header]
        for name in header:
            if not name:
                raise UnparseableRecordError(f"{where} line 1: the header has an empty column name")
            if header.count(name) > 1:
                raise UnparseableRecordError(f"{where} line 1: the header names column {name!r} twice")
        seen = 0
        for row in reader:
            if not row:
                continue  # a blank line
            if len(row) != len(header):
                raise UnparseableRecordError(
                    f"{where} line {reader.line_num}: {len(row)} values, but the header names {len(header)} columns"
                )
            seen += 1
            if seen <= skip:
                continue
            fields = dict(zip(header, row, strict=True))
            yield SourceRecord(reader.line_num, _comparable_id(fields.get("id")), {"fields": fields})
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise UnparseableRecordError(
                f"{where} line {reader.line_num}: a cell is longer than {MAX_CSV_FIELD} characters, more than "
                f"a DynamoDB item can hold ({MAX_ITEM_BYTES} bytes); split the value or store it elsewhere"
            ) from None
        raise UnparseableRecordError(f"{where} line {reader.line_num}: {error}") from None


def read_records(s3: Any, bucket: str, source: SourceObject, *, skip: int = 0) -> Iterator[SourceRecord]:
    """Stream the records of one object, after the first `skip` (a resumed extract)."""
    where = f"s3://{bucket}/{source.key}"
    body = s3.get_object(Bucket=bucket, Key=source.key)["Body"]
    # utf-8-sig drops a byte-order mark that spreadsheet exports put before the header.
    lines = io.TextIOWrapper(body, encoding="utf-8-sig", newline="" if source.format == "csv" else None)
    records = _csv_records(lines, where, skip) if source.format == "csv" else _jsonl_records(lines, where, skip)
    try:
        yield from records
    except UnicodeDecodeError as error:
        raise UnparseableRecordError(
            f"{where}: not UTF-8 text ({error.reason} at byte {error.start} of a chunk)"
        ) from None
    finally:
        body.close()
