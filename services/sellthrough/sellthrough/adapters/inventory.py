"""SQL of the channel-inventory projection: facts deduplicated on their natural keys, sums
added only for facts new to the table, so at-least-once delivery changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from channelstream_common.inventory import WINDOW_DAYS
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from sellthrough.adapters import bulk

_RECORD_FACTS = (
    "with s as (insert into inventory_sales (report_id, line_no, distributor_id, sku, quantity,"
    " sold_on) select * from unnest(cast(%s as text[]), cast(%s as bigint[]),"
    " cast(%s as text[]), cast(%s as text[]), cast(%s as integer[]), cast(%s as date[]))"
    " on conflict do nothing returning distributor_id, sku, quantity, sold_on),"
    " i as (insert into inventory_shipments (shipment_id, distributor_id, sku, quantity,"
    " shipped_on) select * from unnest(cast(%s as text[]), cast(%s as text[]),"
    " cast(%s as text[]), cast(%s as integer[]), cast(%s as date[]))"
    " on conflict do nothing returning distributor_id, sku, quantity)"
    " select distributor_id, sku, quantity, sold_on from s"
    " union all select distributor_id, sku, quantity, null from i"
)


async def record_facts(
    conn: AsyncConnection,
    sales: Sequence[dict[str, Any]],
    shipments: Sequence[dict[str, Any]],
) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int, date]]]:
    """Insert sell-through and sell-in facts (event values) in one statement; returns the new
    ones: (distributor_id, sku, quantity) of shipments, (..., sold_on) of sales."""
    if not sales and not shipments:
        return [], []
    rows = await bulk.fetch(
        conn,
        _RECORD_FACTS,
        (
            bulk.texts([s["report_id"] for s in sales]),
            bulk.ints([s["line_no"] for s in sales]),
            bulk.texts([s["distributor_id"] for s in sales]),
            bulk.texts([s["sku"] for s in sales]),
            bulk.ints([s["quantity"] for s in sales]),
            bulk.dates([s["sold_on"] for s in sales]),
            bulk.texts([s["shipment_id"] for s in shipments]),
            bulk.texts([s["distributor_id"] for s in shipments]),
            bulk.texts([s["sku"] for s in shipments]),
            bulk.ints([s["quantity"] for s in shipments]),
            bulk.dates([s["shipped_on"] for s in shipments]),
        ),
    )
    new_sales = [r for r in rows if r[3] is not None]
    new_shipments = [(r[0], r[1], r[2]) for r in rows if r[3] is None]
    return new_shipments, new_sales  # type: ignore[return-value]


_ADD = (
    "with p as (insert into inventory_positions (distributor_id, sku, sell_in_units,"
    " sell_through_units) select * from unnest(cast(%s as text[]), cast(%s as text[]),"
    " cast(%s as bigint[]), cast(%s as bigint[])) on conflict (distributor_id, sku)"
    " do update set sell_in_units = inventory_positions.sell_in_units + excluded.sell_in_units,"
    " sell_through_units = inventory_positions.sell_through_units"
    " + excluded.sell_through_units)"
    " insert into distributor_as_of (distributor_id, as_of) select * from unnest("
    "cast(%s as text[]), cast(%s as date[])) on conflict (distributor_id)"
    " do update set as_of = greatest(distributor_as_of.as_of, excluded.as_of)"
)


async def add_to_positions(
    conn: AsyncConnection,
    sums: dict[tuple[str, str], tuple[int, int]],
    latest: dict[str, date],
) -> None:
    """One statement: sums, (distributor_id, sku) -> (sell-in units, sell-through units) to
    add; latest, distributor_id -> the latest sale date of the new facts (as_of moves up)."""
    if not sums and not latest:
        return
    keys = sorted(sums)  # one lock order for all writers
    ids = sorted(latest)
    await bulk.fetch(
        conn,
        _ADD,
        (
            bulk.texts([d for d, _ in keys]),
            bulk.texts([s for _, s in keys]),
            bulk.ints([sums[k][0] for k in keys]),
            bulk.ints([sums[k][1] for k in keys]),
            bulk.texts(ids),
            bulk.dates([latest[i] for i in ids]),
        ),
    )


async def positions(conn: AsyncConnection, distributor_id: str | None) -> list[Row[Any]]:
    """Per distributor x SKU: the sums, as_of and the net units in the window ending at as_of."""
    rows = await conn.execute(
        text(
            "select p.distributor_id, p.sku, p.sell_in_units, p.sell_through_units, a.as_of,"
            " coalesce((select sum(s.quantity) from inventory_sales s"
            " where s.distributor_id = p.distributor_id and s.sku = p.sku"
            " and s.sold_on between a.as_of - :back and a.as_of), 0) as units_in_window"
            " from inventory_positions p left join distributor_as_of a using (distributor_id)"
            " where cast(:d as text) is null or p.distributor_id = :d"
            " order by p.distributor_id, p.sku"
        ),
        {"d": distributor_id, "back": WINDOW_DAYS - 1},
    )
    return list(rows)
