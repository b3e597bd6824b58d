"""Applying facts: every event becomes a row of its own table (idempotent on natural key and
event id). The units of the new sell-in and sell-through facts, aggregated per batch, are added
to the positions' sums and to daily buckets per distributor x SKU x day (sums commute, so
arrival order does not matter).

Then only what changed is recomputed: the positions whose sums changed, and every position of a
distributor whose last day (as_of, the end of the 91-day window) moved. Each position is a
function of its sums, its distributor's as_of and the buckets of its window alone, so a position
left alone is still right, and the work per batch does not grow with the data.

The new lines' units, exact revenue and count per distributor x reseller x quarter, the deals
they name, and the new accruals' amounts per partner x quarter are added the same way to the
sums bi.scorecard_quarterly reads, so reading a scorecard does not grow with the data either."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from channelstream_common.inventory import WINDOW_DAYS, position
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from analytics.adapters.repository import (
    FactRow,
    PositionInputs,
    Row,
    add_inventory,
    add_scorecard_sums,
    insert_facts,
    position_inputs,
    save_positions,
)
from analytics.domain.inventory import inventory_change
from analytics.domain.sales import scorecard_change


async def record(conn: AsyncConnection, facts: Mapping[Table, Sequence[FactRow]]) -> None:
    new = await insert_facts(conn, facts)
    sums = scorecard_change(new.sales, new.accruals)
    if sums:
        await add_scorecard_sums(conn, sums)
    change = inventory_change(new.shipments, new.lines)
    if change:
        touched = await add_inventory(conn, change)
        inputs = await position_inputs(conn, touched, WINDOW_DAYS - 1)
        await save_positions(conn, [position_row(i) for i in inputs])


def position_row(inputs: PositionInputs) -> Row:
    """One inventory row through the shared arithmetic, as sellthrough's view computes it."""
    pos = position(inputs.sell_in_units, inputs.sell_through_units, inputs.units_in_window)
    return {
        "distributor_id": inputs.distributor_id,
        "sku": inputs.sku,
        "sell_in_units": pos.sell_in_units,
        "sell_through_units": pos.sell_through_units,
        "on_hand": pos.on_hand,
        "units_in_window": inputs.units_in_window,
        "as_of": inputs.as_of,
        "avg_weekly_units": pos.avg_weekly_units,
        "weeks_of_supply": pos.weeks_of_supply,
        "loading_flag": pos.loading_flag,
    }
