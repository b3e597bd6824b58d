"""What new sell-in and sell-through facts change in channel inventory: units to add to each
position's sums and to each daily bucket, and each distributor's last day sold. Sums and maximum
commute, so the change of a set of facts does not depend on their order (nor on how they are cut
into batches)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

Position = tuple[str, str]  # distributor, SKU
Bucket = tuple[str, str, date]  # distributor, SKU, day sold


@dataclass
class InventoryChange:
    sell_in: dict[Position, int] = field(default_factory=dict)
    sell_through: dict[Position, int] = field(default_factory=dict)
    daily: dict[Bucket, int] = field(default_factory=dict)  # net units sold through
    latest: dict[str, date] = field(default_factory=dict)  # last day sold per distributor

    def __bool__(self) -> bool:
        return bool(self.sell_in or self.sell_through)

    @property
    def positions(self) -> list[Position]:
        return sorted(self.sell_in.keys() | self.sell_through.keys())


def inventory_change(
    shipments: Iterable[tuple[str, str, int]], lines: Iterable[tuple[str, str, int, date]]
) -> InventoryChange:
    """shipments: (distributor, SKU, units) shipped in; lines: (distributor, SKU, net units, day)
    sold through; both only facts not counted before."""
    change = InventoryChange()
    sell_in, sold, daily, latest = change.sell_in, change.sell_through, change.daily, change.latest
    for distributor, sku, units in shipments:
        key = (distributor, sku)
        sell_in[key] = sell_in.get(key, 0) + units
    for distributor, sku, units, day in lines:
        key = (distributor, sku)
        sold[key] = sold.get(key, 0) + units
        bucket = (distributor, sku, day)
        daily[bucket] = daily.get(bucket, 0) + units
        last = latest.get(distributor)
        if last is None or day > last:
            latest[distributor] = day
    return change
