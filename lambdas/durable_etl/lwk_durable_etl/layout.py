"""Where a run keeps its work in the source bucket: `_etl/<datasetId>/<runId>/...`.

Every key is derived from the dataset, the run, and a slice, shard or batch number, so a step that
runs again writes the same objects again instead of new ones, step results can name a whole set of
objects by a prefix and a count, and a re-run with the same run id finds what is already done.

    plan.json                                   the source objects, their slices, the shard count
    scatter/shard-SSSSS/slice-LLLLLL-part-PPPP.jsonl   records of one slice part routed to a shard
    shards/SSSSS/extracted/batch-NNNNNN.jsonl   a shard's records, duplicates marked, in batches
    shards/SSSSS/transformed/batch-NNNNNN.jsonl the DynamoDB items of a batch
    units.json                                  the transform/load units (shard, batch range)
    rejects/shard-SSSSS-batch-NNNNNN.jsonl      rejected records with their reasons
    done/<phase>-IIIIII.json                    a finished unit's result (a re-run skips it)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .contract import WORK_PREFIX


def run_id_for(execution_arn: str) -> str:
    """A short id for one durable execution, the same in every replay of it."""
    return hashlib.sha256(execution_arn.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunLayout:
    dataset_id: str
    run_id: str

    @property
    def source_prefix(self) -> str:
        return f"{self.dataset_id}/"

    @property
    def run_prefix(self) -> str:
        return f"{WORK_PREFIX}{self.dataset_id}/{self.run_id}/"

    @property
    def plan_key(self) -> str:
        return f"{self.run_prefix}plan.json"

    @property
    def units_key(self) -> str:
        return f"{self.run_prefix}units.json"

    @property
    def rejects_prefix(self) -> str:
        return f"{self.run_prefix}rejects/"

    def scatter_prefix(self, shard: int) -> str:
        return f"{self.run_prefix}scatter/shard-{shard:05d}/"

    def scatter_key(self, shard: int, slice_: int, part: int) -> str:
        return f"{self.scatter_prefix(shard)}slice-{slice_:06d}-part-{part:04d}.jsonl"

    def extracted_key(self, shard: int, batch: int) -> str:
        return f"{self.run_prefix}shards/{shard:05d}/extracted/batch-{batch:06d}.jsonl"

    def transformed_key(self, shard: int, batch: int) -> str:
        return f"{self.run_prefix}shards/{shard:05d}/transformed/batch-{batch:06d}.jsonl"

    def rejects_key(self, shard: int, batch: int) -> str:
        return f"{self.rejects_prefix}shard-{shard:05d}-batch-{batch:06d}.jsonl"

    def done_key(self, phase: str, index: int) -> str:
        return f"{self.run_prefix}done/{phase}-{index:06d}.json"
