"""Applying facts: every event becomes a row of its own table (idempotent on natural key and
event id). Inventory positions add the units of facts that were new (sums commute, so arrival
order does not matter), then the touched distributors' windows and positions are recomputed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from channelstream_common.inventory import WINDOW_DAYS, position
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from analytics.adapters.repository import (
    Row,
    add_to_positions,
    insert_facts,
    position_inputs,
    save_positions,
)
from analytics.adapters.tables import FACT_TABLES, sell_in_shipments, sell_through_lines

INVENTORY_FACTS = (sell_in_shipments, sell_through_lines)


async def record(conn: AsyncConnection, facts: Mapping[Table, Sequence[Row]]) -> None:
    new: dict[Table, list[Row]] = {}
    for table in FACT_TABLES:
        units = ("distributor_id", "sku", "quantity") if table in INVENTORY_FACTS else ()
        new[table] = await insert_facts(conn, table, facts.get(table, ()), units)
    sums = unit_sums(new[sell_in_shipments], new[sell_through_lines])
    if sums:
        await add_to_positions(conn, sums)
        await refresh_positions(conn, sorted({d for d, _ in sums}))


def unit_sums(
    shipments: Sequence[Row], lines: Sequence[Row]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(distributor, SKU) -> (units shipped in, net units sold through) of new facts."""
    sell_in: Counter[tuple[str, str]] = Counter()
    sold: Counter[tuple[str, str]] = Counter()
    for row in shipments:
        sell_in[(row["distributor_id"], row["sku"])] += int(row["quantity"])
    for row in lines:
        sold[(row["distributor_id"], row["sku"])] += int(row["quantity"])
    return {key: (sell_in[key], sold[key]) for key in sorted(sell_in.keys() | sold.keys())}


async def refresh_positions(conn: AsyncConnection, distributors: Sequence[str]) -> None:
    inputs = await position_inputs(conn, distributors, WINDOW_DAYS - 1)
    await save_positions(conn, [position_row(r) for r in inputs])


def position_row(inputs: Mapping[str, Any]) -> Row:
    """One inventory row through the shared arithmetic, as sellthrough's view computes it."""
    pos = position(
        int(inputs["sell_in_units"]),
        int(inputs["sell_through_units"]),
        int(inputs["units_in_window"]),
    )
    return {
        "distributor_id": inputs["distributor_id"],
        "sku": inputs["sku"],
        "sell_in_units": pos.sell_in_units,
        "sell_through_units": pos.sell_through_units,
        "on_hand": pos.on_hand,
        "units_in_window": int(inputs["units_in_window"]),
        "as_of": inputs["as_of"],
        "avg_weekly_units": pos.avg_weekly_units,
        "weeks_of_supply": pos.weeks_of_supply,
        "loading_flag": pos.loading_flag,
    }
