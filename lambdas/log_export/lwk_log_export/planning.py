"""Which (log group, month) to export next: pure logic over what the bucket and CloudWatch Logs report."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .contract import month_prefix
from .months import Month

# DescribeExportTasks status codes. An active task will still write under its prefix.
ACTIVE_STATUSES = frozenset({"PENDING", "RUNNING", "PENDING_CANCEL"})
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class ExportTask:
    """One entry of DescribeExportTasks, reduced to what the planning needs."""

    task_id: str
    log_group: str
    destination: str
    destination_prefix: str
    status: str
    status_message: str
    from_ms: int
    to_ms: int


@dataclass(frozen=True)
class Slot:
    """One month of one log group: the unit that is exported once."""

    log_group: str
    month: Month

    @property
    def prefix(self) -> str:
        return month_prefix(self.log_group, str(self.month))

    def covered_by(self, task: ExportTask) -> bool:
        """True if `task` exported exactly this log group and month (not a part or another range)."""
        return task.log_group == self.log_group and (task.from_ms, task.to_ms) == self.month.time_range_ms()


@dataclass(frozen=True)
class Plan:
    # Completed exports whose completion record is missing: record them, then they count as done.
    to_record: list[tuple[Slot, ExportTask]]
    # An export to the slot's prefix is pending or running: starting another would export it twice.
    under_way: list[Slot]
    # Neither recorded, nor completed, nor under way; in export order (log group, then oldest month),
    # each with its index in that order over all the run's slots (the run's cursor moves past it).
    pending: list[tuple[int, Slot]]


def plan_exports(
    log_groups: Sequence[str],
    months: Sequence[Month],
    *,
    bucket: str,
    recorded_prefixes: set[str],
    tasks: Iterable[ExportTask],
) -> Plan:
    by_prefix: dict[str, list[ExportTask]] = {}
    for task in tasks:
        if task.destination == bucket:
            by_prefix.setdefault(task.destination_prefix, []).append(task)
    plan = Plan(to_record=[], under_way=[], pending=[])
    for group_index, log_group in enumerate(log_groups):
        for month_index, month in enumerate(months):
            slot = Slot(log_group, month)
            if slot.prefix in recorded_prefixes:
                continue
            candidates = by_prefix.get(slot.prefix, [])
            completed = [t for t in candidates if t.status == COMPLETED and slot.covered_by(t)]
            if completed:
                plan.to_record.append((slot, completed[-1]))
            elif any(t.status in ACTIVE_STATUSES for t in candidates):
                plan.under_way.append(slot)
            else:
                # Nothing, or only FAILED / CANCELLED attempts: export it (again).
                plan.pending.append((group_index * len(months) + month_index, slot))
    return plan
