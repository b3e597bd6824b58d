"""Calendar quarters ("2026-Q4"): the period of every scorecard, statement and accrual."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_PATTERN = re.compile(r"([0-9]{4})-Q([1-4])")


class InvalidQuarter(ValueError):
    """Text that is not a calendar quarter like 2026-Q4."""


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _PATTERN.fullmatch(text.strip().upper())
        if match is None:
            raise InvalidQuarter(f"{text!r} is not a quarter like 2026-Q4")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        return self.next.start - timedelta(days=1)

    @property
    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    @property
    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def weeks(self) -> list[tuple[date, date]]:
        """Monday-to-Sunday weeks clipped to the quarter: (first day, last day) inside it."""
        out: list[tuple[date, date]] = []
        first = self.start
        while first <= self.end:
            sunday = first + timedelta(days=6 - first.weekday())
            last = min(sunday, self.end)
            out.append((first, last))
            first = last + timedelta(days=1)
        return out
