"""QBR arithmetic: weekly trend, quarter-over-quarter deltas, the top resellers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from analytics.domain.quarters import Quarter
from analytics.domain.scorecard import money

PERCENT_PLACES = Decimal("0.1")
TOP_N = 10

Number = Decimal | int


@dataclass(frozen=True)
class WeekPoint:
    week_start: date
    week_end: date
    units: int
    revenue: Decimal


@dataclass(frozen=True)
class Delta:
    metric: str
    current: Number | None
    previous: Number | None
    change: Number | None
    change_pct: Decimal | None


@dataclass(frozen=True)
class ResellerSales:
    reseller_id: str
    legal_name: str | None
    units: int
    revenue: Decimal  # exact; presented through money()
    previous_revenue: Decimal


def weekly_trend(quarter: Quarter, daily: Mapping[date, tuple[int, Decimal]]) -> list[WeekPoint]:
    """Net units and revenue per week of the quarter, every week present (zero when quiet)."""
    points = []
    for first, last in quarter.weeks():
        units, revenue = 0, Decimal(0)
        for day, (u, r) in daily.items():
            if first <= day <= last:
                units += u
                revenue += r
        points.append(WeekPoint(first, last, units, money(revenue)))
    return points


def percent_change(current: Number, previous: Number) -> Decimal | None:
    if previous == 0:
        return None
    change = (Decimal(current) - Decimal(previous)) * 100 / abs(Decimal(previous))
    return change.quantize(PERCENT_PLACES, ROUND_HALF_EVEN)


def share(part: Decimal, total: Decimal) -> Decimal | None:
    """`part` as a percentage of `total`, to 0.1 %."""
    if total == 0:
        return None
    return (part * 100 / total).quantize(PERCENT_PLACES, ROUND_HALF_EVEN)


def deltas(
    current: Mapping[str, object], previous: Mapping[str, object] | None, metrics: Iterable[str]
) -> list[Delta]:
    """Change of each numeric metric against the previous quarter (None where undefined)."""
    out = []
    for metric in metrics:
        now = _number(current.get(metric))
        before = _number(previous.get(metric)) if previous is not None else None
        if now is None or before is None:
            out.append(Delta(metric, now, before, None, None))
        else:
            out.append(Delta(metric, now, before, now - before, percent_change(now, before)))
    return out


def top_resellers(rows: Sequence[ResellerSales], n: int = TOP_N) -> list[ResellerSales]:
    """Highest net revenue first; ties broken by reseller id so the list is stable."""
    return sorted(rows, key=lambda r: (-r.revenue, r.reseller_id))[:n]


def _number(value: object) -> Number | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return value
    return None
