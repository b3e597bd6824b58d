"""analytics' database: fact inserts and inventory refresh (projection side), and reads of the
`bi` views (query side). Every write is one batched statement per table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, TextClause, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from analytics.adapters.tables import inventory_positions

Row = dict[str, Any]

POSITION_INPUTS = text(
    """
    with as_of as (
        select d as distributor_id,
               (select max(sold_on) from sell_through_lines where distributor_id = d) as as_of
        from unnest(cast(:distributors as text[])) as d
    ), recent as (
        select l.distributor_id, l.sku, sum(l.quantity) as units
        from sell_through_lines l join as_of a using (distributor_id)
        where l.sold_on between a.as_of - :days_before and a.as_of
        group by 1, 2
    )
    select p.distributor_id, p.sku, p.sell_in_units, p.sell_through_units,
           coalesce(recent.units, 0) as units_in_window, a.as_of
    from inventory_positions p join as_of a using (distributor_id)
    left join recent using (distributor_id, sku)
    order by p.distributor_id, p.sku
    """
)
ADD_TO_POSITIONS = text(
    """
    insert into inventory_positions (distributor_id, sku, sell_in_units, sell_through_units,
        on_hand, units_in_window, avg_weekly_units, loading_flag)
    select d, s, i, t, 0, 0, 0, false
    from unnest(cast(:d as text[]), cast(:s as text[]), cast(:i as bigint[]),
                cast(:t as bigint[])) as x(d, s, i, t)
    on conflict (distributor_id, sku) do update set
        sell_in_units = inventory_positions.sell_in_units + excluded.sell_in_units,
        sell_through_units = inventory_positions.sell_through_units + excluded.sell_through_units
    """
)


def _unnest_insert(table: Table, tail: str) -> TextClause:
    """insert ... select * from unnest(<one array per column>) <tail>: any number of rows in
    one statement (bind each column as a list)."""
    names = ", ".join(c.name for c in table.c)
    arrays = ", ".join(
        f"cast(:{c.name} as {c.type.compile(dialect=postgresql.dialect())}[])" for c in table.c
    )
    return text(f"insert into {table.name} ({names}) select * from unnest({arrays}) {tail}")


def _columns(table: Table, rows: Sequence[Row]) -> dict[str, list[Any]]:
    return {c.name: [row[c.name] for row in rows] for c in table.c}


async def insert_facts(
    conn: AsyncConnection, table: Table, rows: Sequence[Row], returning: Sequence[str] = ()
) -> list[Row]:
    """Insert, skipping rows whose natural key or event id is already there; returns the
    `returning` columns of the rows that were new."""
    if not rows:
        return []
    if any(isinstance(c.type, ARRAY) for c in table.c):  # unnest would flatten nested arrays
        await conn.execute(pg_insert(table).on_conflict_do_nothing(), list(rows))
        return []
    back = f" returning {', '.join(returning)}" if returning else ""
    stmt = _unnest_insert(table, f"on conflict do nothing{back}")
    result = await conn.execute(stmt, _columns(table, rows))
    return [dict(r._mapping) for r in result] if returning else []


async def add_to_positions(
    conn: AsyncConnection, sums: Mapping[tuple[str, str], tuple[int, int]]
) -> None:
    """sums: (distributor_id, sku) -> (sell-in units, sell-through units) to add."""
    keys = sorted(sums)
    await conn.execute(
        ADD_TO_POSITIONS,
        {
            "d": [d for d, _ in keys],
            "s": [s for _, s in keys],
            "i": [sums[k][0] for k in keys],
            "t": [sums[k][1] for k in keys],
        },
    )


async def position_inputs(
    conn: AsyncConnection, distributors: Sequence[str], days_before: int
) -> list[Row]:
    """Every position of the distributors: stored sums, as_of and net units in the window."""
    result = await conn.execute(
        POSITION_INPUTS, {"distributors": list(distributors), "days_before": days_before}
    )
    return [dict(r._mapping) for r in result]


async def save_positions(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    if not rows:
        return
    keys = ("distributor_id", "sku")
    changed = ", ".join(
        f"{c.name} = excluded.{c.name}" for c in inventory_positions.c if c.name not in keys
    )
    upsert = f"on conflict ({', '.join(keys)}) do update set {changed}"
    stmt = _unnest_insert(inventory_positions, upsert)
    await conn.execute(stmt, _columns(inventory_positions, rows))


class Views:
    """Read-only queries over the documented `bi` views."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _all(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        async with self.engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(text(sql), dict(params))]

    async def partner(self, partner_id: str) -> Row | None:
        rows = await self._all("select * from bi.partners where partner_id = :p", {"p": partner_id})
        return rows[0] if rows else None

    async def scorecard(self, partner_id: str, quarter: str) -> Row | None:
        rows = await self._all(
            "select * from bi.scorecard_quarterly where partner_id = :p and quarter = :q",
            {"p": partner_id, "q": quarter},
        )
        return rows[0] if rows else None

    async def scorecards(self, quarter: str, kind: str | None) -> list[Row]:
        return await self._all(
            "select * from bi.scorecard_quarterly where quarter = :q"
            " and (cast(:k as text) is null or scorecard_type = :k)"
            " order by scorecard_type, partner_id",
            {"q": quarter, "k": kind},
        )

    async def quarters_of(self, partner_id: str) -> list[str]:
        rows = await self._all(
            "select quarter from bi.scorecard_quarterly where partner_id = :p order by quarter",
            {"p": partner_id},
        )
        return [r["quarter"] for r in rows]

    async def positions(self, distributor_id: str | None) -> list[Row]:
        return await self._all(
            "select * from bi.inventory_position"
            " where cast(:d as text) is null or distributor_id = :d"
            " order by distributor_id, sku",
            {"d": distributor_id},
        )

    async def daily_sell_through(
        self, distributor_id: str, first: date, last: date
    ) -> dict[date, tuple[int, Decimal]]:
        rows = await self._all(
            "select sold_on, sum(quantity) as units, sum(amount) as revenue"
            " from bi.sell_through_lines where distributor_id = :d"
            " and sold_on between :first and :last group by sold_on",
            {"d": distributor_id, "first": first, "last": last},
        )
        return {r["sold_on"]: (int(r["units"]), r["revenue"]) for r in rows}

    async def reseller_sales(self, distributor_id: str, quarter: str, previous: str) -> list[Row]:
        """Net units and revenue per reseller on the distributor's lines in `quarter`, with the
        same reseller's revenue in `previous`."""
        return await self._all(
            """
            select l.reseller_id, p.legal_name,
                   sum(l.quantity) filter (where l.quarter = :q) as units,
                   coalesce(sum(l.amount) filter (where l.quarter = :q), 0) as revenue,
                   coalesce(sum(l.amount) filter (where l.quarter = :prev), 0) as previous_revenue
            from bi.sell_through_lines l left join bi.partners p on p.partner_id = l.reseller_id
            where l.distributor_id = :d and l.quarter in (:q, :prev)
            group by l.reseller_id, p.legal_name
            having count(*) filter (where l.quarter = :q) > 0
            """,
            {"d": distributor_id, "q": quarter, "prev": previous},
        )

    async def rebates_by_reason(self, partner_id: str, quarter: str) -> dict[str, Row]:
        rows = await self._all(
            "select reason, sum(amount) as amount, count(*) as accruals from bi.rebate_ledger"
            " where partner_id = :p and quarter = :q group by reason",
            {"p": partner_id, "q": quarter},
        )
        return {r["reason"]: r for r in rows}

    async def network(self, distributor_id: str, quarter: str) -> list[Row]:
        """Scorecards of the resellers enrolled under the distributor, for the quarter."""
        return await self._all(
            "select * from bi.scorecard_quarterly where parent_distributor_id = :d"
            " and quarter = :q order by partner_id",
            {"d": distributor_id, "q": quarter},
        )
