"""The facts incentives reasons about and the accruals it produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def period_of(day: date) -> str:
    """The calendar quarter of a date, e.g. 2026-Q4."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


class Reason(StrEnum):
    BASE = "BASE"
    TIER_TRUE_UP = "TIER_TRUE_UP"
    DEAL_REG_BONUS = "DEAL_REG_BONUS"


class Rule(StrEnum):
    DISTRIBUTOR_VOLUME = "DISTRIBUTOR_VOLUME"
    DEAL_REG_BONUS = "DEAL_REG_BONUS"


class Awaited(StrEnum):
    DEAL = "DEAL"
    PARTNER = "PARTNER"


@dataclass(frozen=True)
class Partner:
    partner_id: str
    partner_type: str
    tier: str


@dataclass(frozen=True)
class Deal:
    deal_id: str
    partner_id: str
    registered_on: date
    protection_expires_on: date

    def protects(self, day: date) -> bool:
        return self.registered_on <= day <= self.protection_expires_on


@dataclass(frozen=True)
class Line:
    """An accepted sell-through line (a return has a negative quantity)."""

    event_id: str
    distributor_id: str
    reseller_id: str
    report_id: str
    line_no: int
    product_line: str | None
    quantity: int
    unit_price: Decimal
    currency: str
    sold_on: date
    deal_id: str | None

    # computed once per line, at construction: every line's period is read, and the revenue by
    # every volume rule (on Python 3.11 a cached_property takes a lock: ~1 µs each first read)
    revenue: Decimal = field(init=False, repr=False, compare=False)
    period: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "revenue", self.quantity * self.unit_price)
        object.__setattr__(self, "period", period_of(self.sold_on))


@dataclass(frozen=True)
class Accrual:
    """One ledger entry. `running_before/after` explain volume accruals (cumulative revenue)."""

    accrual_id: str
    partner_id: str
    program_id: str
    program_version: int
    currency: str
    period: str
    reason: Reason
    basis_amount: Decimal
    rate: Decimal
    amount: Decimal
    line_event_id: str
    deal_id: str | None
    sold_on: date
    running_before: Decimal | None = None
    running_after: Decimal | None = None
