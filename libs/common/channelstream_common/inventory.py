"""Channel-inventory arithmetic, shared by sellthrough's view and analytics' scorecards so both
give the same numbers for the same events.

weeks of supply = on-hand / average weekly sell-through, the average being net units sold in the
91 days ending at `as_of` (inclusive) / 13. Loading = more than 12 weeks of supply, or stock on
hand while nothing sells through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

WINDOW_DAYS = 91
WEEKS_IN_WINDOW = 13
LOADING_WEEKS = Decimal(12)
_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class InventoryPosition:
    sell_in_units: int
    sell_through_units: int
    on_hand: int
    avg_weekly_units: Decimal
    weeks_of_supply: Decimal | None
    loading_flag: bool


def window_start(as_of: date) -> date:
    """First day of the 91-day window ending at `as_of` inclusive."""
    return as_of - timedelta(days=WINDOW_DAYS - 1)


def position(
    sell_in_units: int, sell_through_units: int, units_in_window: int
) -> InventoryPosition:
    on_hand = sell_in_units - sell_through_units
    avg = Decimal(units_in_window) / WEEKS_IN_WINDOW
    exact = Decimal(on_hand) / avg if avg > 0 else None
    loading = (exact is not None and exact > LOADING_WEEKS) or (avg <= 0 and on_hand > 0)
    wos = exact.quantize(_PLACES, ROUND_HALF_EVEN) if exact is not None else None
    return InventoryPosition(
        sell_in_units,
        sell_through_units,
        on_hand,
        avg.quantize(_PLACES, ROUND_HALF_EVEN),
        wos,
        loading,
    )
