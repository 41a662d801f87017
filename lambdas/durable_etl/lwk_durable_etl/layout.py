"""Where a run keeps its work in the source bucket: `_etl/<datasetId>/<runId>/...`.

Every key is derived from the dataset, the run and a batch number, so a step that runs again
writes the same objects again instead of new ones, and step results can name a whole set of
objects by a prefix and a count.
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
    def rejects_prefix(self) -> str:
        return f"{self.run_prefix}rejects/"

    def extracted_key(self, batch: int) -> str:
        return f"{self.run_prefix}extracted/batch-{batch:06d}.jsonl"

    def transformed_key(self, batch: int) -> str:
        return f"{self.run_prefix}transformed/batch-{batch:06d}.jsonl"

    def rejects_key(self, batch: int) -> str:
        return f"{self.rejects_prefix}batch-{batch:06d}.jsonl"

    def seen_ids_key(self, part: int) -> str:
        return f"{self.run_prefix}extract-state/ids-after-part-{part:04d}.json.gz"
