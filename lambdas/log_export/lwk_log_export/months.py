"""Calendar months in UTC, the unit of export."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from .contract import FIRST_EXPORTABLE_YEAR
from .errors import InvalidRequest, describe

# ASCII digits only: `\d` also matches other scripts' digits, which int() reads as numbers too
# ("٢٠٢٦-٠٣" would be March 2026).
_MONTH_PATTERN = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: object, *, field: str = "month") -> Month:
        if not isinstance(text, str) or not (match := _MONTH_PATTERN.fullmatch(text)):
            raise InvalidRequest(
                f'{field}: {describe(text)} is not a month written YYYY-MM in ASCII digits, such as "2026-08"'
            )
        month = cls(int(match.group(1)), int(match.group(2)))
        if month.year < FIRST_EXPORTABLE_YEAR:
            raise InvalidRequest(
                f"{field}: {month} is before {FIRST_EXPORTABLE_YEAR}, where CloudWatch Logs time starts"
            )
        return month

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def shifted(self, months: int) -> Month:
        index = self.year * 12 + (self.month - 1) + months
        return Month(index // 12, index % 12 + 1)

    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    def time_range_ms(self) -> tuple[int, int]:
        """CreateExportTask's `from` and `to`: both ends inclusive, in epoch milliseconds."""
        start_ms = int(self.start().timestamp() * 1000)
        next_start_ms = int(self.shifted(1).start().timestamp() * 1000)
        return start_ms, next_start_ms - 1


def closed_months(current: Month, months_back: int) -> list[Month]:
    """The `months_back` months before `current`, oldest first; `current` itself is never included."""
    return [current.shifted(-back) for back in range(months_back, 0, -1)]
