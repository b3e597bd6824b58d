"""analytics' database: fact inserts and inventory refresh (projection side), and reads of the
`bi` views (query side). Every write is one set-based statement per table and batch, with
statement texts built once at import."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from analytics.adapters import bulk
from analytics.adapters.tables import FACT_TABLES, sell_in_shipments, sell_through_lines

Row = dict[str, Any]
FactRow = tuple[Any, ...]  # in the order of its table's columns

STAGING = {t: bulk.Staging.of(t) for t in FACT_TABLES}
INVENTORY_FACTS = (sell_through_lines, sell_in_shipments)
_LINES, _SHIPMENTS = STAGING[sell_through_lines], STAGING[sell_in_shipments]

# The staged lines and shipments that are new (not already in their tables) add their units:
# to the daily buckets, to the positions' sums, and to the distributors' last day (as_of).
# Sums and maximum commute, so arrival order does not matter. Returns the touched positions
# (distributor, SKU) and, with a null SKU, the distributors whose as_of moved: all of their
# positions have a new window.
ADD_INVENTORY = f"""
with new_lines as (
    {_LINES.insert(("distributor_id", "sku", "quantity", "sold_on"))}
), new_shipments as (
    {_SHIPMENTS.insert(("distributor_id", "sku", "quantity"))}
), daily as (
    insert into sell_through_daily (distributor_id, sku, sold_on, units)
    select distributor_id, sku, sold_on, sum(quantity) from new_lines group by 1, 2, 3
    on conflict (distributor_id, sku, sold_on) do update
        set units = sell_through_daily.units + excluded.units
), sums as (
    insert into inventory_positions (distributor_id, sku, sell_in_units, sell_through_units,
        on_hand, units_in_window, avg_weekly_units, loading_flag)
    select distributor_id, sku, sum(sell_in), sum(sold), 0, 0, 0, false from (
        select distributor_id, sku, quantity as sell_in, 0 as sold from new_shipments
        union all
        select distributor_id, sku, 0, quantity from new_lines
    ) new group by 1, 2
    on conflict (distributor_id, sku) do update set
        sell_in_units = inventory_positions.sell_in_units + excluded.sell_in_units,
        sell_through_units = inventory_positions.sell_through_units + excluded.sell_through_units
    returning distributor_id, sku
), moved as (
    insert into distributor_as_of (distributor_id, as_of)
    select distributor_id, max(sold_on) from new_lines group by 1
    on conflict (distributor_id) do update set as_of = excluded.as_of
        where distributor_as_of.as_of < excluded.as_of
    returning distributor_id
)
select distributor_id, sku from sums
union all
select distributor_id, null from moved
"""
# The positions to recompute, with what the shared arithmetic needs: the stored sums, as_of
# and the net units of the window, summed from at most 91 daily buckets per position.
POSITION_INPUTS = """
with keys as (
    select k.d, k.s from unnest(%(d)s::text[], %(s)s::text[]) as k(d, s)
    union
    select distributor_id, sku from inventory_positions
    where distributor_id = any(%(moved)s::text[])
)
select p.distributor_id, p.sku, p.sell_in_units, p.sell_through_units, a.as_of,
       coalesce((select sum(b.units) from sell_through_daily b
                 where b.distributor_id = p.distributor_id and b.sku = p.sku
                   and b.sold_on between a.as_of - %(back)s::integer and a.as_of), 0)
           as units_in_window
from keys join inventory_positions p on p.distributor_id = keys.d and p.sku = keys.s
left join distributor_as_of a on a.distributor_id = p.distributor_id
order by p.distributor_id, p.sku
"""
POSITION_COLUMNS = (
    "distributor_id",
    "sku",
    "on_hand",
    "units_in_window",
    "as_of",
    "avg_weekly_units",
    "weeks_of_supply",
    "loading_flag",
)
SAVE_POSITIONS = """
update inventory_positions p set on_hand = x.on_hand, units_in_window = x.units_in_window,
    as_of = x.as_of, avg_weekly_units = x.avg_weekly_units,
    weeks_of_supply = x.weeks_of_supply, loading_flag = x.loading_flag
from unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::date[], %s::numeric[],
            %s::numeric[], %s::boolean[])
    as x(distributor_id, sku, on_hand, units_in_window, as_of, avg_weekly_units,
         weeks_of_supply, loading_flag)
where p.distributor_id = x.distributor_id and p.sku = x.sku
"""


@dataclass(frozen=True)
class PositionInputs:
    distributor_id: str
    sku: str
    sell_in_units: int
    sell_through_units: int
    as_of: date | None
    units_in_window: int


@dataclass(frozen=True)
class Touched:
    """Positions whose sums changed, and distributors whose as_of moved."""

    positions: tuple[tuple[str, str], ...] = ()
    moved: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.positions or self.moved)


async def insert_facts(conn: AsyncConnection, facts: Mapping[Table, Sequence[FactRow]]) -> Touched:
    """Insert every table's rows (one COPY and one insert per table), skipping rows whose
    natural key or event id is already there; new lines and shipments add their units."""
    present = [t for t in FACT_TABLES if facts.get(t)]
    if not present:
        return Touched()
    inventory = any(t in INVENTORY_FACTS for t in present)
    staged = set(present) | (set(INVENTORY_FACTS) if inventory else set())
    await bulk.run(conn, "; ".join(STAGING[t].create for t in FACT_TABLES if t in staged))
    for table in present:
        await bulk.stage(conn, STAGING[table], facts[table])
    plain = [STAGING[t].insert() for t in present if t not in INVENTORY_FACTS]
    if plain:
        await bulk.run(conn, "; ".join(plain))
    if not inventory:
        return Touched()
    rows = await bulk.fetch(conn, ADD_INVENTORY)
    return Touched(
        tuple(sorted((d, s) for d, s in rows if s is not None)),
        tuple(sorted(d for d, s in rows if s is None)),
    )


async def position_inputs(
    conn: AsyncConnection, touched: Touched, days_before: int
) -> list[PositionInputs]:
    """The touched positions and every position of a distributor whose as_of moved."""
    rows = await bulk.fetch(
        conn,
        POSITION_INPUTS,
        {
            "d": [d for d, _ in touched.positions],
            "s": [s for _, s in touched.positions],
            "moved": list(touched.moved),
            "back": days_before,
        },
    )
    return [PositionInputs(d, s, int(i), int(t), a, int(w)) for d, s, i, t, a, w in rows]


async def save_positions(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    """The computed columns of existing positions (their sums were added before)."""
    if rows:
        await bulk.run(conn, SAVE_POSITIONS, [[r[c] for r in rows] for c in POSITION_COLUMNS])


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
