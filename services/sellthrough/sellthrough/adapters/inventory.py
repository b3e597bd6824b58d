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

SALE_COLUMNS = ("report_id", "line_no", "distributor_id", "sku", "quantity", "sold_on")
SHIPMENT_COLUMNS = ("shipment_id", "distributor_id", "sku", "quantity", "shipped_on")


async def record_sales(
    conn: AsyncConnection, sales: Sequence[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """Insert sell-through facts; returns (distributor_id, sku, quantity, sold_on) of new ones."""
    if not sales:
        return []
    return await bulk.fetch(
        conn,
        "insert into inventory_sales (report_id, line_no, distributor_id, sku, quantity, sold_on)"
        " select * from unnest(%b::text[], %b::bigint[], %b::text[], %b::text[],"
        " %b::integer[], %b::date[]) on conflict do nothing"
        " returning distributor_id, sku, quantity, sold_on",
        tuple([s[c] for s in sales] for c in SALE_COLUMNS),
    )


async def record_shipments(
    conn: AsyncConnection, shipments: Sequence[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """Insert sell-in facts; returns (distributor_id, sku, quantity) of new ones."""
    if not shipments:
        return []
    return await bulk.fetch(
        conn,
        "insert into inventory_shipments (shipment_id, distributor_id, sku, quantity,"
        " shipped_on) select * from unnest(%b::text[], %b::text[], %b::text[], %b::integer[],"
        " %b::date[]) on conflict do nothing returning distributor_id, sku, quantity",
        tuple([s[c] for s in shipments] for c in SHIPMENT_COLUMNS),
    )


async def add_to_positions(
    conn: AsyncConnection, sums: dict[tuple[str, str], tuple[int, int]]
) -> None:
    """sums: (distributor_id, sku) -> (sell-in units, sell-through units) to add."""
    if not sums:
        return
    keys = sorted(sums)
    await conn.execute(
        text(
            "insert into inventory_positions (distributor_id, sku, sell_in_units,"
            " sell_through_units) select * from unnest(cast(:d as text[]), cast(:s as text[]),"
            " cast(:i as bigint[]), cast(:t as bigint[])) on conflict (distributor_id, sku)"
            " do update set sell_in_units = inventory_positions.sell_in_units"
            " + excluded.sell_in_units, sell_through_units ="
            " inventory_positions.sell_through_units + excluded.sell_through_units"
        ),
        {
            "d": [d for d, _ in keys],
            "s": [s for _, s in keys],
            "i": [sums[k][0] for k in keys],
            "t": [sums[k][1] for k in keys],
        },
    )


async def advance_as_of(conn: AsyncConnection, latest: dict[str, date]) -> None:
    if not latest:
        return
    ids = sorted(latest)
    await conn.execute(
        text(
            "insert into distributor_as_of (distributor_id, as_of) select * from unnest("
            "cast(:d as text[]), cast(:a as date[])) on conflict (distributor_id)"
            " do update set as_of = greatest(distributor_as_of.as_of, excluded.as_of)"
        ),
        {"d": ids, "a": [latest[i] for i in ids]},
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
