"""Scorecard rules. bi.scorecard_quarterly (migrations) computes them in SQL at query time; these
are the same rules in Python, used by the QBR and as the reference the SQL is tested against."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from analytics.domain.quarters import Quarter

CENTS = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")

DISTRIBUTOR_METRICS = (
    "sell_in_revenue",
    "sell_through_revenue",
    "sell_through_units",
    "sell_through_to_sell_in",
    "active_resellers",
    "new_resellers",
    "rebate_accrued",
    "loading_skus",
)
RESELLER_METRICS = (
    "sell_through_revenue",
    "sell_through_units",
    "deals_registered",
    "deals_rejected",
    "deals_converted",
    "rebate_accrued",
    "dark",
)
ALL_METRICS = DISTRIBUTOR_METRICS + tuple(
    m for m in RESELLER_METRICS if m not in DISTRIBUTOR_METRICS
)
IDENTITY = (
    "partner_id",
    "legal_name",
    "partner_type",
    "scorecard_type",
    "tier",
    "parent_distributor_id",
    "enrolled_on",
    "quarter",
    "quarter_start",
    "quarter_end",
)
SCORECARD_TYPES = ("distributor", "reseller")


def scorecard_type(partner_type: str) -> str:
    """Distributors are the first tier; every other partner type is scored as a reseller."""
    return "distributor" if partner_type == "DISTRIBUTOR" else "reseller"


def metrics_of(kind: str) -> tuple[str, ...]:
    return DISTRIBUTOR_METRICS if kind == "distributor" else RESELLER_METRICS


def money(amount: Decimal) -> Decimal:
    """Revenue and rebates as presented: half-even to cents."""
    return amount.quantize(CENTS, ROUND_HALF_EVEN)


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """Sell-through to sell-in, half-even to 4 places; undefined (None) without sell-in."""
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(RATIO_PLACES, ROUND_HALF_EVEN)


def is_active(net_units: int) -> bool:
    """A reseller is active for a distributor in a quarter when it bought net units from it."""
    return net_units > 0


def is_dark(enrolled_on: date, quarter: Quarter, lines: int, approved_deals: int) -> bool:
    """Enrolled before the quarter began, and neither a sell-through line nor an approved deal
    registration in it: enrolled but never activated."""
    return enrolled_on < quarter.start and lines == 0 and approved_deals == 0
