"""Sums per distributor x reseller x quarter, (deal, reseller) pairs named by lines, and rebates
per partner x quarter, kept by the facts projection in the same transaction as the facts, so
bi.scorecard_quarterly reads them instead of aggregating every line and accrual on each query.
Filled from the facts already there. The view keeps its columns, types and order (the bi
contract); its values are unchanged.

The view needs lines' days only at quarter granularity (date_trunc('quarter', ...) of the first
and last day), so the quarters stand in for min/max(sold_on) and min/max(quarter_start(period)).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Every batch updates hundreds of these rows, never an indexed column: room on each page keeps
# the updates heap-only (no index entries), about a third of the statement's time.
TABLES = [
    """create table reseller_quarter_sales (
        distributor_id text not null,
        quarter text not null,
        reseller_id text not null,
        units bigint not null,
        revenue numeric not null,
        lines bigint not null,
        primary key (distributor_id, quarter, reseller_id)
    ) with (fillfactor = 50)""",
    "create index reseller_quarter_sales_reseller on reseller_quarter_sales (reseller_id, quarter)",
    "create index reseller_quarter_sales_quarter on reseller_quarter_sales (quarter)",
    """create table deal_conversions (
        deal_id text not null,
        reseller_id text not null,
        primary key (deal_id, reseller_id)
    )""",
    """create table partner_quarter_rebates (
        partner_id text not null,
        quarter text not null,
        amount numeric not null,
        primary key (partner_id, quarter)
    )""",
]

BACKFILL = [
    """insert into reseller_quarter_sales
    select distributor_id, bi.quarter_of(sold_on), reseller_id, sum(quantity),
           sum(quantity * unit_price), count(*)
    from sell_through_lines group by 1, 2, 3""",
    """insert into deal_conversions
    select distinct deal_id, reseller_id from sell_through_lines where deal_id is not null""",
    """insert into partner_quarter_rebates
    select partner_id, period, sum(amount) from rebate_accruals group by 1, 2""",
]

# Per partner, its first day is a handful of index probes (a min over an index prefix) instead of
# a group-by over whole tables; per quarter, the sums of that quarter's rows only.
SCORECARD_VIEW = """create or replace view bi.scorecard_quarterly as
    with last_day as (
        select greatest(
            (select max(enrolled_on) from partners),
            (select bi.quarter_start(max(quarter)) from reseller_quarter_sales),
            (select max(shipped_on) from sell_in_shipments),
            (select max(registered_on) from deals),
            (select max(coalesce(registered_on, occurred_on)) from deal_rejections),
            (select bi.quarter_start(max(quarter)) from partner_quarter_rebates)
        ) as day
    ),
    grid as (
        select p.partner_id, p.legal_name, p.partner_type,
               case when p.partner_type = 'DISTRIBUTOR' then 'distributor' else 'reseller' end
                   as scorecard_type,
               p.tier, p.parent_distributor_id, p.enrolled_on,
               bi.quarter_of(q.start::date) as quarter, q.start::date as quarter_start,
               (q.start + interval '3 months' - interval '1 day')::date as quarter_end
        from partners p
        cross join lateral (select least(
            p.enrolled_on,
            (select bi.quarter_start(min(quarter)) from reseller_quarter_sales
             where distributor_id = p.partner_id),
            (select bi.quarter_start(min(quarter)) from reseller_quarter_sales
             where reseller_id = p.partner_id),
            (select min(shipped_on) from sell_in_shipments where distributor_id = p.partner_id),
            (select min(registered_on) from deals where partner_id = p.partner_id),
            (select min(coalesce(registered_on, occurred_on)) from deal_rejections
             where partner_id = p.partner_id),
            (select bi.quarter_start(min(quarter)) from partner_quarter_rebates
             where partner_id = p.partner_id)
        ) as day) f
        cross join last_day l
        cross join lateral generate_series(
            date_trunc('quarter', f.day::timestamp), date_trunc('quarter', l.day::timestamp),
            interval '3 months') as q(start)
    ),
    through_d as (
        select distributor_id as partner_id, quarter, sum(revenue) as revenue,
               sum(units) as units, count(*) filter (where units > 0) as active
        from reseller_quarter_sales group by 1, 2
    ),
    through_r as (
        select reseller_id as partner_id, quarter, sum(revenue) as revenue, sum(units) as units,
               sum(lines) as lines
        from reseller_quarter_sales group by 1, 2
    ),
    sell_in as (
        select distributor_id as partner_id, bi.quarter_of(shipped_on) as quarter,
               sum(quantity * unit_cost) as revenue
        from sell_in_shipments group by 1, 2
    ),
    recruited as (
        select parent_distributor_id as partner_id, bi.quarter_of(enrolled_on) as quarter,
               count(*) as resellers
        from partners where parent_distributor_id is not null group by 1, 2
    ),
    loading as (
        select distributor_id as partner_id, count(*) filter (where loading_flag) as skus
        from inventory_positions group by 1
    ),
    registered as (
        select partner_id, bi.quarter_of(registered_on) as quarter, count(*) as deals,
               count(*) filter (where exists (
                   select 1 from deal_conversions c
                   where c.deal_id = d.deal_id and c.reseller_id = d.partner_id)) as converted
        from deals d group by 1, 2
    ),
    rejected as (
        select partner_id, bi.quarter_of(coalesce(registered_on, occurred_on)) as quarter,
               count(*) as deals
        from deal_rejections group by 1, 2
    )
    select g.partner_id, g.legal_name, g.partner_type, g.scorecard_type, g.tier,
           g.parent_distributor_id, g.enrolled_on, g.quarter, g.quarter_start, g.quarter_end,
           case when g.scorecard_type = 'distributor'
                then bi.round_half_even(coalesce(si.revenue, 0), 2) end as sell_in_revenue,
           bi.round_half_even(coalesce(case when g.scorecard_type = 'distributor'
                then td.revenue else tr.revenue end, 0), 2) as sell_through_revenue,
           coalesce(case when g.scorecard_type = 'distributor'
                then td.units else tr.units end, 0)::bigint as sell_through_units,
           case when g.scorecard_type = 'distributor' and coalesce(si.revenue, 0) <> 0
                then bi.round_half_even(coalesce(td.revenue, 0) / si.revenue, 4)
           end as sell_through_to_sell_in,
           case when g.scorecard_type = 'distributor'
                then coalesce(td.active, 0)::integer end as active_resellers,
           case when g.scorecard_type = 'distributor'
                then coalesce(rc.resellers, 0)::integer end as new_resellers,
           coalesce(rb.amount, 0)::numeric(18, 2) as rebate_accrued,
           case when g.scorecard_type = 'distributor'
                then coalesce(ld.skus, 0)::integer end as loading_skus,
           case when g.scorecard_type = 'reseller'
                then coalesce(rg.deals, 0)::integer end as deals_registered,
           case when g.scorecard_type = 'reseller'
                then coalesce(rj.deals, 0)::integer end as deals_rejected,
           case when g.scorecard_type = 'reseller'
                then coalesce(rg.converted, 0)::integer end as deals_converted,
           case when g.scorecard_type = 'reseller'
                then g.enrolled_on < g.quarter_start
                     and coalesce(tr.lines, 0) = 0 and coalesce(rg.deals, 0) = 0
           end as dark
    from grid g
    left join through_d td on td.partner_id = g.partner_id and td.quarter = g.quarter
    left join through_r tr on tr.partner_id = g.partner_id and tr.quarter = g.quarter
    left join sell_in si on si.partner_id = g.partner_id and si.quarter = g.quarter
    left join recruited rc on rc.partner_id = g.partner_id and rc.quarter = g.quarter
    left join partner_quarter_rebates rb on rb.partner_id = g.partner_id and rb.quarter = g.quarter
    left join loading ld on ld.partner_id = g.partner_id
    left join registered rg on rg.partner_id = g.partner_id and rg.quarter = g.quarter
    left join rejected rj on rj.partner_id = g.partner_id and rj.quarter = g.quarter"""


def initial_scorecard_view() -> str:
    """0001's definition, from 0001 itself (migrations are history: one copy of each text)."""
    spec = importlib.util.spec_from_file_location(
        "analytics_migration_0001", Path(__file__).with_name("0001_initial.py")
    )
    assert spec is not None and spec.loader is not None
    initial = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(initial)
    (view,) = (v for v in initial.VIEWS if v.startswith("create view bi.scorecard_quarterly"))
    return str(view)


def upgrade() -> None:
    for statement in TABLES + BACKFILL:
        op.execute(statement)
    op.execute(SCORECARD_VIEW)


def downgrade() -> None:
    op.execute(initial_scorecard_view().replace("create view", "create or replace view", 1))
    for table in ("partner_quarter_rebates", "deal_conversions", "reseller_quarter_sales"):
        op.execute(f"drop table {table}")
