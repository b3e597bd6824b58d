"""What new sell-through lines and rebate accruals add to the sums bi.scorecard_quarterly reads:
net units, exact revenue and lines per distributor x reseller x quarter, the (deal, reseller)
pairs named by lines, and the amount accrued per partner x quarter. Sums and set unions commute,
so the change of a set of facts does not depend on their order nor on how they are batched."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, Inexact

from analytics.domain.quarters import Quarter

# distributor, reseller, quantity, unit price, day sold, deal named
Sale = tuple[str, str, int, Decimal, date, str | None]
Accrual = tuple[str, str, Decimal]  # partner, quarter, amount
SalesKey = tuple[str, str, str]  # distributor, reseller, quarter

# Products and sums never round (PostgreSQL's numeric does not). Prices and amounts are first
# rounded as their numeric(18, 4) / numeric(18, 2) columns store them (half away from zero),
# which also gives every sum the scale the columns' sums have.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact])
_STORED = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, rounding=ROUND_HALF_UP)
_PRICE, _CENTS, _NO_CENTS = Decimal("0.0001"), Decimal("0.01"), Decimal("0.00")


@functools.lru_cache(maxsize=4096)
def quarter_of(day: date) -> str:
    """As bi.quarter_of."""
    return str(Quarter.of(day))


@dataclass
class Sums:
    units: int = 0
    revenue: Decimal = Decimal("0.0000")
    lines: int = 0


@dataclass
class ScorecardChange:
    sales: dict[SalesKey, Sums] = field(default_factory=dict)
    conversions: set[tuple[str, str]] = field(default_factory=set)  # deal, reseller
    rebates: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # partner, quarter

    def __bool__(self) -> bool:
        return bool(self.sales or self.rebates)


def scorecard_change(sales: Iterable[Sale], accruals: Iterable[Accrual]) -> ScorecardChange:
    """Both only facts not counted before."""
    change = ScorecardChange()
    sums, rebates = change.sales, change.rebates
    multiply, add, quantize = _EXACT.multiply, _EXACT.add, _STORED.quantize
    for distributor, reseller, quantity, price, day, deal in sales:
        key = (distributor, reseller, quarter_of(day))
        s = sums.get(key)
        if s is None:
            s = sums[key] = Sums()
        s.units += quantity
        s.revenue = add(s.revenue, multiply(quantity, quantize(price, _PRICE)))
        s.lines += 1
        if deal is not None:
            change.conversions.add((deal, reseller))
    for partner, quarter, amount in accruals:
        key2 = (partner, quarter)
        rebates[key2] = add(rebates.get(key2, _NO_CENTS), quantize(amount, _CENTS))
    return change
