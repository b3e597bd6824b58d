"""One row of the channel-inventory view, from the projection's sums (shared arithmetic)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from channelstream_common.inventory import position

COLUMNS = (
    "distributor_id",
    "sku",
    "sell_in_units",
    "sell_through_units",
    "on_hand",
    "as_of",
    "avg_weekly_units",
    "weeks_of_supply",
    "loading_flag",
)


@dataclass(frozen=True)
class InventoryRow:
    distributor_id: str
    sku: str
    sell_in_units: int
    sell_through_units: int
    on_hand: int
    as_of: date | None
    avg_weekly_units: Decimal
    weeks_of_supply: Decimal | None
    loading_flag: bool


def inventory_row(
    distributor_id: str,
    sku: str,
    sell_in_units: int,
    sell_through_units: int,
    as_of: date | None,
    units_in_window: int,
) -> InventoryRow:
    """`units_in_window`: net units sold in the 91 days ending at `as_of` (0 without sales)."""
    p = position(sell_in_units, sell_through_units, units_in_window)
    return InventoryRow(
        distributor_id,
        sku,
        p.sell_in_units,
        p.sell_through_units,
        p.on_hand,
        as_of,
        p.avg_weekly_units,
        p.weeks_of_supply,
        p.loading_flag,
    )


def new_fact_sums(
    shipments: Iterable[tuple[str, str, int]], sales: Iterable[tuple[str, str, int, date]]
) -> tuple[dict[tuple[str, str], tuple[int, int]], dict[str, date]]:
    """What new facts add: (distributor, sku) -> (sell-in, sell-through) units, and each
    distributor's latest sale date among them. Order-independent."""
    sums: dict[tuple[str, str], tuple[int, int]] = {}
    latest: dict[str, date] = {}
    for distributor_id, sku, quantity in shipments:
        sell_in, sell_through = sums.get((distributor_id, sku), (0, 0))
        sums[(distributor_id, sku)] = (sell_in + quantity, sell_through)
    for distributor_id, sku, quantity, sold_on in sales:
        sell_in, sell_through = sums.get((distributor_id, sku), (0, 0))
        sums[(distributor_id, sku)] = (sell_in, sell_through + quantity)
        seen = latest.get(distributor_id)
        if seen is None or sold_on > seen:
            latest[distributor_id] = sold_on
    return sums, latest
