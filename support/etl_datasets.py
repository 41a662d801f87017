"""Synthetic datasets for the durable ETL's tests and benchmark: mixed JSON Lines and CSV objects.

Record i has id r0000042-style ids; with `invalid_every`, every n-th record is broken in one of a
few ways, and `Dataset.rejects` says which reason the ETL must give for it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

COLUMNS = ("id", "name", "amount", "updatedAt", "region")
# How a broken record is broken, and the reason the ETL must give for it in JSON Lines and in CSV.
BREAKAGES = (
    ("name", None, ("name is missing", "name is missing")),
    ("amount", "twelve", ("amount must be a number, not str", "amount 'twelve' is not a number")),
    ("updatedAt", "2026-01-31T10:00:00", ("has no time zone offset",) * 2),
)


@dataclass
class Dataset:
    dataset_id: str
    records: int = 0
    valid_ids: set[str] = field(default_factory=set)
    rejects: dict[str, str] = field(default_factory=dict)  # record id -> expected reason
    keys: list[str] = field(default_factory=list)


def _record(i: int, dataset: Dataset, invalid_every: int, *, as_csv: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"r{i:07d}",
        "name": f"customer {i}",
        "amount": round(i % 10_000 + (i % 100) / 100, 2),
        "updatedAt": f"2026-01-{i % 28 + 1:02d}T{i % 24:02d}:15:00+01:00",
        "region": ("north", "south", "east", "west")[i % 4],
    }
    if invalid_every and i % invalid_every == invalid_every - 1:
        column, value, reasons = BREAKAGES[(i // invalid_every) % len(BREAKAGES)]
        record[column] = value
        dataset.rejects[record["id"]] = reasons[as_csv]
    else:
        dataset.valid_ids.add(record["id"])
    return record


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n" for r in records).encode()


def _csv(records: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in records:
        writer.writerow(["" if r[c] is None else r[c] for c in COLUMNS])
    return out.getvalue().encode()


def write_dataset(
    s3: Any, bucket: str, dataset_id: str, *, records: int, objects: int = 6, invalid_every: int = 0
) -> Dataset:
    """Write `records` records split over `objects` objects, alternating .jsonl and .csv."""
    dataset = Dataset(dataset_id=dataset_id, records=records)
    per_object = -(-records // objects)
    for index in range(objects):
        as_csv = index % 2 == 1
        chunk = [
            _record(i, dataset, invalid_every, as_csv=as_csv)
            for i in range(index * per_object, min(records, (index + 1) * per_object))
        ]
        suffix, body = (".csv", _csv(chunk)) if as_csv else (".jsonl", _jsonl(chunk))
        key = f"{dataset_id}/part-{index:03d}{suffix}"
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        dataset.keys.append(key)
    return dataset
