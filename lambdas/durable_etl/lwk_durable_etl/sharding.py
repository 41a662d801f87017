"""How a run is cut up: source objects into extract slices, records into shards, shards into units.

Pure functions of their inputs, so every replay and every re-run of a run cuts it the same way.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .sources import SourceObject


@dataclass(frozen=True)
class Plan:
    """The run's source objects (key order), its extract slices (object index ranges) and shard count."""

    objects: list[SourceObject]
    slices: list[tuple[int, int]]
    shards: int
    ignored: int

    @property
    def bytes(self) -> int:
        return sum(source.size for source in self.objects)

    def to_dict(self) -> dict[str, Any]:
        return {"objects": [o.to_dict() for o in self.objects], "slices": self.slices, "shards": self.shards,
                "ignored": self.ignored}  # fmt: skip

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Plan:
        return cls(
            objects=[SourceObject(**o) for o in values["objects"]],
            slices=[(first, last) for first, last in values["slices"]],
            shards=values["shards"],
            ignored=values["ignored"],
        )

    def summary(self) -> dict[str, int]:
        """What the plan step checkpoints: counts only (the plan itself is in S3)."""
        return {"objects": len(self.objects), "ignoredObjects": self.ignored, "bytes": self.bytes,
                "slices": len(self.slices), "shards": self.shards}  # fmt: skip


def plan_run(objects: Sequence[SourceObject], ignored: int, *, shard_bytes: int) -> Plan:
    """Slices of whole objects, in key order, of up to `shard_bytes` each (an object larger than
    that is a slice of its own and is extracted in several bounded parts), and one shard per
    `shard_bytes` of source data."""
    slices: list[tuple[int, int]] = []
    first, size = 0, 0
    for index, source in enumerate(objects):
        if index > first and size + source.size > shard_bytes:
            slices.append((first, index))
            first, size = index, 0
        size += source.size
    slices.append((first, len(objects)))
    shards = max(1, math.ceil(sum(o.size for o in objects) / shard_bytes))
    return Plan(objects=list(objects), slices=slices, shards=shards, ignored=ignored)


def shard_of(record_id: str | None, position: str, shards: int) -> int:
    """The shard of a record: by its id, so that duplicates of an id meet in one shard (records
    without an id, which the transform rejects, go by their position)."""
    if shards == 1:
        return 0
    # Salted: the table's partition key hashes the bare id, and the two must not line up.
    # surrogatepass: an id from JSON may hold a lone surrogate; the transform rejects that record, and
    # until then it must be routed like any other.
    key = f"shard:{record_id if record_id is not None else position}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big") % shards


@dataclass(frozen=True)
class Unit:
    """A transform/load unit: batches [first, last) of one shard, run by one execution."""

    shard: int
    first: int
    last: int

    @property
    def batches(self) -> range:
        return range(self.first, self.last)


def units_for(batches_per_shard: Sequence[int], *, unit_batches: int) -> list[Unit]:
    """Every shard's batches in units of at most `unit_batches` (a shard without batches has none)."""
    return [
        Unit(shard, first, min(first + unit_batches, batches))
        for shard, batches in enumerate(batches_per_shard)
        for first in range(0, batches, unit_batches)
    ]


def split_range(first: int, last: int, parts: int) -> list[tuple[int, int]]:
    """[first, last) in at most `parts` contiguous ranges of near-equal length."""
    count = last - first
    parts = min(parts, count)
    edges = [first + count * i // parts for i in range(parts + 1)]
    return [(edges[i], edges[i + 1]) for i in range(parts)]
