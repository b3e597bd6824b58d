"""analytics' database: fact inserts, scorecard sums and inventory refresh (projection side),
and reads of the `bi` views (query side). Every write is one set-based statement per table and
batch, with statement texts built once at import."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from channelstream_common.db import reading
from sqlalchemy import Table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from analytics.adapters import bulk
from analytics.adapters.tables import (
    FACT_TABLES,
    rebate_accruals,
    sell_in_shipments,
    sell_through_lines,
)
from analytics.domain.inventory import InventoryChange
from analytics.domain.sales import Accrual, Sale, ScorecardChange

Row = dict[str, Any]
FactRow = tuple[Any, ...]  # in the order of its table's columns

FACTS = {t: bulk.FactTable.of(t) for t in FACT_TABLES}
COUNTED_FACTS = (sell_through_lines, sell_in_shipments, rebate_accruals)  # new rows add to sums
_LINES, _SHIPMENTS = FACTS[sell_through_lines], FACTS[sell_in_shipments]
_ACCRUALS = FACTS[rebate_accruals]
LINE_UNITS = ("distributor_id", "sku", "quantity", "sold_on")
LINE_SALE = ("distributor_id", "reseller_id", "quantity", "unit_price", "sold_on", "deal_id")
SHIPMENT_UNITS = ("distributor_id", "sku", "quantity")
ACCRUAL_AMOUNT = ("partner_id", "period", "amount")
_line_units = itemgetter(*(_LINES.index(c) for c in LINE_UNITS))
_line_sale = itemgetter(*(_LINES.index(c) for c in LINE_SALE))
_shipment_units = itemgetter(*(_SHIPMENTS.index(c) for c in SHIPMENT_UNITS))
_accrual_amount = itemgetter(*(_ACCRUALS.index(c) for c in ACCRUAL_AMOUNT))

# Units of new facts, aggregated per batch, added to the daily buckets, to the positions' sums
# and to the distributors' last day (as_of). Returns the distributors whose as_of moved: all of
# their positions have a new window.
ADD_INVENTORY = """
with daily as (
    insert into sell_through_daily (distributor_id, sku, sold_on, units)
    select * from unnest(%b::text[], %b::text[], %b::date[], %b::bigint[])
    on conflict (distributor_id, sku, sold_on) do update
        set units = sell_through_daily.units + excluded.units
), sums as (
    insert into inventory_positions (distributor_id, sku, sell_in_units, sell_through_units,
        on_hand, units_in_window, avg_weekly_units, loading_flag)
    select d, s, i, t, 0, 0, 0, false
    from unnest(%b::text[], %b::text[], %b::bigint[], %b::bigint[]) as x(d, s, i, t)
    on conflict (distributor_id, sku) do update set
        sell_in_units = inventory_positions.sell_in_units + excluded.sell_in_units,
        sell_through_units = inventory_positions.sell_through_units + excluded.sell_through_units
)
insert into distributor_as_of (distributor_id, as_of)
select * from unnest(%b::text[], %b::date[])
on conflict (distributor_id) do update set as_of = excluded.as_of
    where distributor_as_of.as_of < excluded.as_of
returning distributor_id
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
# A batch's sums per distributor x reseller x quarter, (deal, reseller) pairs and rebates per
# partner x quarter, added to what is there (bi.scorecard_quarterly reads these).
ADD_SCORECARD_SUMS = """
with sales as (
    insert into reseller_quarter_sales (distributor_id, reseller_id, quarter, units, revenue,
        lines)
    select * from unnest(%b::text[], %b::text[], %b::text[], %b::bigint[], %b::numeric[],
                         %b::bigint[])
    on conflict (distributor_id, quarter, reseller_id) do update set
        units = reseller_quarter_sales.units + excluded.units,
        revenue = reseller_quarter_sales.revenue + excluded.revenue,
        lines = reseller_quarter_sales.lines + excluded.lines
), conversions as (
    insert into deal_conversions (deal_id, reseller_id)
    select * from unnest(%b::text[], %b::text[])
    on conflict do nothing
)
insert into partner_quarter_rebates (partner_id, quarter, amount)
select * from unnest(%b::text[], %b::text[], %b::numeric[])
on conflict (partner_id, quarter) do update
    set amount = partner_quarter_rebates.amount + excluded.amount
"""
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


@dataclass(frozen=True)
class NewFacts:
    """What the lines, shipments and accruals that were not in their tables before carry."""

    lines: list[tuple[str, str, int, date]]
    shipments: list[tuple[str, str, int]]
    sales: list[Sale]
    accruals: list[Accrual]

    @classmethod
    def of(cls, rows: Mapping[Table, Sequence[FactRow]]) -> NewFacts:
        lines = rows.get(sell_through_lines, ())
        return cls(
            list(map(_line_units, lines)),
            list(map(_shipment_units, rows.get(sell_in_shipments, ()))),
            list(map(_line_sale, lines)),
            list(map(_accrual_amount, rows.get(rebate_accruals, ()))),
        )


async def insert_facts(conn: AsyncConnection, facts: Mapping[Table, Sequence[FactRow]]) -> NewFacts:
    """Insert every table's rows, skipping rows whose natural key is already there.

    Normally every row is new (a redelivery at the same offset never reaches the handler): each
    table's rows are copied straight in, under a savepoint. Only when a key is there already (an
    event re-sent at a new offset) is that undone and the batch staged and inserted skipping
    what is known."""
    present = [t for t in FACT_TABLES if facts.get(t)]
    if not present:
        return NewFacts.of({})
    await bulk.run(conn, "savepoint facts")
    try:
        for table in present:
            await bulk.copy(conn, FACTS[table].copy, FACTS[table].types, facts[table])
    except IntegrityError as exc:
        if not bulk.is_unique_violation(exc):
            raise
        await bulk.run(conn, "rollback to savepoint facts")
        return await _insert_skipping_known(conn, facts, present)
    return NewFacts.of(facts)


async def _insert_skipping_known(
    conn: AsyncConnection, facts: Mapping[Table, Sequence[FactRow]], present: Sequence[Table]
) -> NewFacts:
    await bulk.run(conn, "; ".join(FACTS[t].create_staged for t in present))
    for table in present:
        await bulk.copy(conn, FACTS[table].copy_staged, FACTS[table].types, facts[table])
    plain = [FACTS[t].insert_staged() for t in present if t not in COUNTED_FACTS]
    if plain:
        await bulk.run(conn, "; ".join(plain))
    new: dict[Table, Sequence[FactRow]] = {}
    for table in (t for t in present if t in COUNTED_FACTS):
        fact = FACTS[table]  # the new rows come back whole, in column order
        new[table] = await bulk.fetch(conn, fact.insert_staged(fact.columns))
    return NewFacts.of(new)


async def add_inventory(conn: AsyncConnection, change: InventoryChange) -> Touched:
    """Add a batch's units to buckets, sums and as_of, in one statement."""
    daily = sorted(change.daily.items())
    positions = change.positions
    latest = sorted(change.latest.items())
    moved = await bulk.fetch(
        conn,
        ADD_INVENTORY,
        (
            [d for (d, _, _), _ in daily],
            [s for (_, s, _), _ in daily],
            [day for (_, _, day), _ in daily],
            [units for _, units in daily],
            [d for d, _ in positions],
            [s for _, s in positions],
            [change.sell_in.get(k, 0) for k in positions],
            [change.sell_through.get(k, 0) for k in positions],
            [d for d, _ in latest],
            [day for _, day in latest],
        ),
    )
    return Touched(tuple(positions), tuple(sorted(d for (d,) in moved)))


async def add_scorecard_sums(conn: AsyncConnection, change: ScorecardChange) -> None:
    """Add a batch's sums, conversions and rebates, in one statement (keys in order)."""
    sales = sorted(change.sales.items(), key=itemgetter(0))
    conversions = sorted(change.conversions)
    rebates = sorted(change.rebates.items())
    await bulk.run(
        conn,
        ADD_SCORECARD_SUMS,
        (
            [d for (d, _, _), _ in sales],
            [r for (_, r, _), _ in sales],
            [q for (_, _, q), _ in sales],
            [s.units for _, s in sales],
            [s.revenue for _, s in sales],
            [s.lines for _, s in sales],
            [deal for deal, _ in conversions],
            [r for _, r in conversions],
            [p for (p, _), _ in rebates],
            [q for (_, q), _ in rebates],
            [amount for _, amount in rebates],
        ),
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
        async with reading(self.engine) as conn:
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
