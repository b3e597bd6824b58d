"""What the views must show for a set of accepted lines, computed independently of the services
from the rules of the default rebate program (services/incentives, channel-rebates v1)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
# channel-rebates v1: retroactive 1 % / 2 % / 3 % from 0 / 100 000 / 500 000; 2 % deal bonus
VOLUME_BRACKETS = (
    (Decimal(0), Decimal("0.01")),
    (Decimal(100000), Decimal("0.02")),
    (Decimal(500000), Decimal("0.03")),
)
DEAL_BONUS_RATE = Decimal("0.02")
PROGRAM = ("channel-rebates", 1, "USD")

PartnerQuarter = tuple[str, str]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def volume_rate(revenue: Decimal) -> Decimal:
    revenue = max(revenue, Decimal(0))
    return [rate for lower, rate in VOLUME_BRACKETS if revenue >= lower][-1]


def entitlement(revenue: Decimal) -> Decimal:
    """E(R): the retroactive volume rebate of a distributor's quarter with net revenue R."""
    return cents(volume_rate(revenue) * revenue)


@dataclass(frozen=True)
class DealWindow:
    partner_id: str
    registered_on: date
    expires_on: date

    def pays(self, reseller_id: str, sold_on: date) -> bool:
        return reseller_id == self.partner_id and self.registered_on <= sold_on <= self.expires_on


@dataclass
class Expected:
    """Running totals of accepted lines and shipments; exact decimals."""

    lines: int = 0
    rejected: int = 0
    units: int = 0
    sell_in: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    sell_through: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    revenue: dict[PartnerQuarter, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    partner_units: dict[PartnerQuarter, int] = field(default_factory=lambda: defaultdict(int))
    distributor_revenue: dict[PartnerQuarter, Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    bonus: dict[PartnerQuarter, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    bonus_lines: int = 0

    def add_line(
        self,
        distributor_id: str,
        reseller_id: str,
        sku: str,
        quantity: int,
        unit_price: Decimal,
        sold_on: date,
        deal: DealWindow | None,
    ) -> None:
        q = quarter_of(sold_on)
        amount = quantity * unit_price
        self.lines += 1
        self.units += quantity
        self.sell_through[(distributor_id, sku)] += quantity
        for partner in (distributor_id, reseller_id):
            self.revenue[(partner, q)] += amount
            self.partner_units[(partner, q)] += quantity
        self.distributor_revenue[(distributor_id, q)] += amount
        if deal is not None and deal.pays(reseller_id, sold_on):
            self.bonus[(reseller_id, q)] += cents(DEAL_BONUS_RATE * amount)
            self.bonus_lines += 1

    def add_shipment(self, distributor_id: str, sku: str, quantity: int) -> None:
        self.sell_in[(distributor_id, sku)] += quantity

    def inventory(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(distributor, sku) -> (sell-in units, sell-through units)."""
        keys = set(self.sell_in) | set(self.sell_through)
        return {k: (self.sell_in.get(k, 0), self.sell_through.get(k, 0)) for k in sorted(keys)}

    def rebates(self) -> dict[PartnerQuarter, Decimal]:
        """Accrued per partner x quarter: E(R) for distributors, deal bonuses for resellers."""
        out: dict[PartnerQuarter, Decimal] = defaultdict(Decimal)
        for key, revenue in self.distributor_revenue.items():
            out[key] += entitlement(revenue)
        for key, amount in self.bonus.items():
            out[key] += amount
        return {k: v for k, v in sorted(out.items()) if v}

    def scorecards(self) -> dict[PartnerQuarter, tuple[int, Decimal]]:
        """Per partner x quarter: (net units, revenue rounded to cents) as scorecards show."""
        return {k: (self.partner_units[k], cents(self.revenue[k])) for k in sorted(self.revenue)}

    def rebate_total(self) -> Decimal:
        return sum(self.rebates().values(), Decimal(0))
